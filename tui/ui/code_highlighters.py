"""Code highlighters: which languages can be highlighted at once, and building the others,
one at a time whichever thread asks, in a thread when the event loop asks.

Pygments compiles a language's rules the first time it highlights it: 25-65 ms, 130 ms
for a fence with no language (its guesser loads every lexer). A stored reply's code in a
language not built yet is drawn plain at first (`MarkdownLook.highlight_unbuilt`), and
its highlighter built by `highlighters_built`, off the loop's thread: built on the loop,
after the frame that drew the code plain, it held every key and scroll behind it (the
first scroll back through a resumed conversation stalled 105-151 ms, 56-81 ms since).
Several replies often need the same language at once (a batch of earlier turns mounted
together): each language is built once, and every reply waiting for it is told.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from functools import partial
from weakref import WeakKeyDictionary

from textual.content import Content

_built: set[str] = set()
"""Languages this process can highlight at once ("" is the guesser, for fences without
one)."""

_first_compile = threading.Lock()
"""Held while a language's highlighter is built for the first time, by whichever thread
(the warm-up's, a build for a stored reply, the loop's own for a streaming one): Pygments
numbers a lexer's states in a class attribute as it compiles them, so two threads
compiling one lexer at once can leave it a wrong table for good."""

_building: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future[None]]] = (
    WeakKeyDictionary()
)
"""Per event loop (tests run many), the builds under way in threads, by language."""


def build_highlighters(languages: Iterable[str]) -> None:
    """Builds the highlighters of `languages` ahead of the code that needs them."""
    for language in languages:
        if language not in _built:
            with _first_compile:
                if language not in _built:
                    highlight("x = 1\n", language, ansi=False, dark=False)
                    _built.add(language)


async def highlighters_built(languages: Iterable[str]) -> None:
    """Returns once every one of `languages` can be highlighted, each built in a thread
    unless it is built, or being built, already."""
    loop = asyncio.get_running_loop()
    building = _building.setdefault(loop, {})
    waits: list[asyncio.Future[None]] = []
    for language in sorted(set(languages)):
        if language in _built:
            continue
        build = building.get(language)
        if build is None:
            build = loop.run_in_executor(None, build_highlighters, [language])
            building[language] = build
            build.add_done_callback(partial(building.pop, language))  # (pop(language, build))
        waits.append(build)
    for build in waits:
        # Shielded: a reply that goes (unmounted, its worker cancelled) must not cancel
        # the build another reply waits for.
        await asyncio.shield(build)
    if _first_compile.locked():  # (drawn plain because another thread compiled meanwhile)
        await loop.run_in_executor(None, _once_no_compile_runs)


def _once_no_compile_runs() -> None:
    with _first_compile:
        pass


def highlighted_now(
    code: str, language: str, *, ansi: bool, dark: bool, build: bool
) -> Content | None:
    """`code` highlighted, on the event loop's thread; None when it must be drawn plain
    for now: its highlighter is not built and `build` is False, or another thread holds
    the first-compile lock (the loop never waits for it: the warm-up may hold it for
    0.3 s). A fence with no language is guessed anew each time, and the guess may compile
    a lexer, so it takes the lock too."""
    if language and language in _built:
        return highlight(code, language, ansi=ansi, dark=dark)
    if not build and language not in _built:
        return None
    if not _first_compile.acquire(blocking=False):
        return None
    try:
        highlighted = highlight(code, language, ansi=ansi, dark=dark)
        _built.add(language)
        return highlighted
    finally:
        _first_compile.release()


def load_fence_highlighter() -> None:
    """Loads Textual's Markdown widget module (with Pygments), whose fence highlighter
    `highlight` uses: 25 ms, not spent before the first frame (stored code is drawn
    plain there anyway), but by the warm-up thread after it."""
    import textual.widgets.markdown  # noqa: F401


def highlight(code: str, language: str, *, ansi: bool, dark: bool) -> Content:
    """Textual's own fence highlighter (its module loaded on first use, if the warm-up
    has not loaded it yet)."""
    from textual.widgets.markdown import MarkdownFence

    return MarkdownFence.highlight(code, language, ansi=ansi, dark=dark)

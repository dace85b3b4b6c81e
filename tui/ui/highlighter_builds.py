"""Code highlighters built in a thread, for the code of a stored reply drawn plain at first.

Pygments compiles a language's rules the first time it highlights it: 25-65 ms, 130 ms
for a fence with no language (its guesser loads every lexer). Built on the event loop,
after the frame that drew the code plain, that held every key and scroll behind it: the
first scroll back through a resumed conversation stalled 90-130 ms where a code block
came into view. In a thread the build takes turns with the loop at Python's lock instead,
as the warm-up's own builds do (`tui.ui.warm_up`).

Several replies often need the same language at once (a batch of earlier turns mounted
together): each language is built once, and every reply waiting for it is told.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import partial
from weakref import WeakKeyDictionary

from tui.ui.markdown_lines import build_highlighters, highlighter_is_built

_building: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future[None]]] = (
    WeakKeyDictionary()
)
"""Per event loop (tests run many), the builds under way, by language."""


async def highlighters_built(languages: Iterable[str]) -> None:
    """Returns once every one of `languages` can be highlighted, each built off the loop's
    thread unless it is built, or being built, already."""
    loop = asyncio.get_running_loop()
    building = _building.setdefault(loop, {})
    waits: list[asyncio.Future[None]] = []
    for language in sorted(set(languages)):
        if highlighter_is_built(language):
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

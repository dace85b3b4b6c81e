"""Garbage-collector settings for a process that draws a frame every fraction of a second.

Every Textual frame allocates tens of thousands of short-lived objects, some in reference
cycles (strips and their caches, widgets a Markdown append builds and throws away). With
CPython's default thresholds (700, 10, 10) those cycles reach the oldest generation, and
while a reply streams a full collection ran every 0.5 to 1 s, each scanning the whole heap
(Textual, openai, every message on screen): 13 ms at the start of an 8,000-token reply,
166 ms at its end, stalls the user sees. Measured in tmux at 1,000 tok/s, collecting less
often while a reply streams took the reply's CPU from 4.3-5.0 s to 4.1 s and its render
lag from 0.24 s to 0.12 s.

Only while a reply streams, though: kept on while scrolling a long conversation (whose
unmounted messages are old, cyclic garbage that only a full collection frees) the same
thresholds took RSS from 141 MB to 395 MB.

In the app, a full collection runs in a turn of the event loop of its own, at the first
idle moment once one is due, instead of inside whatever allocated last: most often a frame
that mounted earlier turns, already the heaviest kind. Holding Up over 2,000 messages,
full collections took 33-44 ms each (the unmounted turns' cycles), and one inside such a
frame made the longest stall; run right after the frame, the pair still was.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio  # (the command line loads this module before asyncio is needed)

STREAMING_THRESHOLDS = (50_000, 20)
"""About a frame's worth of allocations between young collections, so a frame's
temporaries die before a collection instead of being promoted and found dead later.
(The third threshold, of full collections, stays as it is.)"""
FULL_COLLECTION_DUE = 10
"""Collections of the middle generation between full ones: CPython's default cadence."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """While a reply streams: collect rarely, in bigger and cheaper batches."""
    before = gc.get_threshold()
    gc.set_threshold(*STREAMING_THRESHOLDS, before[2])
    try:
        yield
    finally:  # the third as it is now: the app may have set or restored it meanwhile
        gc.set_threshold(before[0], before[1], gc.get_threshold()[2])


@contextmanager
def collection_paused() -> Iterator[None]:
    """While a store builds a conversation's tree at once: everything it makes lives on,
    so each collection meanwhile only rescans it (reading 20,000 messages took 25-40 ms
    longer with collection on). Process-wide, as collection is, and so held only across
    code that never yields to the event loop (a read in steps, run between the loop's
    turns, is not paused: the app's own frames would go uncollected meanwhile)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect_nothing_until_started() -> None:
    """Start-up (imports, the stylesheet, the first screenful) makes few cycles and many
    objects that live for good: collecting while it runs only rescans them (a resumed
    conversation showed 25-30 ms later). `start_up_is_over` turns collection back on."""
    gc.disable()


def collect_again_after_start_up() -> None:
    """Collection back on, for what is not the app (pipe mode, the history and config
    commands), if start-up turned it off (`tui.launch`): what start-up made lives on, so it
    is moved out of the collector's sight first. Where it was never off (tests, a library
    caller), nothing changes."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def start_up_is_over() -> None:
    """Moves every object alive now out of the collector's sight and turns collection
    back on, once the first frame is drawn: modules, the stylesheet and the first
    screenful never become garbage, so full collections stop rescanning them.

    Start-up's own leftover cycles are frozen with them, uncollected: collecting first
    held the event loop 58-74 ms (102 ms with 20,000 messages) under a user's first keys,
    to free about 9,000 objects, 1.4 MB of RSS. Collection stays off no longer than the
    first frame: the cycles of turns scrolled out of view would be frozen too.
    Collection that was never turned off (the app run by tests) collects first."""
    if gc.isenabled():
        gc.collect()
    gc.freeze()
    gc.enable()


def freeze_long_lived_objects() -> None:
    """Moves every object alive now out of the collector's sight, for what is made to
    last after start-up (the client library, the highlighters), once the young
    generations are collected. Not the old one: called in the warm-up thread just after
    launch, a full collection held the event loop 38-67 ms, twice, while the user's first
    keys came, to free 16-740 objects (the rest of start-up's garbage was frozen with the
    first frame, `start_up_is_over`)."""
    gc.collect(1)
    gc.freeze()
    gc.enable()


BUSY_POLL = 0.004
"""How often a due full collection looks again whether the loop is idle."""
LONGEST_POSTPONEMENT = 0.5
"""A due full collection waits no longer than this for an idle moment: keys held down
keep the app busy (at 0.15 s it often gave up and ran beside a frame), and the garbage
must still go (CPython would run one itself at twice the due count, a second or so on)."""


def full_collections_between_frames(
    loop: asyncio.AbstractEventLoop, busy: Callable[[], bool] = lambda: False
) -> Callable[[], None]:
    """From now on a due full collection is run by `loop` as a callback of its own (CPython
    would run it later, at twice the due count, if the loop could not). Returns the undo.

    Collections may start in any thread (the app's workers allocate too), so the
    collection is handed to the loop thread-safely, once until it has run. It then waits
    for a moment when the loop is idle: a short sleep ends on time and `busy()` (a frame to
    draw, a key to handle) says no; but no longer than `LONGEST_POSTPONEMENT`. Run in the
    turn right after a frame, it added its 20-40 ms to the frame's: holding Up over 20,000
    messages, such pairs were the longest stalls (58-113 ms). Unlike
    CPython's own, it does not first ask whether the oldest generation has grown by a
    quarter: reading the generations' sizes from inside a collection's callback
    (`gc.get_objects`) coincided with a `SystemError` from a tuple being resized."""
    before = gc.get_threshold()
    doubled = 2 * FULL_COLLECTION_DUE
    gc.set_threshold(before[0], before[1], doubled)
    scheduled = False
    pending: asyncio.TimerHandle | None = None

    def collect_fully(due_since: float, asked_at: float) -> None:
        nonlocal scheduled, pending
        pending = None
        try:
            now = loop.time()
            idle = now - asked_at < 2 * BUSY_POLL and not busy()  # the poll ended on time
            if not idle and now - due_since < LONGEST_POSTPONEMENT:
                pending = loop.call_later(BUSY_POLL, collect_fully, due_since, now)
                return
            if gc.get_count()[2] >= FULL_COLLECTION_DUE:  # unless CPython ran one meanwhile
                gc.collect()
        finally:
            if pending is None:
                scheduled = False

    def after_a_collection(phase: str, info: dict[str, int]) -> None:
        nonlocal scheduled
        if phase != "stop" or info["generation"] != 1 or scheduled:
            return
        if gc.get_count()[2] >= FULL_COLLECTION_DUE:
            scheduled = True
            with contextlib.suppress(RuntimeError):  # the loop has closed: CPython's turn
                loop.call_soon_threadsafe(poll_from_now)

    def poll_from_now() -> None:
        """In the loop's thread: the first poll, a `BUSY_POLL` from now."""
        nonlocal pending
        now = loop.time()
        pending = loop.call_later(BUSY_POLL, collect_fully, now, now)

    def undo() -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(after_a_collection)
        if pending is not None:
            pending.cancel()
        if gc.get_threshold()[2] == doubled:  # unless someone set it since
            gc.set_threshold(*gc.get_threshold()[:2], before[2])

    gc.callbacks.append(after_a_collection)
    return undo

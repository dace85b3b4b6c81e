"""A stored conversation read before the user opens it, a few milliseconds at a time
between the event loop's turns: the search hit that Enter would open. Reading 20,000
messages back takes about 0.2 s, most of the 0.3 s a search hit has to be on screen in;
read while the user types and looks at the hits, opening it takes no reading.

A conversation read ahead is used only if nothing at all was written to the history
since it was read (`Store.change_stamp`); otherwise it is read again, as without this.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from tui.chat.conversation import Conversation

if TYPE_CHECKING:
    from tui.store import Store


BUSY_POLL = 0.002
"""Seconds between two looks at whether the loop is still busy."""
LONGEST_WAIT = 0.05
"""A step waits no longer for the loop than this: a screen that is never idle (an
animation) must not keep a hit that Enter opens from being read."""


@dataclass(slots=True)
class _Read:
    conversation_id: int
    conversation: Conversation | None
    stamp: tuple[int, int]


class Prefetch:
    """At most one conversation read ahead, and one read under way, a step at a time
    between the event loop's turns (`Store.read_elsewhere`). A read no longer wanted
    (another hit wanted, the search closed, the app quitting) ends at its next step: its
    open snapshot would keep the history's write-ahead log from being checkpointed into
    the file on quit."""

    def __init__(self) -> None:
        self._wanted: int | None = None
        self._read: _Read | None = None
        self._task: asyncio.Task[None] | None = None
        self._reading: int | None = None
        """The conversation whose read is under way."""
        self._waited_for = False
        """The user waits for the read under way (Enter): its steps no longer wait."""
        self._closed = False
        self.busy: Callable[[], bool] = lambda: False
        """Whether the event loop has work waiting (a key, a frame to draw), as its
        owner judges: each step waits for it, up to `LONGEST_WAIT`."""

    def want(self, store: Store, conversation_id: int) -> None:
        """Reads `conversation_id` ahead, unless it is read or being read (a read of
        another one ends at its next step)."""
        if self._closed:
            return  # (quitting: a late search key must not start a read)
        self._wanted = conversation_id
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._read_wanted(store))

    async def _read_wanted(self, store: Store) -> None:
        while (wanted := self._wanted) is not None:
            held = self._read
            if (
                held is not None
                and held.conversation_id == wanted
                and (held.conversation is not None or _unchanged_since(store, held.stamp))
            ):
                return  # (one that found nothing or failed: until anything is written)
            self._read = None  # one conversation held at a time
            self._reading = wanted
            try:
                read = await self._read_while_wanted(store, wanted)
            finally:
                self._reading = None
            if read is not None and self._wanted == wanted:
                self._read = read

    async def _read_while_wanted(self, store: Store, wanted: int) -> _Read | None:
        """Reads `wanted` a step at a time while it is still the one wanted (ended sooner:
        None). Before each step the loop has its turn, and more while it is busy: a step
        beside each hop of a key's handling held the typing up (the longest stall while
        typing over 20,000 messages: 45-60 ms, 38-49 ms once steps waited). A read that
        fails is kept as one that found nothing: opening it reads it again, and says why."""
        stamp = (0, 0)
        steps: Generator[None, None, Conversation | None] | None = None
        try:
            while await self._loop_had_its_turn(wanted):
                if steps is None:  # the stamp just before the snapshot: a write since spoils it
                    stamp = store.change_stamp()
                    steps = store.read_elsewhere(wanted)
                try:
                    next(steps)
                except StopIteration as end:
                    return _Read(wanted, cast(Conversation | None, end.value), stamp)
                await asyncio.sleep(0)
            return None
        except Exception:  # (a damaged row, a lock)
            return _Read(wanted, None, stamp)
        finally:
            if steps is not None:
                steps.close()  # (ended midway: its snapshot too)

    async def _loop_had_its_turn(self, wanted: int) -> bool:
        """Waits while the loop is busy, up to `LONGEST_WAIT` (not once Enter waits for
        the read); whether `wanted` is still the one wanted."""
        waited_until = time.monotonic() + LONGEST_WAIT
        while (
            self._wanted == wanted
            and not self._waited_for
            and self.busy()
            and time.monotonic() < waited_until
        ):
            await asyncio.sleep(BUSY_POLL)
        return self._wanted == wanted

    async def take(self, store: Store, conversation_id: int) -> Conversation | None:
        """The conversation as read ahead (waiting for its read under way, which then
        runs without waiting for the loop; any other read is ended), if nothing was
        written to the history since; None if it has to be read now."""
        if self._wanted == conversation_id:  # (a read of another one ends at its next step)
            self._waited_for = True
            try:
                await self.settled()
            finally:
                self._waited_for = False
        read = self._read
        self.drop()
        if read is None or read.conversation_id != conversation_id:
            return None
        return read.conversation if store.change_stamp() == read.stamp else None

    @property
    def held(self) -> int | None:
        """The id of the conversation read ahead, if one is."""
        return None if self._read is None else self._read.conversation_id

    @property
    def reading(self) -> int | None:
        """The id of the conversation whose read is under way, if one is."""
        return self._reading

    async def settled(self) -> None:
        """Waits for the reads under way to end (however they end)."""
        if self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def drop(self) -> None:
        """Nothing is read ahead any more, and a read under way ends at its next step."""
        self._wanted = self._read = None

    def close(self) -> None:
        """`drop`, and nothing is read ahead from now on (the app is quitting)."""
        self._closed = True
        self.drop()


def _unchanged_since(store: Store, stamp: tuple[int, int]) -> bool:
    """Whether nothing was written to the history since `stamp` (False if it cannot say)."""
    try:
        return store.change_stamp() == stamp
    except sqlite3.Error:
        return False

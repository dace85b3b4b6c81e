"""A stored conversation read before the user opens it, a few milliseconds at a time
between the event loop's turns: the search hit that Enter would open. Reading 20,000
messages back takes about 0.2 s, most of the 0.3 s a search hit has to be on screen in;
read while the user types and looks at the hits, opening it takes no reading.

A conversation read ahead is used only if nothing at all was written to the history
since it was read (`Store.change_stamp`); otherwise it is read again, as without this.
"""

from __future__ import annotations

import asyncio
import contextlib
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
            if self._read is not None and self._read.conversation_id == wanted:
                return
            self._read = None  # one conversation held at a time
            self._reading = wanted
            stamp = (0, 0)
            try:
                stamp = store.change_stamp()  # before the read: a write meanwhile spoils it
                conversation = await self._steps_while_wanted(store.read_elsewhere(wanted), wanted)
            except Exception:  # (a damaged row, a lock: opening it reads it again, says so)
                conversation = None  # and kept as read: not read again at every key
            finally:
                self._reading = None
            if self._wanted == wanted:  # (else it was ended: the one wanted now is next)
                self._read = _Read(wanted, conversation, stamp)

    async def _steps_while_wanted(
        self, steps: Generator[None, None, Conversation | None], wanted: int
    ) -> Conversation | None:
        """Runs a read's steps while `wanted` is still the one wanted (ended sooner, it is
        closed: None). Before each step the loop has its turn, and more while it is busy:
        a step beside each hop of a key's handling held the typing up (the longest stall
        while typing over 20,000 messages: 45-60 ms, 38-49 ms once steps waited)."""
        with contextlib.closing(steps):
            while self._wanted == wanted:
                waited_until = time.monotonic() + LONGEST_WAIT
                while (
                    self._wanted == wanted
                    and not self._waited_for
                    and self.busy()
                    and time.monotonic() < waited_until
                ):
                    await asyncio.sleep(BUSY_POLL)
                if self._wanted != wanted:
                    break
                try:
                    next(steps)
                except StopIteration as end:
                    return cast(Conversation | None, end.value)
                await asyncio.sleep(0)
        return None

    async def take(self, store: Store, conversation_id: int) -> Conversation | None:
        """The conversation as read ahead (waiting for its read under way, which then
        runs without waiting for the loop; any other read is ended), if nothing was
        written to the history since; None if it has to be read now."""
        if self._wanted == conversation_id:  # (a read of another one ends at its next step)
            self._waited_for = True
            await self.settled()
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
        self._waited_for = False

    def close(self) -> None:
        """`drop`, and nothing is read ahead from now on (the app is quitting)."""
        self._closed = True
        self.drop()

"""A stored conversation read in a thread before the user opens it: the search hit that
Enter would open. Reading 20,000 messages back takes 0.2-0.26 s, most of the 0.3 s a
search hit has to be on screen in; read while the user looks at the hits, opening it
takes no reading.

A conversation read ahead is used only if nothing at all was written to the history
since it was read (`Store.change_stamp`); otherwise it is read again, as without this.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.chat.conversation import Conversation

if TYPE_CHECKING:
    from tui.store import Store


@dataclass(slots=True)
class _Read:
    conversation_id: int
    conversation: Conversation | None
    stamp: tuple[int, int]


class Prefetch:
    """At most one conversation read ahead, and one read under way: the hit wanted last
    is read once the read under way ends (a thread cannot be stopped half-way)."""

    def __init__(self) -> None:
        self._wanted: int | None = None
        self._read: _Read | None = None
        self._task: asyncio.Task[None] | None = None

    def want(self, store: Store, conversation_id: int) -> None:
        """Reads `conversation_id` ahead (in a thread), unless it is read or being read."""
        self._wanted = conversation_id
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._reading(store))

    async def _reading(self, store: Store) -> None:
        while (wanted := self._wanted) is not None:
            if self._read is not None and self._read.conversation_id == wanted:
                return
            self._read = None  # one conversation held at a time
            stamp = store.change_stamp()  # before the read: a write meanwhile spoils it
            try:
                conversation = await asyncio.to_thread(store.read_elsewhere, wanted)
            except sqlite3.Error:
                return  # opening it reads it again, and says what is wrong
            if self._wanted == wanted:
                self._read = _Read(wanted, conversation, stamp)

    async def take(self, store: Store, conversation_id: int) -> Conversation | None:
        """The conversation as read ahead (waiting for a read of it under way), if nothing
        was written to the history since; None if it has to be read now."""
        if self._wanted == conversation_id:
            await self.settled()
        read, self._read, self._wanted = self._read, None, None
        if read is None or read.conversation_id != conversation_id:
            return None
        return read.conversation if store.change_stamp() == read.stamp else None

    @property
    def held(self) -> int | None:
        """The id of the conversation read ahead, if one is."""
        return None if self._read is None else self._read.conversation_id

    async def settled(self) -> None:
        """Waits for the reads under way to end (however they end)."""
        if self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def drop(self) -> None:
        """Nothing is read ahead any more (the search closed without opening a hit)."""
        self._wanted = self._read = None
        if self._task is not None and not self._task.done():
            self._task.cancel()  # (its thread finishes its read, which is then let go)

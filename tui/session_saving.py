"""Keeps the history file in step with a session's conversations, and never gives up.

Writes are small and made at once. When one fails (a full disk, a lock held by another
process, a folder turned read-only, or a history that could not even be opened at start),
nothing is dropped: the conversation is held in memory, every later change to it too, and
a background task writes it whole once the store can take it again, retrying with backoff.
Observers are told when changes are waiting and when they have landed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.chat.conversation import Conversation
from tui.chat.message import Message, Role
from tui.chat.session_events import SaveStateChanged, SessionEvent
from tui.store_file import describe_trouble

if TYPE_CHECKING:  # pipe mode, with no history, never loads the store's modules
    from tui.store import Store

FIRST_RETRY = 0.5
LONGEST_RETRY = 15.0
LONG_WRITE = 64 * 1024


class Saver:
    def __init__(
        self,
        store: Store | None,
        endpoint: str,
        emit: Callable[[SessionEvent], None],
        *,
        reopen: Callable[[], Store] | None = None,
    ) -> None:
        self.store = store
        self.endpoint = endpoint
        self._emit = emit
        self._reopen = reopen
        """Opens the store when it could not be opened at start-up; None when history is
        off by choice (pipe mode): then nothing is kept for later."""
        self.held: list[Conversation] = []
        """Conversations with changes that are not in the file yet."""
        self._deleted_messages: list[tuple[Message, list[Message]]] = []
        """Deleted messages (with the children that moved up) still in the file: kept as
        objects, since an id may only be given by a write still in flight."""
        self._renamed: dict[int, str] = {}
        """Titles of other conversations (renamed from the list) not in the file yet."""
        self._deleted_conversations: list[int] = []
        self._gone: set[int] = set()
        """Ids of conversations deleted here: nothing of theirs is held or written again."""
        self._generation = 0
        self._retrying: asyncio.Task[None] | None = None
        self._announced = False
        self.reason: str | None = None

    @property
    def enabled(self) -> bool:
        return self.store is not None or self._reopen is not None

    @property
    def unsaved(self) -> bool:
        return bool(
            self.held or self._deleted_messages or self._deleted_conversations or self._renamed
        )

    # Writing ---------------------------------------------------------------------------

    def write(self, conversation: Conversation, write: Callable[[Store], object]) -> None:
        """Runs one write for `conversation`; if it fails, or earlier changes still wait,
        the conversation is held and written whole later."""
        if not self.enabled or conversation.id in self._gone:
            return
        if self.store is None or conversation in self.held:
            self._hold(conversation)
            return
        try:
            write(self.store)
        except (sqlite3.Error, OverflowError) as error:
            self._hold(conversation, error)

    def rename_other(self, conversation_id: int, title: str) -> None:
        """Renames a conversation that is not open (from the list)."""
        if not self.enabled or conversation_id in self._gone:
            return
        try:
            if self.store is None or self.unsaved:
                raise sqlite3.OperationalError("earlier changes are still waiting")
            self.store.save_details(conversation_id, title=title)
        except (sqlite3.Error, OverflowError) as error:
            self._renamed[conversation_id] = title
            self._hold(None, error)

    def message(self, conversation: Conversation, message: Message) -> None:
        """Writes a message (and the conversation, the first time)."""
        self.write(conversation, lambda store: self._save_message(store, conversation, message))

    async def message_off_the_loop(self, conversation: Conversation, message: Message) -> None:
        """Like `message`, but a long one (a pasted log) is written in a worker thread:
        indexing megabytes for search held the event loop for seconds."""
        store = self.store
        if store is None or conversation in self.held or len(message.content) < LONG_WRITE:
            self.message(conversation, message)
            return
        try:
            await asyncio.to_thread(self._save_message, store, conversation, message)
        except (sqlite3.Error, OverflowError) as error:
            self._hold(conversation, error)

    def _save_message(self, store: Store, conversation: Conversation, message: Message) -> None:
        if conversation.id is None:
            store.save_conversation(conversation, self.endpoint)
        store.save_message(conversation, message)

    async def final(self, conversation: Conversation, reply: Message) -> None:
        """A reply's last save joins its pieces: for a long reply that takes a while, so
        it runs in a worker thread, off the event loop. Then the WAL is checkpointed."""
        store = self.store
        if store is None or conversation in self.held or conversation.id is None:
            self.message(conversation, reply)
            return
        if reply.id is None or not store.needs_long_write(reply):
            self.message(conversation, reply)
        else:
            try:
                await asyncio.to_thread(store.save_message, conversation, reply)
            except (sqlite3.Error, OverflowError) as error:
                self._hold(conversation, error)
        with contextlib.suppress(sqlite3.Error):
            await asyncio.to_thread(store.checkpoint)

    def message_deleted(
        self, conversation: Conversation, message: Message, moved: list[Message]
    ) -> None:
        """`message` was taken out of the tree; `moved` (its children) now follow its
        parent."""
        if not self.enabled or conversation.id in self._gone:
            return
        if self.store is None or conversation in self.held:
            self._deleted_messages.append((message, moved))
            self._hold(conversation)
            return
        if message.id is None:
            return  # never written
        try:
            self.store.delete_message(conversation, message.id, moved)
        except (sqlite3.Error, OverflowError) as error:
            self._deleted_messages.append((message, moved))
            self._hold(conversation, error)

    def conversation_deleted(self, conversation_id: int) -> None:
        if not self.enabled:
            return
        self._gone.add(conversation_id)
        self._renamed.pop(conversation_id, None)
        self.held = [held for held in self.held if held.id != conversation_id]
        try:
            if self.store is None:
                raise sqlite3.OperationalError("the history is not open")
            self.store.delete_conversation(conversation_id)
        except (sqlite3.Error, OverflowError) as error:
            self._deleted_conversations.append(conversation_id)
            self._hold(None, error)

    # Holding and retrying --------------------------------------------------------------

    def _hold(self, conversation: Conversation | None, error: BaseException | None = None) -> None:
        """Keeps `conversation` (if any) to be written whole later, tells observers once
        (and again when the reason changes), and makes sure a retry is on its way."""
        if (
            conversation is not None
            and conversation.id not in self._gone
            and conversation not in self.held
            and (conversation.id or _has_prompt(conversation))
        ):
            self.held.append(conversation)
        if not self.unsaved:
            return
        self._generation += 1
        old_reason = self.reason
        if error is not None:
            self.reason = describe_trouble(error)
        if not self._announced or self.reason != old_reason:
            self._announced = True
            self._emit(SaveStateChanged(True, self.reason))
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        delay = FIRST_RETRY
        while self.unsaved:
            await asyncio.sleep(delay)
            generation = self._generation
            try:
                await asyncio.to_thread(self._write_all_held)
            except Exception as error:  # any failure: held, and tried again later
                reason = describe_trouble(error)
                if reason != self.reason or not self._announced:
                    self._announced = True
                    self.reason = reason
                    self._emit(SaveStateChanged(True, reason))
                delay = min(delay * 2, LONGEST_RETRY)
                continue
            if generation == self._generation:  # nothing new was held meanwhile
                self._all_written()
            delay = FIRST_RETRY

    def _all_written(self) -> None:
        self.held.clear()
        self._deleted_messages.clear()
        self._deleted_conversations.clear()
        self._renamed.clear()
        self.reason = None
        if self._announced:
            self._announced = False
            self._emit(SaveStateChanged(False, None))

    def _write_all_held(self) -> None:
        """Runs in a worker thread: every held conversation whole, then what was deleted."""
        if self.store is None:
            assert self._reopen is not None
            self.store = self._reopen()
        for conversation in list(self.held):
            if conversation.id not in self._gone:
                self.store.save_everything(conversation, self.endpoint)
        # After the tree is written: the children of a deleted message point elsewhere now.
        deleted = [message.id for message, _ in self._deleted_messages if message.id is not None]
        self.store.delete_messages(deleted)
        for conversation_id, title in list(self._renamed.items()):
            self.store.save_details(conversation_id, title=title)
        for conversation_id in self._deleted_conversations:
            self.store.delete_conversation(conversation_id)

    async def flush(self) -> bool:
        """One more try at once (on quit); True when nothing is left unsaved."""
        if self.unsaved:
            generation = self._generation
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._write_all_held)
                if generation == self._generation:
                    self._all_written()
        return not self.unsaved

    def close(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
        if self.store is not None:
            self.store.close()


def _has_prompt(conversation: Conversation) -> bool:
    return any(message.role is Role.USER for message in conversation.all_messages())

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

from tui.chat.conversation import Conversation
from tui.chat.message import Message, Role
from tui.chat.session_events import SaveStateChanged, SessionEvent
from tui.store import Store
from tui.store_file import StoreUnavailable, describe_trouble

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
        self._deleted_messages: list[int] = []
        self._deleted_conversations: list[int] = []
        self._generation = 0
        self._retrying: asyncio.Task[None] | None = None
        self.reason: str | None = None

    @property
    def enabled(self) -> bool:
        return self.store is not None or self._reopen is not None

    @property
    def unsaved(self) -> bool:
        return bool(self.held or self._deleted_messages or self._deleted_conversations)

    # Writing ---------------------------------------------------------------------------

    def write(self, conversation: Conversation, write: Callable[[Store], object]) -> None:
        """Runs one write for `conversation`; if it fails, or earlier changes still wait,
        the conversation is held and written whole later."""
        if not self.enabled:
            return
        if self.store is None or conversation in self.held:
            self._hold(conversation)
            return
        try:
            write(self.store)
        except (sqlite3.Error, OverflowError) as error:
            self._hold(conversation, error)

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

    def message_deleted(self, conversation: Conversation, message_id: int | None) -> None:
        if message_id is None or not self.enabled:
            return
        if self.store is None or conversation in self.held:
            self._deleted_messages.append(message_id)
            self._hold(conversation)
            return
        try:
            self.store.save_everything(conversation, self.endpoint)  # children moved up
            self.store.delete_messages([message_id])
        except (sqlite3.Error, OverflowError) as error:
            self._deleted_messages.append(message_id)
            self._hold(conversation, error)

    def conversation_deleted(self, conversation_id: int) -> None:
        if not self.enabled:
            return
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
        was_unsaved = self.unsaved
        if conversation is not None and conversation not in self.held:
            if not conversation.id and not _has_prompt(conversation):
                return  # nothing worth keeping yet
            self.held.append(conversation)
        self._generation += 1
        old_reason = self.reason
        if error is not None:
            self.reason = describe_trouble(error)
        if not was_unsaved or self.reason != old_reason:
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
            except (sqlite3.Error, StoreUnavailable, OSError) as error:
                reason = describe_trouble(error)
                if reason != self.reason:
                    self.reason = reason
                    self._emit(SaveStateChanged(True, reason))
                delay = min(delay * 2, LONGEST_RETRY)
                continue
            if generation == self._generation:  # nothing new was held meanwhile
                self.held.clear()
                self._deleted_messages.clear()
                self._deleted_conversations.clear()
                self.reason = None
                self._emit(SaveStateChanged(False, None))
            delay = FIRST_RETRY

    def _write_all_held(self) -> None:
        """Runs in a worker thread: every held conversation whole, then what was deleted."""
        if self.store is None:
            assert self._reopen is not None
            self.store = self._reopen()
        for conversation in list(self.held):
            self.store.save_everything(conversation, self.endpoint)
        self.store.delete_messages(self._deleted_messages)
        for conversation_id in self._deleted_conversations:
            self.store.delete_conversation(conversation_id)

    async def flush(self) -> bool:
        """One more try at once (on quit); True when nothing is left unsaved."""
        if self.unsaved:
            with contextlib.suppress(sqlite3.Error, StoreUnavailable, OSError):
                await asyncio.to_thread(self._write_all_held)
                self.held.clear()
                self._deleted_messages.clear()
                self._deleted_conversations.clear()
        return not self.unsaved

    def close(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
        if self.store is not None:
            self.store.close()


def _has_prompt(conversation: Conversation) -> bool:
    return any(message.role is Role.USER for message in conversation.all_messages())

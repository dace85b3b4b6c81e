"""The session's commands on what it holds rather than on the reply that streams: the
tree's branches, the conversation's details (title, model, system prompt, tools), and which
stored conversation is open.

A part of `ChatSession` kept in its own file (a mixin), as `tui.session_context` is: every
command here still takes the session's one lock and tells its observers through
`_emit`; streaming, queueing and closing stay in `tui.session`.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from tui.backend import ChatBackend
from tui.chat.conversation import Conversation
from tui.chat.message import Message
from tui.chat.session_events import (
    ConversationOpened,
    DetailsChanged,
    PathChanged,
    SessionEvent,
)
from tui.config import Settings

if TYPE_CHECKING:
    from tui.session_prefetch import Prefetch
    from tui.session_rest import CommandLock
    from tui.session_saving import Saver
    from tui.store import Store
    from tui.store_path_parts import PathPart


class ConversationCommands:
    """Needs from the session: its settings, backend, conversation, saver, read ahead, lock,
    and the members stubbed below."""

    settings: Settings
    backend: ChatBackend
    conversation: Conversation
    saver: Saver
    prefetch: Prefetch
    unread_earlier: int
    _commands: CommandLock

    @property
    def store(self) -> Store | None:
        raise NotImplementedError

    @property
    def is_streaming(self) -> bool:
        raise NotImplementedError

    def _emit(self, event: SessionEvent) -> None:
        raise NotImplementedError

    def _fresh_conversation(self) -> Conversation:
        raise NotImplementedError

    async def _drop_queue_and_reply(self) -> None:
        raise NotImplementedError

    if TYPE_CHECKING:  # (`RestReading`'s, before this class in the session's bases)

        def _start_reading_the_rest(
            self, focus_id: int | None, *, later: bool, at_launch: bool = False
        ) -> None: ...

    # Changing the tree ---------------------------------------------------------------

    async def switch(self, message: Message | None, step: int) -> Message | None:
        """Shows the previous (-1) or next (+1) alternative of `message` (by default the
        deepest message on the path that has one). None: there is none, or a reply is
        streaming (switching would hide it)."""
        async with self._commands:
            if self.is_streaming:
                return None
            message = message or self.conversation.last_with_siblings()
            if message is None or not self.conversation.contains(message):
                return None
            shown = self.conversation.switch(message, step)
            if shown is None:
                return None
            parent, conversation = self.conversation.parent_of(shown), self.conversation
            self.saver.write(conversation, lambda store: store.save_choice(conversation, parent))
            self._emit(PathChanged(self.conversation.messages.index(shown), shown))
            return shown

    async def delete(self, message: Message) -> bool:
        """Deletes one message; what followed it moves up into its place. False while a
        reply streams: the history it answers must not change under it."""
        async with self._commands:
            if self.is_streaming or not self.conversation.contains(message):
                return False
            path = self.conversation.messages
            index = path.index(message) if message in path else len(path)
            self._delete(message)
            self._emit(PathChanged(min(index, len(self.conversation.messages))))
            return True

    def _delete(self, message: Message) -> None:
        parent, conversation = self.conversation.parent_of(message), self.conversation
        moved = conversation.remove(message)
        self.saver.message_deleted(conversation, message, moved)
        self.saver.write(conversation, lambda store: store.save_choice(conversation, parent))

    # The conversation's own details ---------------------------------------------------

    async def rename(self, title: str, conversation_id: int | None = None) -> None:
        """Renames the open conversation, or another one by id (from the list)."""
        title = " ".join(title.split())
        if not title:
            return
        async with self._commands:
            if conversation_id is None or conversation_id == self.conversation.id:
                self.conversation.title = title
                self._save_details(title=title)
                self._emit(DetailsChanged(self.conversation))
            else:
                self.saver.rename_other(conversation_id, title)

    async def set_model(self, model: str) -> None:
        async with self._commands:
            self.conversation.model = model
            self._save_details(model=model)
            self._emit(DetailsChanged(self.conversation))

    async def set_system_prompt(self, prompt: str | None) -> None:
        async with self._commands:
            self.conversation.system_prompt = (prompt or "").strip() or None
            self._save_details(system_prompt=self.conversation.system_prompt)
            self._emit(DetailsChanged(self.conversation))

    def _save_details(self, **fields: str | None) -> None:
        conversation, conversation_id = self.conversation, self.conversation.id
        if conversation_id is not None:
            self.saver.write(
                conversation, lambda store: store.save_details(conversation_id, **fields)
            )

    async def use_server(self, settings: Settings) -> None:
        """Switches to another server (picked on the welcome screen) and its model."""
        async with self._commands:
            old = self.backend
            self.settings = settings
            self.backend = ChatBackend(settings)
            self.conversation.model = settings.model
            self._save_details(model=settings.model)
            self._emit(DetailsChanged(self.conversation))
        await old.aclose()

    async def switch_tool(self, key: str, on: bool) -> None:
        """Switches a tool (`server/tool`) on or off for this conversation's requests."""
        async with self._commands:
            off = self.conversation.tools.switched_off
            off.discard(key) if on else off.add(key)
            self._save_tool_choices()

    def _save_tool_choices(self) -> None:
        self._save_details(tool_choices=self.conversation.tools.to_text())
        self._emit(DetailsChanged(self.conversation))

    # Whole conversations --------------------------------------------------------------

    async def new(self) -> None:
        async with self._commands:
            await self._drop_queue_and_reply()
            self.conversation = self._fresh_conversation()
            self._emit(ConversationOpened(self.conversation))

    async def open(self, conversation_id: int, message_id: int | None = None) -> bool:
        """Opens a stored conversation (at `message_id`, on whatever branch it is)."""
        async with self._commands:
            await self._drop_queue_and_reply()  # its last save lands before anything loads
            conversation = self._in_memory(conversation_id)
            if conversation is not None:
                self.prefetch.drop()  # (a copy of another kept no longer)
            else:
                if self.store is None:
                    return False
                try:
                    part = None
                    if self.prefetch.held != conversation_id:  # (not read ahead whole)
                        part = self._read_path_part(self.store, conversation_id, message_id)
                    if part is not None and not part.whole:
                        self.prefetch.drop()
                        self._open_part(part, message_id)
                        return True
                    conversation = part.conversation if part is not None else None
                    if conversation is None:
                        conversation = await self.prefetch.take(self.store, conversation_id)
                    if conversation is None:
                        conversation = self.store.load_conversation(conversation_id)
                except sqlite3.Error:
                    return False
                if conversation is None:
                    return False
            focus = next((m for m in conversation.all_messages() if m.id == message_id), None)
            if focus is not None and focus not in conversation.messages:
                conversation.reveal(focus)
                self.saver.write(conversation, lambda store: store.save_path(conversation))
            self.conversation = conversation
            self._emit(ConversationOpened(conversation, focus))
            return True

    @staticmethod
    def _read_path_part(
        store: Store, conversation_id: int, message_id: int | None
    ) -> PathPart | None:
        """What to show first: the path around `message_id`, or its end (None: read it
        whole, as before)."""
        if message_id is None:
            return store.read_path_end(conversation_id)
        return store.read_path_around(conversation_id, message_id)

    def _open_part(self, part: PathPart, focus_id: int | None) -> None:
        """Shows a part of a stored conversation's path now, and reads the rest after."""
        focus = next((m for m in part.conversation.messages if m.id == focus_id), None)
        self.conversation, self.unread_earlier = part.conversation, part.earlier
        self._emit(ConversationOpened(part.conversation, focus, part.earlier, part.later))
        self._start_reading_the_rest(focus_id, later=part.later)

    def _in_memory(self, conversation_id: int) -> Conversation | None:
        """The conversation's object, if it is open or held unsaved: never two objects
        for one stored conversation."""
        in_memory = [self.conversation, *self.saver.held]
        return next((c for c in in_memory if c.id == conversation_id), None)

    def read_ahead(self, conversation_id: int | None) -> None:
        """The stored conversation the user may open next (the search hit Enter would
        open) is read meanwhile, between the loop's turns; None: none is likely any more."""
        if (
            conversation_id is None
            or self.store is None
            or self._in_memory(conversation_id) is not None  # (opened from memory)
            or self.is_streaming  # (each save spoils a copy read meanwhile)
        ):
            self.prefetch.drop()
        else:
            self.prefetch.want(self.store, conversation_id)

    async def delete_conversation(self, conversation_id: int) -> None:
        async with self._commands:
            if conversation_id == self.conversation.id:
                await self._drop_queue_and_reply()  # its last save first, then the delete
            self.saver.conversation_deleted(conversation_id)
            if conversation_id == self.conversation.id:
                self.conversation = self._fresh_conversation()
                self._emit(ConversationOpened(self.conversation))

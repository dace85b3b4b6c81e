"""What the keys on a selected message do: copy, copy a code block, edit and resend,
regenerate, delete. A mixin of `ChatScreen`, kept apart because it is its own concern: the
message views only ask (`SelectableMessage.ActionRequested`); this decides and acts on the
conversation, the store and the log.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING

from tui.chat.code_blocks import code_blocks
from tui.chat.conversation import Conversation
from tui.chat.message import Message, MessageStatus, Role
from tui.ui.widgets.selectable_message import SelectableMessage

if TYPE_CHECKING:
    from tui.ui.chat_screen import ChatScreen

    _Base = ChatScreen
else:
    _Base = object


class MessageActions(_Base):
    def action_select_messages(self) -> None:
        """Ctrl+Up: move from the prompt into the log; Up/Down pick a message."""
        views = list(self.log_view.query(".message"))
        if not views:
            self.notify("No messages yet.", timeout=2)
            return
        views[-1].focus()

    def action_copy_last_reply(self) -> None:
        replies = [m for m in self.conversation.messages if m.role is Role.ASSISTANT]
        if not replies or not replies[-1].content:
            self.notify("No reply to copy yet.", severity="warning", timeout=3)
            return
        self._copy_text(replies[-1].content, "the last reply")

    def _copy_text(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        lines = text.count("\n") + 1
        self.notify(f"Copied {what} ({lines} lines, {len(text)} characters)", timeout=3)

    def on_selectable_message_action_requested(
        self, event: SelectableMessage.ActionRequested
    ) -> None:
        message, action = event.message, event.action
        if action != "delete":
            self._delete_armed = None
        if action == "copy":
            self._copy_text(
                message.content, "your prompt" if message.role is Role.USER else "the reply"
            )
        elif action == "copy_code":
            blocks = code_blocks(message.content)
            if not blocks:
                self.notify("This reply has no code block.", severity="warning", timeout=3)
            elif event.index > len(blocks):
                self.notify(f"This reply has {len(blocks)} code blocks.", timeout=3)
            else:
                block = blocks[event.index - 1]
                language = f" {block.language}" if block.language else ""
                self._copy_text(block.code, f"code block {event.index} of {len(blocks)}{language}")
        elif action == "edit":
            self._editing = message
            self.prompt.load_text(message.content)
            self.prompt.move_cursor(self.prompt.document.end)
            self.prompt.focus()
            self.status.show(
                "Editing an earlier prompt: Enter resends it from there (the later turns are "
                "replaced; the old branch is kept in Ctrl+B) · Esc cancels"
            )
        elif action == "regenerate":
            last = self.conversation.messages[-1] if self.conversation.messages else None
            if message is last:
                self.action_retry()
            else:
                self.notify(
                    "Only the last reply can be regenerated; edit the prompt before this one "
                    "(e on it) to branch from there.",
                    timeout=5,
                )
        elif action == "delete":
            self._ask_to_delete(message)
        elif action == "leave":
            self.prompt.focus()

    def _ask_to_delete(self, message: Message) -> None:
        if message.status is MessageStatus.STREAMING:
            self.notify("Stop the reply (Esc) before deleting it.", severity="warning")
            return
        if self._delete_armed is not message:
            self._delete_armed = message
            self.notify("Press d again to delete this message.", timeout=3)
            return
        self._delete_armed = None
        self.run_worker(self._delete_message(message), group="send")

    async def _delete_message(self, message: Message) -> None:
        if message not in self.conversation.messages:
            return
        self.conversation.remove_message(message)
        await self._forget([message])
        self.notify("Message deleted.", timeout=2)
        self.prompt.focus()

    async def _resend_edited(self, original: Message, text: str) -> None:
        """Keeps the conversation as it was (a copy in the history list), drops the edited
        prompt and everything after it, and sends the new text from there."""
        await self._stop_reply()
        self._keep_old_branch()
        dropped = self.conversation.truncate_at(original)
        await self._forget(dropped)
        await self._send(text)

    async def _forget(self, messages: list[Message]) -> None:
        """Deletes messages (every version of a regenerated reply) from the store and
        removes their views from the log."""
        doomed = [
            version.id
            for message in messages
            for version in (message.versions or [message])
            if version.id is not None
        ]
        if self.store is not None and doomed and not self._store_failed:
            with contextlib.suppress(sqlite3.Error):
                self.store.delete_messages(doomed)
        for view in list(self.log_view.query(".message")):
            if getattr(view, "message", None) in messages:
                await view.remove()

    def _keep_old_branch(self) -> None:
        if self.store is None or self.conversation.id is None or self._store_failed:
            return
        branch = Conversation(
            system_prompt=self.conversation.system_prompt,
            model=self.conversation.model,
            title=f"{self.conversation.title} (before edit)",
        )
        for message in self.conversation.messages:
            branch.messages.append(message.detached_copy())
        with contextlib.suppress(sqlite3.Error):
            self.store.save_conversation(branch, self.settings.endpoint_label)
            for message in branch.messages:
                self.store.save_message(branch, message)

"""What the keys on a selected message do: copy, copy a code block, edit and resend,
regenerate, delete. The message views only ask (`SelectableMessage.ActionRequested`);
this decides, and changes the conversation only through the session."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol

from textual.notifications import SeverityLevel
from textual.worker import Worker

from tui.chat.code_blocks import code_blocks
from tui.chat.message import Message, Role
from tui.session import ChatSession
from tui.ui.frames import next_frame
from tui.ui.kept_layouts import forget_kept_text
from tui.ui.widgets.conversation_log import ConversationLog
from tui.ui.widgets.prompt_input import PromptInput
from tui.ui.widgets.selectable_message import SelectableMessage
from tui.ui.widgets.status_line import StatusLine


class Host(Protocol):
    """What these keys need of the screen they work on (the chat screen)."""

    session: ChatSession

    @property
    def prompt(self) -> PromptInput: ...

    @property
    def status(self) -> StatusLine: ...

    @property
    def log_view(self) -> ConversationLog: ...

    def copy_text(self, text: str, what: str) -> None: ...

    async def retry(self, reply: Message | None) -> None: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def run_worker(
        self, work: Coroutine[Any, Any, None], *, group: str = "default"
    ) -> Worker[None]: ...

    def refresh_bindings(self) -> None: ...


class MessageKeys:
    def __init__(self, screen: Host) -> None:
        self.screen = screen
        self._editing: Message | None = None
        self._jumping = asyncio.Lock()
        """Home and End, one after the other as pressed: an End decided while Home was
        still showing the top found the end mounted, and the top came after it."""
        self._delete_armed: Message | None = None
        self._loading: Worker[None] | None = None

    @property
    def editing(self) -> Message | None:
        """The earlier prompt being edited, sent as a new branch from its place on Enter."""
        return self._editing

    @editing.setter
    def editing(self, message: Message | None) -> None:
        self._editing = message
        self.screen.refresh_bindings()  # Esc cancels an edit: the footer says so

    def handle(self, event: SelectableMessage.ActionRequested) -> None:
        screen = self.screen
        message, action = event.message, event.action
        if action != "delete":
            self._delete_armed = None
        if action == "copy":
            what = "your prompt" if message.role is Role.USER else "the reply"
            screen.copy_text(message.content, what)
        elif action == "copy_code":
            self._copy_code(message, event.index)
        elif action == "edit":
            self.editing = message
            screen.prompt.load_text(message.content)
            screen.prompt.move_cursor(screen.prompt.document.end)
            screen.prompt.focus()
            screen.status.show(
                "Editing an earlier prompt: Enter sends it as a new branch from there (the old "
                "one stays: Alt+Left) · Esc cancels"
            )
        elif action == "regenerate":
            screen.run_worker(screen.retry(message), group="send")
        elif action == "delete":
            self._ask_to_delete(message)
        elif action == "leave":
            screen.prompt.focus()
        elif action in ("first", "last"):
            screen.run_worker(self._select_end(first=action == "first"), group="jump")
        elif action == "select" and (self._loading is None or self._loading.is_finished):
            # (While a batch loads, a held key's repeats are dropped.)
            self._loading = screen.run_worker(
                self._select_beyond(message, event.index), group="jump"
            )

    async def _select_beyond(self, message: Message, step: int) -> None:
        """Up on the first turn mounted (Down on the last): the next batch of turns is
        shown, and the message beyond selected."""
        log = self.screen.log_view
        async with self._jumping:  # after a Home or End pressed before it, not under it
            await log.show_more(earlier=step < 0)
        messages = log.messages
        if message not in messages:
            return
        index = messages.index(message) + step
        view = log.view_of(messages[index]) if 0 <= index < len(messages) else None
        if view is not None:
            view.focus()

    async def _select_end(self, *, first: bool) -> None:
        """Home / End: the first or last message of the whole conversation, not just of the
        turns mounted now; a far end is shown afresh, a screenful of it (mounting the 24
        turns of a full window cost half a second)."""
        async with self._jumping:
            await self._jump_to_end(first=first)

    async def _jump_to_end(self, *, first: bool) -> None:
        log = self.screen.log_view
        target, shown_afresh = await log.show_whole_end(first=first)
        if target is None:
            return
        if shown_afresh and first:  # the scroll left for after the frame (to the first)
            await next_frame(log)
        view = log.view_of(target)
        if view is not None:
            view.focus(scroll_visible=False)
            if first:
                # At once, to the very top (the notices above the first message too): left
                # for after the next frame, it could come after an End pressed meanwhile
                # had rebuilt the log at its end, and leave that log at its top, its anchor
                # released (1 run in 10-30 of Home then End at once).
                log.scroll_home(animate=False, immediate=True)
            else:
                log.scroll_end(animate=False)  # the anchor, held again, follows the end

    def _copy_code(self, message: Message, index: int) -> None:
        blocks = code_blocks(message.content)
        if not blocks:
            self.screen.notify("This reply has no code block.", severity="warning", timeout=3)
        elif index > len(blocks):
            count = "one code block" if len(blocks) == 1 else f"{len(blocks)} code blocks"
            self.screen.notify(f"This reply has {count}.", timeout=3)
        else:
            block = blocks[index - 1]
            language = f" {block.language}" if block.language else ""
            self.screen.copy_text(block.code, f"code block {index} of {len(blocks)}{language}")

    def _ask_to_delete(self, message: Message) -> None:
        screen = self.screen
        if screen.session.is_streaming:
            screen.notify("Stop the reply (Esc) before deleting.", severity="warning")
            return
        if self._delete_armed is not message:
            self._delete_armed = message
            screen.notify("Press d again to delete this message.", timeout=3)
            return
        self._delete_armed = None
        screen.run_worker(self._delete(message), group="send")

    async def _delete(self, message: Message) -> None:
        if await self.screen.session.delete(message):
            forget_kept_text(self.screen.session.settings.db_path.parent)  # its text
            self.screen.notify("Message deleted.", timeout=2)
        self.screen.prompt.focus()

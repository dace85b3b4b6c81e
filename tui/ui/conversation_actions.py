"""The chat screen's commands on the conversation as a whole rather than on the prompt or
the reply: which conversation is open (a new one, one found by browsing or searching the
history), its details (model, system prompt, tools, title), and taking it out (copy,
export). Most open a screen of their own and act on what it gives back.

A part of `ChatScreen` kept in its own file (a mixin), as `tui.session_conversations` is of
the session whose commands these call. Textual finds `action_*` methods with `getattr`, so
through the screen's bases; the `BINDINGS` that name them stay on the screen (Textual merges
them only from its own widget classes), and so would `@on` handlers (collected only from
classes its metaclass builds).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.screen import Screen

from tui.chat.conversation import Conversation
from tui.chat.message import Role
from tui.chat.safe_text import make_safe
from tui.session import ChatSession
from tui.ui.prompt_commands import tell
from tui.ui.widgets.prompt_input import PromptInput
from tui.ui.widgets.status_line import StatusLine

# For mypy the mixin is the screen it is mixed into (its `app`, `notify`, `run_worker`); at
# run time it is a plain class, so it hides none of the screen's own members.
# The screens these open, and export, are imported when first used: none of them is needed
# for the first frame, and their modules (with Textual's widgets they use) cost 4 ms there.
if TYPE_CHECKING:
    from tui.ui.conversations_screen import OpenConversation

    _MixedInto = Screen[None]
else:
    _MixedInto = object


class ConversationActions(_MixedInto):
    """Needs from the screen: its session, and the members stubbed below."""

    session: ChatSession

    @property
    def conversation(self) -> Conversation:
        raise NotImplementedError

    @property
    def prompt(self) -> PromptInput:
        raise NotImplementedError

    @property
    def status(self) -> StatusLine:
        raise NotImplementedError

    def action_new_conversation(self) -> None:
        self.run_worker(self._new_chat(), group="send")

    async def _new_chat(self) -> None:
        await self.session.new()
        self.status.show("New conversation")
        self.prompt.focus()

    def action_conversations(self) -> None:
        if self.session.store is None:
            self.notify("History is off, so there is nothing to browse.", severity="warning")
            return
        from tui.ui.conversations_screen import ConversationsScreen

        self.app.push_screen(ConversationsScreen(self.session), self._after_browsing)

    def action_search(self) -> None:
        if self.session.store is None:
            self.notify("History is off, so there is nothing to search.", severity="warning")
            return
        from tui.ui.search_screen import SearchScreen

        search = SearchScreen(self.session.store, self.session.read_ahead)
        self.app.push_screen(search, self._after_browsing)

    def _after_browsing(self, result: OpenConversation | None) -> None:
        if result is not None:
            self.run_worker(self._open(result), group="send")

    async def _open(self, request: OpenConversation) -> None:
        if await self.session.open(request.conversation_id, request.message_id):
            self.status.show(f"Opened: {make_safe(self.conversation.title)}")
        else:
            self.notify("That conversation no longer exists.", severity="warning")
        self.prompt.focus()

    def action_pick_model(self, name: str = "") -> None:
        """F2 (or /model NAME): the model for this conversation's next requests."""
        if name:
            self._use_model(name)
            return
        from tui.ui.model_picker_screen import ModelPickerScreen

        self.app.push_screen(
            ModelPickerScreen(self.conversation.model or "", self.session.backend.list_models),
            self._use_model,
        )

    def _use_model(self, model: str | None) -> None:
        if model and model != self.conversation.model:
            self.run_worker(self.session.set_model(model), group="send")
            tell(self, f"Model for this conversation: {model}", timeout=3)

    def action_tools(self) -> None:
        """F4 (or /tools): the tool servers, and which tools this conversation offers."""
        from tui.ui.tools_screen import ToolsScreen  # only when asked for: start-up time

        self.app.push_screen(ToolsScreen(self.session))

    def action_edit_system_prompt(self, text: str = "") -> None:
        """F3 (or /system TEXT): this conversation's system prompt."""
        if text:
            self._use_system_prompt(text)
            return
        # Only when asked for: the dialog's module took 7 ms of every launch.
        from tui.ui.system_prompt_screen import SystemPromptScreen

        self.app.push_screen(
            SystemPromptScreen(
                self.conversation.system_prompt or "", self.session.settings.system_prompts
            ),
            self._use_system_prompt,
        )

    def _use_system_prompt(self, prompt: str | None) -> None:
        if prompt is None:
            return
        self.run_worker(self.session.set_system_prompt(prompt), group="send")
        said = "cleared" if not prompt.strip() else "set"
        self.notify(f"System prompt {said} for this conversation.", timeout=3)

    def action_rename(self, title: str = "") -> None:
        """/title NEW TITLE."""
        if not title.strip():
            self.notify("Usage: /title NEW TITLE", severity="warning")
            return
        self.run_worker(self.session.rename(title), group="send")
        tell(self, f"Renamed to {' '.join(title.split())}", timeout=3)

    def action_copy_last_reply(self) -> None:
        """The last reply of the whole conversation, once it is read whole."""
        if not self.session.is_whole:
            self.run_worker(self._once_whole(self.action_copy_last_reply), group="export")
            return
        replies = [m for m in self.conversation.messages if m.role is Role.ASSISTANT]
        if not replies or not replies[-1].content:
            self.notify("No reply to copy yet.", severity="warning", timeout=3)
            return
        self.copy_text(replies[-1].content, "the last reply")

    def copy_text(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        lines = text.count("\n") + 1
        tell(self, f"Copied {what} ({lines} lines, {len(text)} characters)", timeout=3)

    def action_export(self, format: str = "md") -> None:
        """Writes the open conversation to a private file beside the history database:
        all of it, once it is read whole (a launch shows the end of its path first)."""
        if not self.session.is_whole:
            self.run_worker(self._once_whole(partial(self.action_export, format)), group="export")
            return
        if self.session.store is None or self.conversation.id is None:
            self.notify("Nothing to export yet: send a prompt first.", severity="warning")
            return
        from tui.export import export_to_file

        folder = self.session.settings.db_path.parent
        try:
            path = export_to_file(self.conversation, folder, format)
        except OSError as error:
            tell(self, f"Export failed: {error}", error=True)
            return
        tell(self, f"Exported to {path}", timeout=8)

    async def _once_whole(self, action: Callable[[], None]) -> None:
        """`action` once the conversation is read whole (a part of it is shown first)."""
        await self.session.read_whole()
        action()

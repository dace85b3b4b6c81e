"""The prompt's slash commands and file attachments, as `ChatScreen` runs them. A mixin of
the screen, kept apart because it is its own concern: reading a typed command and doing
it locally, never as a request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from tui.attachments import Attachment, AttachmentRefused, read_attachment
from tui.chat.safe_text import make_safe
from tui.ui.slash_commands import COMMANDS, SlashCommand

if TYPE_CHECKING:
    from tui.ui.chat_screen import ChatScreen

    _Base = ChatScreen
else:
    _Base = object


class PromptCommands(_Base):
    def run_slash_command(self, command: SlashCommand) -> None:
        name, argument = command.name, command.argument
        if name == "/model" and argument:
            self._use_model(argument)
        elif name == "/model":
            self.action_pick_model()
        elif name == "/system" and argument:
            self._use_system_prompt(argument)
        elif name == "/system":
            self.action_edit_system_prompt()
        elif name in ("/new", "/clear"):
            self.action_new_conversation()
        elif name == "/retry":
            self.action_retry()
        elif name == "/copy":
            self.action_copy_last_reply()
        elif name == "/export":
            self.action_export("json" if argument.lower() == "json" else "md")
        elif name == "/title":
            self._retitle_conversation(argument)
        elif name == "/file":
            self._attach_file(argument)
        elif name == "/help":
            self.action_help()
        else:
            known = " ".join(COMMANDS)
            self.notify(
                f"Unknown command {make_safe(name)}. Commands: {known}. "
                "Start with // to send a line that begins with /.",
                severity="warning",
                timeout=6,
            )

    def _retitle_conversation(self, title: str) -> None:
        if not title:
            self.notify("Usage: /title NEW TITLE", severity="warning")
            return
        self.conversation.title = title
        if self.conversation.messages:
            self._persist()
        self.notify(f"Renamed to {make_safe(title)}", timeout=3)

    def _attach_file(self, path: str) -> None:
        if not path:
            self._set_attachments([])
            self.notify("Attachments removed.", timeout=2)
            return
        try:
            attachment = read_attachment(path)
        except AttachmentRefused as error:
            self.notify(f"Not attached: {make_safe(str(error))}", severity="warning", timeout=6)
            return
        self._set_attachments([*self._attachments, attachment])

    def _set_attachments(self, attachments: list[Attachment]) -> None:
        self._attachments = attachments
        bar = self.query_one("#attachments", Static)
        bar.display = bool(attachments)
        chips = "  ".join(f"📎 {make_safe(a.name)} ({a.size_label})" for a in attachments)
        bar.update(Content(f"{chips}   — sent with your next message · /file removes"))

"""The Textual application: styles, global keys and the command palette's actions."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui.config import Settings
from tui.ui.chat_screen import ChatScreen


class ChatApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-chat"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, settings: Settings, initial_prompt: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._initial_prompt = initial_prompt

    def get_default_screen(self) -> Screen:
        return ChatScreen(self.settings, self._initial_prompt)

    @property
    def chat(self) -> ChatScreen:
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                return screen
        raise LookupError("no chat screen")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chat = self.chat
        yield SystemCommand("Stop reply", "Stop the reply in progress (Esc)", chat.action_cancel)
        yield SystemCommand("Retry", "Regenerate the last reply (Ctrl+R)", chat.action_retry)
        yield SystemCommand(
            "New conversation", "Start an empty conversation (Ctrl+N)", chat.action_new_conversation
        )
        yield SystemCommand("Help", "Show every key (F1)", chat.action_help)

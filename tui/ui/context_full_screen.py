"""A prompt that would overflow the model's context window: say so, and offer the two
ways on (the recent turns only, or a summary on a new branch) or keep the prompt."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.chat.context import ContextFill, short_count


class ContextFullScreen(ModalScreen[str | None]):
    """Dismissed with "recent", "compact", or None (the prompt stays in the box)."""

    BINDINGS = [
        Binding("r", "dismiss('recent')", "Recent turns only", id="context.recent"),
        Binding("c", "dismiss('compact')", "Compact", id="context.compact"),
        Binding("escape", "dismiss(None)", "Keep the prompt", id="context.keep"),
    ]

    def __init__(self, fill: ContextFill, from_server: bool) -> None:
        super().__init__()
        self.fill = fill
        self.from_server = from_server

    def compose(self) -> ComposeResult:
        window = short_count(self.fill.window) if self.fill.window else "?"
        if self.from_server:
            title = f"The server says the conversation is too long for the model ({window} tokens)."
        else:
            title = (
                f"This prompt would not fit: with it the conversation is about "
                f"{short_count(self.fill.tokens)} tokens, and the answer needs room too, in "
                f"a context window of {window}."
            )
        with Vertical(id="context-panel"):
            yield Static(Content(title), id="context-title")
            yield Static(
                "r  send only the most recent turns that fit (the others are marked "
                '"not sent" and stay in the conversation)\n'
                "c  compact: the model summarises the earlier turns, and the conversation "
                "goes on in a new branch that starts from the summary (Alt+Left goes back to "
                "the full history)\n"
                "Esc  keep the prompt in the box and do neither",
                id="context-choices",
            )

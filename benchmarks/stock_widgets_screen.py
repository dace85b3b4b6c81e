"""The screen `tui-chat --continue` shows first, made of Textual's stock widgets alone.

    python benchmarks/stock_widgets_screen.py MESSAGES.json

A floor for the launch: what Textual itself takes to start and draw a screen of this
shape (a header, a bordered log ending in the conversation's last messages, a status
line, a text area, a footer of keys), with none of tui-chat's code. It cheats in
Textual's favour: the messages come as plain text from a JSON file (no history to read,
no Markdown to lay out). `benchmarks.long_conversation` times it in tmux in the same
rounds as tui-chat and as an app that shows one line.

Only Textual is imported, so that the time is Textual's: run it with the interpreter
tui-chat runs with.
"""

from __future__ import annotations

import json
import sys

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static, TextArea


class StockWidgetsScreen(App[None]):
    """tui-chat's first screen in stock widgets: its messages are `(role, text)` pairs."""

    CSS = """
    #log { height: 1fr; border: round $primary; scrollbar-size-vertical: 2; }
    .user { margin: 1 0 0 0; padding: 0 1; border-left: wide $accent; }
    .assistant { margin: 1 0 0 0; padding: 0 1; }
    #status { height: 1; padding: 0 1; }
    #prompt { height: 3; border: round $warning; }
    """
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit"),
        Binding("ctrl+n", "bell", "New"),
        Binding("ctrl+r", "bell", "Regenerate"),
        Binding("ctrl+o", "bell", "History"),
        Binding("ctrl+l", "bell", "Model"),
        Binding("f1", "bell", "Keys"),
    ]

    def __init__(self, messages: list[tuple[str, str]]) -> None:
        super().__init__()
        self.messages = messages

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="log"):
            for role, text in self.messages:
                yield Static(text, classes=role, markup=False)
        yield Static("", id="status")
        yield TextArea(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log").anchor()  # the end of the conversation, as tui-chat opens it


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        StockWidgetsScreen([(role, text) for role, text in json.load(file)]).run()

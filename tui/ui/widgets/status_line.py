"""One line under the log telling what the current reply is doing and what it cost."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class StatusLine(Static):
    def show(self, text: str) -> None:
        self.update(Content(text))

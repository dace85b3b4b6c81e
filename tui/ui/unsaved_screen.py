"""Quitting while changes have not reached the history file: say so, and offer to write
them to a file of the user's choosing (the history's own disk may be the one that is full).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.chat.conversation import Conversation
from tui.chat.safe_text import make_safe
from tui.export import to_json


def default_rescue_path() -> Path:
    return Path.home() / f"tui-chat-unsaved-{time.strftime('%Y%m%d-%H%M%S')}.json"


def write_rescue_file(path: Path, conversations: list[Conversation]) -> None:
    """Every unsaved conversation as JSON (the export format), in a file only the user
    can read; an existing file is never overwritten."""
    payload = [json.loads(to_json(conversation)) for conversation in conversations]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(payload, file, ensure_ascii=False, indent=2)


class UnsavedChangesScreen(ModalScreen[bool]):
    """Dismissed with True to quit, False to stay."""

    BINDINGS = [
        Binding("escape", "dismiss(False)", "Stay", id="unsaved.stay"),
        Binding("ctrl+q", "dismiss(True)", "Quit anyway", id="unsaved.quit", priority=True),
    ]

    def __init__(self, conversations: list[Conversation], reason: str | None) -> None:
        super().__init__()
        self.conversations = conversations
        self.reason = reason or "the history file cannot be written"

    def compose(self) -> ComposeResult:
        count = len(self.conversations)
        what = f"{count} conversation{'s' if count != 1 else ''}" if count else "Some changes"
        with Vertical(id="unsaved-panel"):
            yield Static(
                Content(make_safe(f"{what} not saved yet: {self.reason}.")),
                id="unsaved-title",
            )
            if not count:  # a deletion or a rename from the list: nothing to write out
                yield Static(
                    "Ctrl+Q quits without them · Esc stays (saving goes on in the background)"
                )
                return
            yield Static(
                "Enter writes them to this file (JSON, readable by you alone) and quits · "
                "Ctrl+Q quits without them · Esc stays (saving goes on in the background)"
            )
            yield Input(str(default_rescue_path()), id="unsaved-path")
            yield Static("", id="unsaved-error")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.focus()

    @on(Input.Submitted)
    def _export(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        try:
            write_rescue_file(path, self.conversations)
        except OSError as error:
            message = f"Could not write {path}: {error.strerror or error}. Try another place."
            self.query_one("#unsaved-error", Static).update(Content(make_safe(message)))
            return
        self.notify(make_safe(f"Written to {path}"), markup=False)
        self.dismiss(True)

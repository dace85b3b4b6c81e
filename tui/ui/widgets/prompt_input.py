"""The multi-line prompt box: Enter sends, Ctrl+J (or Shift+Enter where the terminal
reports it) inserts a newline, Up on the first line walks back through earlier prompts
(kept across restarts), and Tab completes a slash command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tui.ui.slash_commands import completions

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})


LARGE_PASTE = 100_000
"""Characters past which a paste is not typed into the box: a text area holding 10 MB took
15 s to take it and every key after it lagged. It becomes an attachment instead."""


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def image_path(pasted: str) -> str | None:
    """The path in a paste that is nothing but the path of an existing image file (quoted,
    or with escaped spaces, as terminals paste a dropped file)."""
    text = pasted.strip()
    if not text or "\n" in text or len(text) > 4096:
        return None
    if text[0] == text[-1] and text[0] in "'\"" and len(text) > 1:
        text = text[1:-1]
    text = text.replace("\\ ", " ").removeprefix("file://")
    if not text.lower().endswith(IMAGE_SUFFIXES):
        return None
    try:
        path = Path(text).expanduser()
        return str(path) if path.is_file() else None
    except (OSError, RuntimeError, ValueError):  # ~nosuchuser, a name too long, a NUL
        return None


class PromptInput(TextArea):
    @dataclass
    class Submitted(Message):
        """The user pressed Enter on a non-empty prompt."""

        text: str

    @dataclass
    class LargePaste(Message):
        """A paste too large to edit in the box: the screen attaches it."""

        text: str

    @dataclass
    class PastedImagePath(Message):
        """A paste that is the path of an image file (as terminals paste a dropped file):
        the screen offers it as an attachment."""

        path: str

    async def _on_paste(self, event: events.Paste) -> None:
        """Textual runs TextArea's own handler after this one unless the default is
        prevented: a small paste goes on to be typed in as usual."""
        if len(event.text) > LARGE_PASTE:
            event.prevent_default()
            event.stop()
            self.post_message(self.LargePaste(event.text))
        elif (path := image_path(event.text)) is not None:
            event.prevent_default()
            event.stop()
            self.post_message(self.PastedImagePath(path))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.placeholder = "Message (Enter to send, Ctrl+J for a new line, / for commands)"
        self.prompt_history: list[str] = []
        """Earlier prompts, oldest first."""
        self._recalled: int | None = None
        """Index into `prompt_history` of the prompt being shown, while walking through it."""

    def remember(self, prompt: str) -> None:
        if prompt in self.prompt_history:
            self.prompt_history.remove(prompt)
        self.prompt_history.append(prompt)
        self._recalled = None

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.post_message(self.Submitted(text))
                self.clear()
                self._recalled = None
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if event.key == "up" and self._recall(-1):
            event.stop()
            event.prevent_default()
            return
        if event.key == "down" and self._recall(+1):
            event.stop()
            event.prevent_default()
            return
        if event.key == "tab" and self._complete_command():
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def _recall(self, step: int) -> bool:
        """Up in an empty prompt (or while walking the history) shows an earlier prompt;
        anywhere else the arrows move the cursor as usual."""
        if not self.prompt_history:
            return False
        browsing = self._recalled is not None and self.text == self.prompt_history[self._recalled]
        if not browsing and self.text:
            return False
        row = self.cursor_location[0]
        if (step < 0 and row != 0) or (step > 0 and row != self.document.line_count - 1):
            return False
        if not browsing:
            if step > 0:
                return False
            index = len(self.prompt_history) - 1
        else:
            index = (self._recalled or 0) + step
        if index >= len(self.prompt_history):
            self._recalled = None
            self.clear()
            return True
        index = max(0, index)
        self._recalled = index
        self.load_text(self.prompt_history[index])
        self.move_cursor(self.document.end)
        return True

    def _complete_command(self) -> bool:
        text = self.text
        if not text.startswith("/") or any(c.isspace() for c in text):
            return False
        matches = completions(text)
        if not matches:
            return False
        common = matches[0] if len(matches) == 1 else _common_prefix(matches)
        completed = common + " " if len(matches) == 1 else common
        self.load_text(completed)
        self.move_cursor(self.document.end)
        if len(matches) > 1:
            self.notify("  ".join(matches), timeout=3)
        return True


def _common_prefix(words: list[str]) -> str:
    prefix = words[0]
    for word in words[1:]:
        while not word.startswith(prefix):
            prefix = prefix[:-1]
    return prefix

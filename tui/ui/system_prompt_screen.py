"""F3: the system prompt of this conversation, edited in place or taken from a preset.

It applies to the next request: the conversation's earlier turns stay as they were asked.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tui.chat.safe_text import make_safe


class SystemPromptScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="system.cancel"),
        Binding("ctrl+s", "save", "Save", id="system.save", priority=True),
    ]

    def __init__(self, current: str, presets: Mapping[str, str]) -> None:
        super().__init__()
        self.current = current
        self.presets = dict(presets)

    def compose(self) -> ComposeResult:
        with Vertical(id="system-panel"):
            yield Static(
                "System prompt for this conversation — Ctrl+S saves (empty clears) · Esc cancels",
                id="system-title",
            )
            yield TextArea(self.current, id="system-text", soft_wrap=True)
            if self.presets:
                yield Static("Presets from the config file (Enter puts one in the box):")
                options = [
                    Option(
                        Content.assemble((make_safe(name), "bold"), "  ", _preview(text)), id=name
                    )
                    for name, text in self.presets.items()
                ]
                yield OptionList(*options, id="system-presets")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(OptionList.OptionSelected)
    def _use_preset(self, event: OptionList.OptionSelected) -> None:
        text_area = self.query_one(TextArea)
        text_area.text = self.presets.get(event.option.id or "", "")
        text_area.focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)


def _preview(text: str) -> str:
    line = " ".join(text.split())
    return make_safe(line if len(line) <= 60 else line[:59] + "…")

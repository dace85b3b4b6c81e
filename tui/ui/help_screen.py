"""F1: every key of the screen underneath, generated from its real bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self._rows = key_rows(under)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-panel"):
            yield Static(Content.from_markup("[b]tui-chat keys[/b]"), id="help-title")
            for keys, description in self._rows:
                yield Static(Content.assemble((f"{keys:<16}", "bold"), description), classes="help-row")
            yield Static("Ctrl+P opens the command palette, where every action is listed too.",
                         id="help-footer")


def key_rows(screen: Screen) -> list[tuple[str, str]]:
    """(keys, description) for each described binding active on `screen`, deduplicated."""
    by_action: dict[str, tuple[list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        if not binding.description:
            continue
        keys, _ = by_action.setdefault(binding.action, ([], binding.description))
        label = screen.app.get_key_display(binding)
        if label not in keys:
            keys.append(label)
    return [(" / ".join(keys), description) for keys, description in by_action.values()]

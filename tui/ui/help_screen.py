"""F1: every key of the screen underneath, generated from its real bindings."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.ui.slash_commands import COMMANDS
from tui.ui.widgets.message_views import AssistantMessageView, UserMessageView
from tui.ui.widgets.selectable_message import SelectableMessage


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
            for heading, rows in self._rows:
                yield Static(Content.from_markup(f"[b]{heading}[/b]"), classes="help-heading")
                for keys, description in rows:
                    yield Static(
                        Content.assemble((f"{keys:<22}", "bold"), description), classes="help-row"
                    )
            yield Static(
                "Ctrl+P opens the command palette, where every action is listed too.",
                id="help-footer",
            )


Rows = list[tuple[str, str]]


def key_rows(screen: Screen) -> list[tuple[str, Rows]]:
    """The keys active on `screen`, the footer's first, then the prompt's editing keys."""
    main: dict[str, tuple[list[str], str]] = {}
    editing: dict[str, tuple[list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        if not binding.description:
            continue
        from_chat = isinstance(active.node, Screen | App)  # not the prompt's editing keys
        group = main if from_chat or binding.action == "command_palette" else editing
        keys, _ = group.setdefault(binding.action, ([], binding.description.capitalize()))
        label = readable_key(key)
        if label not in keys:
            keys.append(label)
    main.setdefault("newline", (["Ctrl+J", "Shift+Enter"], "New line in the prompt"))
    main.setdefault("send", (["Enter"], "Send the prompt"))
    main.setdefault("recall", (["Up", "Down"], "Earlier / later prompts (in an empty prompt)"))
    return [
        ("Chat", [(" / ".join(keys), text) for keys, text in main.values()]),
        ("On a selected message (Ctrl+Up)", message_key_rows()),
        ("Slash commands (Tab completes)", [(name, text) for name, text in COMMANDS.items()]),
        ("Editing the prompt", [(" / ".join(keys), text) for keys, text in editing.values()]),
    ]


def message_key_rows() -> Rows:
    """From the message views' own bindings; the hidden 2-9 are covered by "1"'s row."""
    rows: dict[str, tuple[list[str], str]] = {}
    views = (SelectableMessage, UserMessageView, AssistantMessageView)
    for binding in (binding for view in views for binding in view.BINDINGS):
        assert isinstance(binding, Binding)
        if not binding.show and binding.key.isdigit():
            continue
        keys, _ = rows.setdefault(binding.description, ([], binding.description))
        keys.extend(readable_key(key) for key in binding.key.split(","))
    return [(" / ".join(keys), text) for keys, text in rows.values()]


_KEY_NAMES = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn"}


def readable_key(key: str) -> str:
    """ "ctrl+r" as "Ctrl+R": the help screen spells keys out, unlike the compact footer."""
    parts = key.split("+")
    return "+".join(
        _KEY_NAMES.get(part, part.capitalize() if len(part) > 1 else part.upper()) for part in parts
    )

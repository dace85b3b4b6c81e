"""F1: every command and its keys, from the command table with the keymap applied."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.commands import COMMANDS, Command, Scope, in_scope, keys_of


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, under: Screen, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._rows = key_rows(under, keymap)
        self._help = {command.id: command.help for command in COMMANDS}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-panel"):
            yield Static(Content.from_markup("[b]tui-chat keys[/b]"), id="help-title")
            for heading, rows in self._rows:
                yield Static(Content.from_markup(f"[b]{heading}[/b]"), classes="help-heading")
                for keys, description, command_id in rows:
                    row = Static(
                        Content.assemble(
                            (f"{keys:<20} ", "bold"), f"{description:<26} ", (command_id, "dim")
                        ),
                        classes="help-row",
                    )
                    row.tooltip = self._help.get(command_id)
                    yield row
            yield Static(
                "Ctrl+P lists every command by name. The dim names are command ids: remap "
                'any key in the config file\'s [keymap] table, e.g. "chat.copy" = "ctrl+o".',
                id="help-footer",
            )


Rows = list[tuple[str, str, str]]
"""(keys, what they do, command id or "")."""


def key_rows(screen: Screen, keymap: Mapping[str, str]) -> list[tuple[str, Rows]]:
    """Every command from the one table, with the keys in force (`keymap` applied), then
    the prompt's own editing keys from its live bindings."""
    chat: Rows = [
        ("Enter", "Send (waits if a reply streams)", ""),
        ("Ctrl+J / Shift+Enter", "New line", ""),
        ("Up / Down", "Earlier / later prompts", ""),
        ("Ctrl+P", "Command palette", ""),
        ("Ctrl+Q", "Quit", "app.quit"),
    ]
    chat += [
        (_keys(command, keymap), command.title, command.id) for command in in_scope(Scope.CHAT)
    ]
    on_message: Rows = [
        (_keys(command, keymap), command.title, command.id)
        for scope in (Scope.MESSAGE, Scope.PROMPT, Scope.REPLY)
        for command in in_scope(scope)
    ]
    slash: Rows = [
        (" ".join([command.slash[0], command.argument]).strip(), command.title, command.id)
        for command in COMMANDS
        if command.slash
    ]
    editing: dict[str, tuple[list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        if not binding.description or isinstance(active.node, Screen | App):
            continue
        keys, _ = editing.setdefault(binding.action, ([], binding.description.capitalize()))
        label = readable_key(key)
        if label not in keys:
            keys.append(label)
    return [
        ("Chat", chat),
        ("On a selected message (Ctrl+Up)", on_message),
        ("Slash commands (Tab completes)", slash),
        ("Editing the prompt", [(" / ".join(keys), text, "") for keys, text in editing.values()]),
    ]


def _keys(command: Command, keymap: Mapping[str, str]) -> str:
    keys = keys_of(command, keymap)
    return " / ".join(readable_key(key) for key in keys) if keys else "—"


_KEY_NAMES = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn"}


def readable_key(key: str) -> str:
    """ "ctrl+r" as "Ctrl+R": the help screen spells keys out, unlike the compact footer."""
    parts = key.split("+")
    return "+".join(
        _KEY_NAMES.get(part, part.capitalize() if len(part) > 1 else part.upper()) for part in parts
    )

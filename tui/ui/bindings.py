"""Textual bindings made from the command table (`tui.commands`), so keys, the footer,
the palette and F1 all say the same thing; the config's `[keymap]` remaps them by id
through Textual's own keymap."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from tui.commands import Scope, in_scope


def bindings_for(scope: Scope) -> list[BindingType]:
    """One binding per command of `scope` that has a key (or may get one from a keymap:
    a binding with no key is given an unused placeholder that the keymap replaces)."""
    bindings: list[BindingType] = []
    for command in in_scope(scope):
        bindings.append(
            Binding(
                command.keys or f"unbound-{command.id}",
                command.action,
                command.title,
                show=command.footer and bool(command.keys),
                id=command.id,
                tooltip=command.help,
            )
        )
    return bindings

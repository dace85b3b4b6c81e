"""Textual's footer, rebuilt only when the keys it shows change, and built without waste.

Textual's `Footer` recomposes after every focus change, whatever the keys, and each of its
keys restyles itself twice while mounting: its `compact` starts True (a class added, a
restyle), then the footer's False is bound in (the class removed, another restyle). Holding
Up in a long conversation moves focus 30 times a second, and those restyles were a sixth of
the app's CPU meanwhile (py-spy). Here a rebuild waits for the next refresh, is skipped when
the keys shown are the same, and each key starts with the footer's own `compact`.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._keys_shown: tuple[Hashable, ...] | None = None
        self._rebuild_pending = False
        """A rebuild is asked for after the next refresh: many focus changes in one frame
        (a held key) make one rebuild."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._rebuild_pending:
            return
        if self.is_attached and screen is self.screen:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild_if_keys_changed)

    async def _rebuild_if_keys_changed(self) -> None:
        self._rebuild_pending = False
        shown = self._keys()
        if shown != self._keys_shown:
            self._keys_shown = shown
            await self.recompose()

    def _keys(self) -> tuple[Hashable, ...]:
        """What the footer is built from: every active binding with its state (hidden ones
        too, as the palette's key is one), and the footer's own settings."""
        return (
            self.compact,
            self.show_command_palette,
            *(
                (binding, enabled, tooltip)
                for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            ),
        )

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # Bound to the footer's value, set here already: no restyle when it is bound.
            # (The palette's key is not bound: it keeps its own, compact look.)
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

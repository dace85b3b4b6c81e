"""Textual's footer, rebuilt only when the keys it shows change, and built without waste.

Textual's `Footer` recomposes after every focus change, whatever the keys, and each of its
keys restyles itself twice while mounting: its `compact` starts True (a class added, a
restyle), then the footer's False is bound in (the class removed, another restyle). Holding
Up in a long conversation moves focus 30 times a second, and those restyles were a sixth of
the app's CPU meanwhile (py-spy). Here a rebuild waits for focus to settle, is skipped when
the keys shown are the same, and each key starts with the footer's own `compact`.

And the old keys are let go. Each key binds the footer's `compact`, which stores a watcher
*on the footer*; Textual prunes those only when `compact` changes, which it never does
(Textual#6666, open): every key of every rebuild stayed alive, 1,400 of them after holding
Up for five seconds, each found by every full collection (up to 200 ms at a time) and
scanned by every new key's binding.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

SETTLE_SECONDS = 0.08
"""The footer follows focus once it has stayed put this long: a held key (30 moves a
second) rebuilds it once, when released, not at every step. Keys that change where focus
stays (a reply starts or ends) show in the next frame."""


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._keys_shown: tuple[Hashable, ...] | None = None
        self._focus_shown: weakref.ref[Widget] | None = None
        """Where focus was when the keys were last shown (weakly: a removed widget must
        not live on for the footer's sake)."""
        self._settled: Timer | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._settled is not None:
            self._settled.reset()
        elif self._focus_shown is not None and screen.focused is self._focus_shown():
            self.call_after_refresh(self._rebuild_if_keys_changed)
        else:
            self._settled = self.set_timer(SETTLE_SECONDS, self._rebuild_if_keys_changed)

    async def _rebuild_if_keys_changed(self) -> None:
        self._settled = None
        focused = self.screen.focused
        self._focus_shown = weakref.ref(focused) if focused is not None else None
        shown = self._keys()
        if shown != self._keys_shown:
            self._keys_shown = shown
            await self.recompose()
            self._forget_removed_keys()

    def _forget_removed_keys(self) -> None:
        """Drops the watchers of keys no longer mounted (Textual keeps them on the watched
        object, in its `__watchers`, until the watched value changes)."""
        watchers = getattr(self, "__watchers", None)
        if not isinstance(watchers, dict):
            return
        for entries in watchers.values():
            entries[:] = [
                (node, callback) for node, callback in entries if getattr(node, "is_attached", True)
            ]

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

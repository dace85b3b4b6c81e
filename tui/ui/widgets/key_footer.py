"""Textual's footer, rebuilt only when the keys it shows change, and built without waste.

Textual's `Footer` recomposes after every focus change, whatever the keys, and each of its
keys restyles itself twice while mounting: its `compact` starts True (a class added, a
restyle), then the footer's False is bound in (the class removed, another restyle). Holding
Up in a long conversation moves focus 30 times a second, and those restyles were a sixth of
the app's CPU meanwhile (py-spy). Here a burst of changes makes two rebuilds (its first
and its last), a rebuild is skipped when the keys shown are the same, and each key starts
with the footer's own `compact`.

When the keys change, the keys already mounted are given the new ones' words, and only
the difference is mounted or removed: a rebuild mounted and styled every key anew (22 ms
for 15 keys, at each move between a prompt and a reply), and a move changes a key or two.

And the old keys are let go. Each key binds the footer's `compact`, which stores a watcher
*on the footer*; Textual prunes those only when `compact` changes, which it never does
(Textual#6666, open): every key of every rebuild stayed alive, 1,400 of them after holding
Up for five seconds, each found by every full collection (up to 200 ms at a time) and
scanned by every new key's binding.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import cast

from textual.app import ComposeResult
from textual.compose import compose
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

SETTLE_SECONDS = 0.08
"""Keys change in the footer at once, unless it was rebuilt less than this ago: then once
changes stop for this long. A held key (30 moves a second) rebuilds it at the first move
and when released, not at every step; a single move or a reply starting shows at once."""


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._keys_shown: tuple[Hashable, ...] | None = None
        self._last_rebuild = -SETTLE_SECONDS
        self._settling: Timer | None = None
        """The rebuild waiting for changes to stop, if one is."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._settling is not None:
            self._settling.reset()
        elif time.monotonic() - self._last_rebuild >= SETTLE_SECONDS:
            if self._keys_shown is not None:  # the first build opens no window: a key
                self._last_rebuild = time.monotonic()  # pressed at once shows at once
            self.call_after_refresh(self._rebuild_if_keys_changed)
        else:
            self._settling = self.set_timer(SETTLE_SECONDS, self._settled)

    async def _settled(self) -> None:
        self._settling = None
        self._last_rebuild = time.monotonic()
        await self._rebuild_if_keys_changed()

    async def _rebuild_if_keys_changed(self) -> None:
        if not self._keys_may_change():
            return  # (most calls: no lock, no batch)
        # Under the widget's lock, in one batch: no frame shows keys half changed, and a
        # rebuild from the timer and one after a refresh do not interleave.
        async with self.batch():
            if not self._keys_may_change():
                return  # (gone, or changed by the rebuild this one waited for)
            shown = self._keys()
            if not await self._change_keys_in_place():
                await self.recompose()
            self._keys_shown = shown
            self._forget_removed_keys()

    def _keys_may_change(self) -> bool:
        """Whether a rebuild may have anything to do: the footer is on screen and the
        keys to show differ from the keys shown."""
        return self.is_attached and not self._pruning and self._keys() != self._keys_shown

    async def _change_keys_in_place(self) -> bool:
        """The keys mounted take the words of the keys composed now, in order; the ones
        left over are removed, the ones missing mounted. False (nothing changed) when
        either has anything but plain keys (a group of bindings, its label), or when
        Textual's key no longer keeps its state where this expects it."""
        mounted = list(self.children)
        if not mounted:
            return False  # the first build
        wanted = compose(self)
        if not all(
            type(key) is FooterKey and hasattr(key, "_disabled") for key in (*wanted, *mounted)
        ):
            return False
        wanted_keys, wanted_palette = _apart(cast(list[FooterKey], wanted))
        mounted_keys, mounted_palette = _apart(cast(list[FooterKey], mounted))
        if (wanted_palette is None) != (mounted_palette is None):
            return False
        for old, new in zip(mounted_keys, wanted_keys, strict=False):
            _take_over(old, new)
        if mounted_palette is not None and wanted_palette is not None:
            _take_over(mounted_palette, wanted_palette)
        if len(wanted_keys) > len(mounted_keys):
            await self.mount_all(wanted_keys[len(mounted_keys) :], before=mounted_palette)
        elif len(wanted_keys) < len(mounted_keys):
            await self.remove_children(mounted_keys[len(wanted_keys) :])
        return True

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


def _apart(keys: list[FooterKey]) -> tuple[list[FooterKey], FooterKey | None]:
    """The keys of bindings, and the command palette's key (docked on the right)."""
    palette = next((key for key in keys if key.has_class("-command-palette")), None)
    return [key for key in keys if key is not palette], palette


def _take_over(old: FooterKey, new: FooterKey) -> None:
    """`old`, mounted, shows what `new` (never mounted) would. (Under the pointer, it
    stays hovered: a key rebuilt would not be until the pointer moved.)"""
    words = (new.key, new.key_display, new.description, new.action, new._disabled)
    if words != (old.key, old.key_display, old.description, old.action, old._disabled):
        old.key, old.key_display, old.description, old.action, old._disabled = words
        old.set_class(new._disabled, "-disabled")
        old.refresh(layout=True)  # its width follows its words
    if old.tooltip != new.tooltip:
        old.tooltip = new.tooltip

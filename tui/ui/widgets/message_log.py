"""The scrolling log of messages; follows the bottom unless the user scrolled away."""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget

from tui.ui.textual_workarounds import forget_removed_widgets, release_drawn_lines


class MessageLog(VerticalScroll, can_focus=True):
    class ReachedTop(Message):
        """The user scrolled to the very top: a long conversation may show more of itself."""

    class ReachedBottom(Message):
        """The user scrolled to the very bottom: later turns, if unmounted, may come back."""

    def on_mount(self) -> None:
        # Anchored: new content keeps the view at the bottom; a user scroll releases the
        # anchor and scrolling back to the bottom restores it (Textual's own behaviour).
        self.anchor()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self.post_message(self.ReachedTop())
        bottom = self.max_scroll_y
        if bottom > 0 and new_value >= bottom > old_value:
            self.post_message(self.ReachedBottom())

    async def drop(self, views: Sequence[Widget] | None = None) -> None:
        """Removes `views` (all of them if None) and lets their rendered lines go: turns
        come and go all the time while a long history is scrolled."""
        going = list(views) if views is not None else list(self.children)
        release_drawn_lines(going)
        await self.remove_children(going)
        forget_removed_widgets()

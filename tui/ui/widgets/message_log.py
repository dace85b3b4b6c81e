"""The scrolling log of messages; follows the bottom unless the user scrolled away."""

from __future__ import annotations

from textual.containers import VerticalScroll


class MessageLog(VerticalScroll, can_focus=True):
    def on_mount(self) -> None:
        # Anchored: new content keeps the view at the bottom; a user scroll releases the
        # anchor and scrolling back to the bottom restores it (Textual's own behaviour).
        self.anchor()

"""A finished part of a reply, kept as the lines it rendered to, not as live widgets.

Textual lays out every widget of the tree on each frame, scrolled-off ones included, so a
long reply made of hundreds of Markdown blocks gets slower with every block. Once a segment
can no longer change, its rendered lines are captured once and it is replaced by this one
cheap widget that looks exactly the same (the lines come from the same Markdown widgets,
theme and all). Its source is kept, so a width change can turn it back into live Markdown.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget


class FrozenSegment(Widget):
    class WidthChanged(Message):
        """The lines no longer fit: the parent should render `source` afresh."""

        def __init__(self, segment: FrozenSegment) -> None:
            super().__init__()
            self.segment = segment

    def __init__(self, source: str, lines: list[Strip], width: int) -> None:
        super().__init__()
        self.source = source
        self._lines = lines
        self.width_frozen = width

    def extend(self, source: str, lines: list[Strip]) -> None:
        """Takes the next frozen part, so a reply keeps one frozen widget however long."""
        self.source += source
        self._lines.extend(lines)
        self.refresh(layout=True)

    def absorb(self, following: FrozenSegment) -> None:
        """Takes the frozen text that comes right after this one (same width)."""
        self.extend(following.source, following._lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def line_text(self, y: int) -> str:
        """The plain text of one rendered line, to find what a click landed on."""
        return self._lines[y].text if 0 <= y < len(self._lines) else ""

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self.width_frozen:
            self.post_message(self.WidthChanged(self))

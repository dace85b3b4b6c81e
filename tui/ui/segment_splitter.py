"""Finds where streamed Markdown can start a new widget without changing how it renders.

A long reply is rendered as several Markdown widgets ("segments") so that appending to the
last one never re-lays-out the blocks of the earlier ones. A new segment may only start at a
top-level block boundary: after a blank line, outside a fenced code block, at a line that is
not indented (an indented line after a blank could be a list item's continuation).
"""

from __future__ import annotations

_FENCE_CHARS = "`~"


class SegmentSplitter:
    """Scans the stream once, incrementally: the cost of `feed` is that of its text."""

    def __init__(self) -> None:
        self._partial_line = ""
        self._previous_line_blank = False
        self._fence_marker: str | None = None

    def feed(self, text: str) -> list[int]:
        """Returns the offsets in `text` at which a new segment could start."""
        offsets: list[int] = []
        position = 0
        pieces = text.split("\n")
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            if (
                not self._partial_line
                and piece
                and self._previous_line_blank
                and self._fence_marker is None
                and not piece[0].isspace()
            ):
                offsets.append(position)
            self._partial_line += piece
            position += len(piece)
            if index < last:
                self._complete_line(self._partial_line)
                self._partial_line = ""
                position += 1
        return offsets

    def _complete_line(self, line: str) -> None:
        stripped = line.strip()
        if self._fence_marker is not None:
            if stripped.startswith(self._fence_marker) and not stripped.strip(_FENCE_CHARS):
                self._fence_marker = None
            self._previous_line_blank = False
            return
        if stripped[:3] in ("```", "~~~"):
            marker_char = stripped[0]
            length = len(stripped) - len(stripped.lstrip(marker_char))
            self._fence_marker = marker_char * length
        self._previous_line_blank = not stripped

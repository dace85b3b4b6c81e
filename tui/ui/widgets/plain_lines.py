"""The rest of a huge reply, as plain text drawn only where it is seen.

Markdown layout costs about 4 ms per KB and a Strip per line kept alive: a 50 MB reply (a
runaway model, a hostile server) took minutes and a gigabyte. Past `ReplyBody`'s limit the
text lands here instead: kept as its lines, wrapped by counting cells, and turned into a
Strip only when a line is drawn, so adding text costs its own length and memory stays
near the text's own size.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from itertools import accumulate

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget


def rows_of(line: str, width: int) -> int:
    """How many rows `line` takes when cut every `width` cells (a wide character that
    would straddle the edge moves to the next row, so such a line is cut to be counted)."""
    return rows_of_each([line], width)[0]


def rows_of_each(lines: list[str], width: int) -> list[int]:
    """`rows_of` for every line, written out in one comprehension: measuring a huge reply's
    400,000 lines at a new width took 0.16 s calling a function for each, 0.06 s so."""
    return [
        (-(-len(line) // width) or 1) if line.isascii() else len(cut(line, width)) for line in lines
    ]


def cut(line: str, width: int) -> list[str]:
    """`line` cut every `width` cells (a wide character is never split)."""
    if line.isascii():
        return [line[start : start + width] for start in range(0, len(line), width)] or [""]
    return chop_cells(line, width) or [""]


class PlainLines(Widget):
    """Plain text that grows at its end; a long line wraps at the widget's width."""

    DEFAULT_CSS = """
    PlainLines {
        height: auto;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[str] = [""]
        """The text's lines; the last one may still grow."""
        self._width = 0
        self._cut_cache: tuple[tuple[int, int, int], list[str]] = ((-1, 0, 0), [])
        """The last non-ASCII line cut for drawing, as (index, width, length) and pieces."""
        self._ends = array("q")
        """Per line, the row after its last at `_width` (empty until a width is known); an
        array, as a list of a million ints took 40 MB."""

    @property
    def text(self) -> str:
        return "\n".join(self._lines)

    def append(self, text: str) -> None:
        """Adds text at the end; only the new lines are measured."""
        if not text:
            return
        new = text.replace("\t", "    ").split("\n")
        new[0] = self._lines.pop() + new[0]
        first = len(self._lines)
        self._lines.extend(new)
        if self._width:
            del self._ends[first:]
            start = self._ends[-1] if self._ends else 0
            width = self._width
            self._ends.extend(accumulate(rows_of_each(new, width), initial=start))
            del self._ends[first]  # `initial` is the row the first new line starts at
        self.refresh(layout=True)

    def _measure(self, width: int) -> array[int]:
        if width != self._width:
            self._width = width
            self._ends = array("q", accumulate(rows_of_each(self._lines, width)))
        return self._ends

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        ends = self._measure(max(1, width))
        return ends[-1] if ends else 0

    def render_line(self, y: int) -> Strip:
        width = max(1, self._width or self.size.width)
        ends = self._measure(width)
        index = bisect_right(ends, y)
        if index >= len(self._lines):
            return Strip.blank(width)
        row = y - (ends[index - 1] if index else 0)
        line = self._lines[index]
        if line.isascii():  # a slice: cutting all of a 20 MB line for each row took seconds
            piece = line[row * width : (row + 1) * width]
        else:
            if self._cut_cache[0] != (index, width, len(line)):
                self._cut_cache = ((index, width, len(line)), cut(line, width))
            pieces = self._cut_cache[1]
            piece = pieces[row] if row < len(pieces) else ""
        style = self.rich_style
        cells = len(piece) if piece.isascii() else cell_len(piece)
        return Strip([Segment(piece, style)], cells).adjust_cell_length(width, style)

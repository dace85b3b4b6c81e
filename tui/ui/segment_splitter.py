"""Finds where streamed Markdown can start a new segment without changing how it renders.

A long reply is laid out as several segments so that text added at its end never lays out
the blocks of the earlier ones again. A new segment may only start at a
top-level block boundary: after a blank line, outside a fenced code block, at a line
indented by at most three spaces and by less than the content of the last list item (a
line indented that far after a blank would continue the item). Models often start lines
with a space (" The", " ```python"): refusing every indented line left such replies in one
ever-growing segment, with every frame laying out all of it. Nor at a line that may be the
next item of an open list: a list with a blank line between its items is one list. Nor
inside an HTML block that blank lines do not end (a comment, `<pre>`, `<script>`: cut
there, its inside was drawn as Markdown, a definition in a comment defined a link).
"""

from __future__ import annotations

import re

_FENCE_CHARS = "`~"
_LIST_ITEM = re.compile(r"^( *)([-+*]|\d{1,9}[.)])( +)(?=\S)")
_HTML_BLOCKS_OVER_BLANK_LINES = (
    (
        re.compile(r"<(?a:(script|pre|style|textarea))(?=(\s|>|$))", re.IGNORECASE),
        re.compile(r"</(?a:(script|pre|style|textarea))>", re.IGNORECASE),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
)
"""The HTML blocks that go on past blank lines, each to a line holding its end (the same
line may hold both): CommonMark's kinds 1 to 5, as markdown-it's `html_block` has them."""


_ENDS_A_LIST_ITEM = re.compile(
    r" {0,3}(?:#{1,6}(?:[ \t]|$)|```|~~~|>|(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$)"
)
"""A line less indented than a list item's text that ends the list though no blank line
came first: a heading, a fence, a quote or a rule is no lazy line of the item's."""


def _html_block_end(text: str) -> re.Pattern[str] | None:
    """What ends the HTML block that `text` (a line from its first non-space) starts, if it
    starts one that blank lines do not end."""
    return next((end for start, end in _HTML_BLOCKS_OVER_BLANK_LINES if start.match(text)), None)


def _marker_kind(first: str) -> str:
    """The kind of list a line starting with `first` may be an item of (judged on its first
    character: the rest of the line may not have arrived): "-", "+", "*", "1" (numbered),
    or "" (none). Another kind starts another list."""
    if first.isdigit():
        return "1"
    return first if first in "-+*" else ""


class SegmentSplitter:
    """Scans the stream once, incrementally: the cost of `feed` is that of its text."""

    def __init__(self) -> None:
        self._partial_line = ""
        self._previous_line_blank = False
        self._fence_marker: str | None = None
        self._html_end: re.Pattern[str] | None = None
        """What ends the open HTML block, if one is open that blank lines do not end."""
        self._items: list[int] = []
        """Where the text of each open list item starts, outermost first: a line after a
        blank continues the innermost item whose text starts no deeper than it does (a
        paragraph back under a numbered step, after its bullets, is the step's)."""
        self._list_marker = ""
        """The kind of the open top-level list's markers (`_marker_kind`)."""

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
                and self._html_end is None
                and self._starts_top_level_block(piece)
            ):
                offsets.append(position)
            self._partial_line += piece
            position += len(piece)
            if index < last:
                self._complete_line(self._partial_line)
                self._partial_line = ""
                position += 1
        return offsets

    def _starts_top_level_block(self, line: str) -> bool:
        """Judged on what has arrived of the line: its indentation is all that matters."""
        indent = len(line) - len(line.lstrip(" "))
        if indent == len(line):
            return False  # only spaces so far: wait for the rest of the line
        if line[indent] == "\t" or indent > 3:
            return False
        if self._items and _marker_kind(line[indent]) == self._list_marker:
            # Maybe the next item of a list with blank lines between its items: cut there,
            # the list was two lists, each with its own margin and its numbers' width.
            return False
        return not self._items or indent < self._items[0]

    def _complete_line(self, line: str) -> None:
        stripped = line.strip()
        if self._fence_marker is not None:
            if stripped.startswith(self._fence_marker) and not stripped.strip(_FENCE_CHARS):
                self._fence_marker = None
            self._previous_line_blank = False
            return
        if self._html_end is not None:
            if self._html_end.search(line):
                self._html_end = None
            self._previous_line_blank = False
            return
        indent = len(line) - len(line.lstrip(" "))
        html_end = _html_block_end(line[indent:]) if indent <= 3 else None
        if stripped:
            item = _LIST_ITEM.match(line)
            if item:
                self._close_items_deeper_than(indent)
                if not self._items:  # an item of the top-level list
                    self._list_marker = _marker_kind(item.group(2)[0])
                self._items.append(len(item.group(0)))
            elif self._previous_line_blank or html_end or _ENDS_A_LIST_ITEM.match(line):
                # Not a lazy line of the item's (an HTML block, a heading, a fence, a quote
                # or a rule interrupts a paragraph): the items it is not inside end.
                self._close_items_deeper_than(indent)
        if stripped[:3] in ("```", "~~~"):
            marker_char = stripped[0]
            length = len(stripped) - len(stripped.lstrip(marker_char))
            self._fence_marker = marker_char * length
        elif html_end is not None and not self._items:
            # At the top level only: in a list item, the block ends with the item.
            self._html_end = None if html_end.search(line) else html_end
        self._previous_line_blank = not stripped

    def _close_items_deeper_than(self, indent: int) -> None:
        """Ends the open list items whose text starts deeper than `indent`."""
        while self._items and indent < self._items[-1]:
            self._items.pop()
        if not self._items:
            self._list_marker = ""

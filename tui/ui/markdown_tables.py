"""Markdown tables laid out as Textual's grid lays out its `MarkdownTable`: the same
column widths at every terminal width, the same wrapping and cut words."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.content import Content
from textual.style import Style

from tui.ui.markdown_inline import Block, MarkdownLook, fill, inline_of

if TYPE_CHECKING:  # (the parser is imported only when something is parsed)
    from markdown_it.tree import SyntaxTreeNode


def table_block(node: SyntaxTreeNode, width: int, look: MarkdownLook) -> Block:
    """Laid out as Textual's grid lays out `MarkdownTableContent`: a column per header, each
    as wide as its widest cell (plus a space each side), then stretched or shrunk to fit
    (`_column_widths`); cells wrap at words and cut a word too long with an ellipsis; rows
    are as tall as their tallest cell, headers sit at the bottom of theirs."""
    headers: list[Content] = []
    rows: list[list[Content]] = []
    # the table's background goes under whole lines, once (see-through ones would add up)
    under = Style(background=look.table_lines.background)
    lines_style = replace(look.table_lines, background=None)
    header = replace(look.table_header, background=None)
    for section in node.children:
        for row in section.children:
            cells = [inline_of(cell, look) for cell in row.children]
            if section.type == "thead":
                headers = [cell.stylize_before(header) for cell in cells]
            else:
                rows.append(cells)
    columns = len(headers)  # markdown-it gives every row as many cells as the header
    if not columns:
        return Block([], 0, 0)
    widths = _column_widths([headers, *rows], columns, width)

    def rule(left: str, middle: str, right: str) -> Content:
        text = left + middle.join("─" * size for size in widths) + right
        return fill(Content.styled(text, lines_style), width, under)

    def row_lines(cells: list[Content], at_bottom: bool) -> list[Content]:
        wrapped = [_cell_lines(cell, size - 2) for cell, size in zip(cells, widths, strict=False)]
        height = max(len(cell) for cell in wrapped)
        if at_bottom:
            wrapped = [[Content("")] * (height - len(cell)) + cell for cell in wrapped]
        bar = Content.styled("│", lines_style)
        out = []
        for y in range(height):
            line = bar
            for cell, size in zip(wrapped, widths, strict=True):
                text = cell[y] if y < len(cell) else Content("")
                line = line + fill(Content(" ") + text, size, Style()) + bar
            out.append(fill(line, width, under))
        return out

    lines = [rule("┌", "┬", "┐"), *row_lines(headers, at_bottom=True)]
    for cells in rows:
        lines += [rule("├", "┼", "┤"), *row_lines(cells, at_bottom=False)]
    lines.append(rule("└", "┴", "┘"))
    return Block(lines, 0, 1)


def _cell_lines(cell: Content, width: int) -> list[Content]:
    """A cell's text wrapped to `width`, a word too long cut with an ellipsis. A column
    too narrow for any text still has the height Textual gives it (a line per word)."""
    lines = cell.wrap(width, overflow="ellipsis")
    return lines if width > 0 else [Content("")] * len(lines)


def _column_widths(rows: list[list[Content]], columns: int, width: int) -> list[int]:
    """The widths Textual's grid layout (`expand`, `shrink`, `auto_minimum`) gives the
    columns: each as wide as its widest cell plus its padding, scaled up to fill the width;
    if too wide, taken down to its longest word a column at a time from the left (the
    first column gives up all it can before the second gives any), then all scaled down
    alike if that is not enough; then cut at whole cells."""
    natural = [0] * columns
    minimums = [1] * columns
    for row in rows:
        for index, cell in enumerate(row[:columns]):
            natural[index] = max(natural[index], cell.cell_length + 2)
            minimums[index] = max(minimums[index], _longest_word(cell.plain) + 2)
    sizes = [Fraction(size) for size in natural]
    space = width - 2 - (columns - 1)  # the lines around the table and between columns
    used = sum(sizes)
    if used < space:
        sizes = [size + size / used * (space - used) for size in sizes]
    elif used > space:
        for index, size in enumerate(sizes):
            smaller = max(Fraction(minimums[index]), size - (used - space))
            sizes[index] = smaller
            used += smaller - size
            if used <= space:
                break
        if used > space:
            sizes = [size - size / used * (used - space) for size in sizes]
    cells: list[int] = []
    start = Fraction(0)
    for size in sizes:
        cells.append(max(0, math.floor(start + size) - math.floor(start)))  # not < 0 if tiny
        start += size + 1
    return cells


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)

"""Finished Markdown straight to rendered lines, with no widget per block.

Textual's `Markdown` builds a widget for every block, list item and table cell (43 for a
1 KB reply), and each costs styling and layout: mounting one stored reply took 150-250 ms,
so scrolling back through a long conversation stalled on every step. Text that can no
longer change does not need live widgets. This module lays it out in one pass (about 7 ms
for the same reply) in the shape Textual's widget gives it: the same parser, margins,
bullets, code highlighting and table lines, with colours from the theme (`MarkdownLook`),
so a stored reply looks like the one that streamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from textual.content import Content, Span
from textual.strip import Strip
from textual.style import Style
from textual.widgets.markdown import MarkdownFence

BULLETS = ("• ", "▪ ", "‣ ", "⭑ ", "◦ ")
"""Textual's own, by depth of nesting."""
RULE = "─"
QUOTE_EDGE = "▌"


@dataclass(frozen=True)
class MarkdownLook:
    """The resolved styles of every part, taken from the widget's component classes so that
    the theme (and `.tcss`) decide them, not this module."""

    text: Style
    headings: tuple[Style, Style, Style, Style, Style, Style]
    em: Style
    strong: Style
    strike: Style
    code_inline: Style
    link: Style
    bullet: Style
    fence: Style
    quote: Style
    quote_edge: Style
    rule: Style
    table_lines: Style
    table_header: Style
    ansi: bool = False
    dark: bool = True
    highlight_unbuilt: bool = True
    """False: code in a language whose highlighter is not built yet is drawn plain (see
    `take_languages_drawn_plain`), so building it does not hold up the first frame."""


_built_highlighters: set[str] = set()
"""Languages this process has highlighted code in ("" is the guesser, for fences without
one). The first time costs 25-65 ms (Pygments compiles the language's rules), 130 ms to
guess (it loads every lexer)."""

_drawn_plain: set[str] = set()


def take_languages_drawn_plain() -> set[str]:
    """The languages whose code the renders since the last call drew plain (see
    `MarkdownLook.highlight_unbuilt`); rendering happens on the event loop's thread only."""
    taken = set(_drawn_plain)
    _drawn_plain.clear()
    return taken


def build_highlighters(languages: Iterable[str]) -> None:
    """Builds the highlighters of `languages` ahead of the code that needs them."""
    for language in languages:
        if language not in _built_highlighters:
            MarkdownFence.highlight("x = 1\n", language)
            _built_highlighters.add(language)


@dataclass
class _Block:
    lines: list[Content]
    top: int = 0
    bottom: int = 0


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("gfm-like")  # what Textual's Markdown parses with


@dataclass(frozen=True)
class LaidOut:
    """The lines of a run of top-level blocks, without the margins above its first block
    and below its last: those collapse with the neighbouring run's (`join_laid_out`)."""

    lines: list[Strip]
    top: int = 0
    bottom: int = 0


def render_markdown(source: str, width: int, look: MarkdownLook) -> list[Strip]:
    """The lines `source` renders to at `width` cells, each exactly that wide."""
    return join_laid_out([lay_out(source, width, look)], width, look)


def lay_out(source: str, width: int, look: MarkdownLook) -> LaidOut:
    """Lays out one run of top-level blocks (a reply is laid out a run at a time, so that
    text added at its end costs only the last run)."""
    if width <= 0:
        return LaidOut([])
    tree = SyntaxTreeNode(_parser().parse(source))
    blocks = _blocks(tree.children, width, look, depth=0, top_level=True)
    if not blocks:
        return LaidOut([])
    top, bottom = blocks[0].top, blocks[-1].bottom
    blocks[0].top = blocks[-1].bottom = 0
    lines = _stack(blocks, width)
    return LaidOut([Strip(line.render_segments(look.text), width) for line in lines], top, bottom)


def join_laid_out(runs: Iterable[LaidOut], width: int, look: MarkdownLook) -> list[Strip]:
    """Runs one under another with their margins collapsed, as if laid out as one text."""
    if width <= 0:
        return []
    blank = blank_line(width, look)
    lines: list[Strip] = []
    previous_bottom = append_runs(lines, runs, None, blank)
    lines.extend([blank] * (previous_bottom or 0))
    return lines


def blank_line(width: int, look: MarkdownLook) -> Strip:
    return Strip(_blank(width).render_segments(look.text), width)


def append_runs(
    lines: list[Strip], runs: Iterable[LaidOut], previous_bottom: int | None, blank: Strip
) -> int | None:
    """Adds runs under `lines`, whose last run left `previous_bottom` (None: nothing yet),
    margins collapsed; returns the bottom margin the last run leaves, not yet added: so a
    long reply can be joined a run at a time instead of whole at every flush."""
    for run in runs:
        if not run.lines:
            continue
        gap = run.top if previous_bottom is None else max(previous_bottom, run.top)
        lines.extend([blank] * gap)
        lines.extend(run.lines)
        previous_bottom = run.bottom
    return previous_bottom


def _stack(blocks: list[_Block], width: int) -> list[Content]:
    """Blocks one under another; the gap between two is the larger of their margins, as
    in Textual's vertical layout. The first top and the last bottom margin are kept."""
    lines: list[Content] = []
    previous_bottom: int | None = None
    for block in blocks:
        gap = block.top if previous_bottom is None else max(previous_bottom, block.top)
        lines.extend(_blank(width) for _ in range(gap))
        lines.extend(block.lines)
        previous_bottom = block.bottom
    if previous_bottom:
        lines.extend(_blank(width) for _ in range(previous_bottom))
    return lines


def _blocks(
    nodes: Iterable[SyntaxTreeNode],
    width: int,
    look: MarkdownLook,
    *,
    depth: int,
    top_level: bool = False,
    in_list: bool = False,
) -> list[_Block]:
    """`top_level`: only a paragraph right in the document has a margin under it;
    `in_list`: a list inside a list has none either (Textual's CSS)."""
    blocks: list[_Block] = []
    for node in nodes:
        block = _block(node, width, look, depth=depth, top_level=top_level, in_list=in_list)
        if block is not None:
            blocks.append(block)
    return blocks


def _block(
    node: SyntaxTreeNode,
    width: int,
    look: MarkdownLook,
    *,
    depth: int,
    top_level: bool,
    in_list: bool,
) -> _Block | None:
    kind = node.type
    if kind == "paragraph":
        return _Block(_wrap(_inline_of(node, look), width), 0, 1 if top_level else 0)
    if kind == "heading":
        return _heading(node, width, look)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width, look, depth=depth, nested=in_list)
    if kind in ("fence", "code_block"):
        return _fence(node.content, node.info if kind == "fence" else "", width, look)
    if kind == "blockquote":
        return _quote(node, width, look, depth=depth)
    if kind == "hr":
        return _Block([_blank(width), _fill(Content(RULE * width), width, look.rule)], 0, 1)
    if kind == "table":
        return _table(node, width, look)
    if kind == "html_block":
        return _Block(_wrap(Content(node.content.strip()), width), 0, 1 if top_level else 0)
    return None


def _heading(node: SyntaxTreeNode, width: int, look: MarkdownLook) -> _Block:
    level = int(node.tag[1:]) if node.tag[1:].isdigit() else 1
    style = look.headings[min(level, 6) - 1]
    content = _inline_of(node, look)
    under = Style(background=style.background)  # the underline of h2 stops with its text
    lines = [
        _fill(line.center(width) if level == 1 else line, width, under)
        for line in content.stylize_before(style).wrap(width)
    ]
    return _Block(lines, 2 if level <= 2 else 1, 1)


def _list(
    node: SyntaxTreeNode, width: int, look: MarkdownLook, *, depth: int, nested: bool
) -> _Block:
    items = [child for child in node.children if child.type == "list_item"]
    if node.type == "ordered_list":
        start = _int(items[0].info if items else "", 1)
        size = max((len(f"{number}. ") for number in range(start, start + len(items))), default=3)
        symbols = [f"{number}. ".rjust(size + 1) for number in range(start, start + len(items))]
        inner_depth = depth
    else:
        symbols = [BULLETS[depth % len(BULLETS)]] * len(items)
        inner_depth = depth + 1
    lines: list[Content] = []
    for item, symbol in zip(items, symbols, strict=True):
        indent = len(symbol)
        inner = max(1, width - indent)  # too narrow for the bullet: cropped below
        body = _stack(
            _blocks(item.children, inner, look, depth=inner_depth, in_list=True), inner
        ) or [_blank(inner)]
        for index, line in enumerate(body):
            prefix = Content.styled(symbol, look.bullet) if index == 0 else _blank(indent)
            lines.append(_fill(prefix + line, width, Style()))
    return _Block(lines, 0, 0 if nested else 1)


def _fence(code: str, language: str, width: int, look: MarkdownLook) -> _Block:
    """Highlighted by Textual's own fence highlighter; long lines are cropped, as the
    widget (which scrolls sideways) shows them."""
    language = language.strip()
    if look.highlight_unbuilt or language in _built_highlighters:
        highlighted = MarkdownFence.highlight(
            code.rstrip("\n"), language, ansi=look.ansi, dark=look.dark
        )
        _built_highlighters.add(language)
    else:
        highlighted = Content(code.rstrip("\n"))
        _drawn_plain.add(language)
    inner = max(0, width - 4)
    lines = [_fill(Content(""), width, look.fence)]
    for line in highlighted.split("\n"):
        lines.append(_fill(_blank(2) + line.truncate(inner), width, look.fence))
    lines.append(_fill(Content(""), width, look.fence))
    return _Block(lines, 1, 1)


def _quote(node: SyntaxTreeNode, width: int, look: MarkdownLook, *, depth: int) -> _Block:
    inner = max(1, width - 3)
    body = _stack(_blocks(node.children, inner, look, depth=depth), inner)
    edge = Content.styled(QUOTE_EDGE, Style(foreground=look.quote_edge.foreground))
    lines = [_fill(edge + " " + line, width, look.quote) for line in body]
    return _Block(lines, 1, 1)


def _table(node: SyntaxTreeNode, width: int, look: MarkdownLook) -> _Block:
    headers: list[Content] = []
    rows: list[list[Content]] = []
    for section in node.children:
        for row in section.children:
            cells = [_inline_of(cell, look) for cell in row.children]
            if section.type == "thead":
                headers = [cell.stylize_before(look.table_header) for cell in cells]
            else:
                rows.append(cells)
    columns = max([len(headers), *(len(row) for row in rows)], default=0)
    if not columns:
        return _Block([], 0, 0)
    widths = _column_widths([headers, *rows], columns, width)
    lines_style = look.table_lines
    under = Style(background=lines_style.background)

    def rule(left: str, middle: str, right: str) -> Content:
        text = left + middle.join("─" * size for size in widths) + right
        return _fill(Content.styled(text, lines_style), width, under)

    def row_lines(cells: list[Content]) -> list[Content]:
        wrapped = [
            (cells[index] if index < len(cells) else Content("")).wrap(max(1, size - 2))
            for index, size in enumerate(widths)
        ]
        height = max(len(cell) for cell in wrapped)
        bar = Content.styled("│", lines_style)
        out = []
        for y in range(height):
            line = bar
            for cell, size in zip(wrapped, widths, strict=True):
                text = cell[y] if y < len(cell) else Content("")
                line = line + " " + _fill(text, size - 2, Style()) + " " + bar
            out.append(_fill(line, width, under))
        return out

    lines = [rule("┌", "┬", "┐"), *row_lines(headers)]
    for cells in rows:
        lines += [rule("├", "┼", "┤"), *row_lines(cells)]
    lines.append(rule("└", "┴", "┘"))
    return _Block(lines, 0, 1)


def _column_widths(rows: list[list[Content]], columns: int, width: int) -> list[int]:
    """Natural widths (longest cell plus a space each side), scaled to fill the width, or
    to fit it, and cut at the same cells as Textual's grid layout cuts them."""
    natural = [Fraction(3)] * columns
    for row in rows:
        for index, cell in enumerate(row[:columns]):
            natural[index] = max(natural[index], Fraction(cell.cell_length + 2))
    space = width - (columns + 1)  # a line at each side and between columns
    used = sum(natural)
    if space < columns * 3:
        return [3] * columns
    scaled = [size + size / used * (space - used) for size in natural]
    cells: list[int] = []
    start = Fraction(0)
    for size in scaled:
        end = start + size
        cells.append(max(3, int(end) - int(start)))
        start = end + 1
    return cells


def _inline_of(node: SyntaxTreeNode, look: MarkdownLook) -> Content:
    inline = next((child for child in node.children if child.type == "inline"), None)
    if inline is None or inline.token is None:
        return Content("")
    return inline_content(inline.token, look)


def inline_content(token: Token, look: MarkdownLook) -> Content:
    """A paragraph's text with its emphasis, code and links, built the way Textual's
    `MarkdownBlock` builds it (whitespace runs folded, soft breaks as spaces)."""
    parts: list[str] = []
    spans: list[Span] = []
    open_styles: list[tuple[Style, int]] = []
    position = 0

    def add(text: str) -> None:
        nonlocal position
        parts.append(text)
        position += len(text)

    def close() -> None:
        if open_styles:
            style, start = open_styles.pop()
            spans.append(Span(start, position, style))

    opening = {"em_open": look.em, "strong_open": look.strong, "s_open": look.strike}
    for child in token.children or []:
        kind = child.type
        if kind == "text":
            add(re.sub(r"\s+", " ", child.content))
        elif kind == "softbreak":
            add(" ")
        elif kind == "hardbreak":
            add("\n")
        elif kind == "code_inline":
            start = position
            add(child.content)
            spans.append(Span(start, position, look.code_inline))
        elif kind in opening:
            open_styles.append((opening[kind], position))
        elif kind == "link_open":
            open_styles.append((look.link, position))
        elif kind == "image":
            alt = child.attrs.get("alt") or child.content
            add(f"🖼  ({alt})" if alt else "🖼 ")
        elif kind == "html_inline":
            add(child.content)
        elif kind.endswith("_close"):
            close()
    return Content("".join(parts), spans=spans)


def _wrap(content: Content, width: int) -> list[Content]:
    return [_fill(line, width, Style()) for line in content.wrap(width)] or [_blank(width)]


def _fill(line: Content, width: int, style: Style) -> Content:
    """`line` made exactly `width` cells wide, with `style` under all of it."""
    if line.cell_length > width:
        line = line.truncate(width)
    elif line.cell_length < width:
        line = line.pad_right(width - line.cell_length)
    return line.stylize_before(style) if style else line


def _blank(width: int) -> Content:
    return Content(" " * width)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default

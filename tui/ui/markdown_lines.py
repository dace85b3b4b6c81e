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

from collections.abc import Generator, Iterable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.content import Content
from textual.strip import Strip
from textual.style import Style

from tui.frozen import frozen
from tui.ui.code_highlighters import highlighted_now
from tui.ui.markdown_inline import (
    Block,
    MarkdownLook,
    blank,
    fill,
    inline_of,
    wrap,
)
from tui.ui.markdown_references import References, parse_environment
from tui.ui.markdown_tables import table_block

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.tree import SyntaxTreeNode

BULLETS = ("• ", "▪ ", "‣ ", "⭑ ", "◦ ")
"""Textual's own, by depth of nesting."""
RULE = "─"
QUOTE_EDGE = "▌"


_drawn_plain: set[str] = set()
_plain_draws = 0
"""How many fences have been drawn plain so far: a layout that drew one is not kept."""


def plain_draws() -> int:
    """How many fences have been drawn plain so far (a layout that drew one is not kept,
    `tui.ui.markdown_kept`)."""
    return _plain_draws


def take_languages_drawn_plain() -> set[str]:
    """The languages whose code the renders since the last call drew plain (see
    `MarkdownLook.highlight_unbuilt`); rendering happens on the event loop's thread only."""
    taken = set(_drawn_plain)
    _drawn_plain.clear()
    return taken


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """The parser, imported when first needed: a launch whose replies were all laid out
    before (`kept_layouts`) draws its first frame without it (`markdown_it`, 20 ms)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like")  # what Textual's Markdown parses with


def load_markdown_parser() -> None:
    """Imports the parser and compiles its link finder's patterns off the first frame (see
    `tui.ui.warm_up`), with a parser of its own: the link finder keeps the state of a
    search in itself, so one used by this thread and the event loop's at once could find
    wrong links. Python keeps the compiled patterns for every parser."""
    from markdown_it import MarkdownIt

    MarkdownIt("gfm-like").parse("A link: example.com, https://example.com/x and me@example.com.")


@frozen
class LaidOut:
    """The lines of a run of top-level blocks, without the margins above its first block
    and below its last: those collapse with the neighbouring run's (`join_laid_out`)."""

    lines: list[Strip]
    top: int = 0
    bottom: int = 0


def render_markdown(source: str, width: int, look: MarkdownLook) -> list[Strip]:
    """The lines `source` renders to at `width` cells, each exactly that wide."""
    return join_laid_out([lay_out(source, width, look)], width, look)


def lay_out(source: str, width: int, look: MarkdownLook, references: References = ()) -> LaidOut:
    """Lays out one run of top-level blocks (a reply is laid out a run at a time, so that
    text added at its end costs only the last run); links to `references` (defined in
    other runs of the reply) resolve as if all were parsed at once."""
    return finished(laying_out(source, width, look, references))


LaidOutInSteps = Generator[None, None, LaidOut]
"""A layout that stops between its steps, each a few milliseconds; it returns what
`lay_out` would have."""


def laying_out(
    source: str, width: int, look: MarkdownLook, references: References = ()
) -> LaidOutInSteps:
    """`lay_out` in steps: the parse, then each top-level block, then the lines
    `LINES_PER_STEP` at a time. A reply laid out ahead while Up is held took 8-11 ms in
    one go (a kilobyte of Markdown), and a key or a frame that came meanwhile waited for
    all of it; a step takes 1-2 ms (a long code block or table is still one step)."""
    if width <= 0 or not source:  # (nothing parses to nothing: no parser needed)
        return LaidOut([])
    from markdown_it.tree import SyntaxTreeNode

    tree = SyntaxTreeNode(_parser().parse(source, parse_environment(references)))
    try:
        blocks: list[Block] = []
        for node in tree.children:
            yield
            blocks += _blocks([node], width, look, depth=0, top_level=True)
    finally:  # a layout given up half-way, too
        _unlink(tree)
    if not blocks:
        return LaidOut([])
    yield
    top, bottom = blocks[0].top, blocks[-1].bottom
    blocks[0].top = blocks[-1].bottom = 0
    lines = _stack(blocks, width)
    strips: list[Strip] = []
    for start in range(0, len(lines), LINES_PER_STEP):
        if start:
            yield
        strips += [
            Strip(line.render_segments(look.text), width)
            for line in lines[start : start + LINES_PER_STEP]
        ]
    return LaidOut(strips, top, bottom)


LINES_PER_STEP = 32
"""Lines made into strips per step of `laying_out` (about a millisecond's worth)."""


def finished(steps: LaidOutInSteps) -> LaidOut:
    """The layout, all its steps taken at once."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def _unlink(tree: SyntaxTreeNode) -> None:
    """Lets go of each node's parent. A parsed tree is a web of cycles (a node knows its
    parent, which knows its children), so every layout left its tree, tokens and their
    lists (a few hundred objects a reply) for a full collection to find: 28,000 objects
    a minute of held Up, most of what each of those collections freed. Unlinked, the tree
    is freed as soon as it is dropped."""
    nodes = [tree]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.children)
        node.parent = None


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
    return Strip(blank(width).render_segments(look.text), width)


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


def _stack(blocks: list[Block], width: int) -> list[Content]:
    """Blocks one under another; the gap between two is the larger of their margins, as
    in Textual's vertical layout. The first top and the last bottom margin are kept."""
    lines: list[Content] = []
    previous_bottom: int | None = None
    for block in blocks:
        gap = block.top if previous_bottom is None else max(previous_bottom, block.top)
        lines.extend(blank(width) for _ in range(gap))
        lines.extend(block.lines)
        previous_bottom = block.bottom
    if previous_bottom:
        lines.extend(blank(width) for _ in range(previous_bottom))
    return lines


def _blocks(
    nodes: Iterable[SyntaxTreeNode],
    width: int,
    look: MarkdownLook,
    *,
    depth: int,
    top_level: bool = False,
    in_list: bool = False,
) -> list[Block]:
    """`top_level`: only a paragraph right in the document has a margin under it;
    `in_list`: a list inside a list has none either (Textual's CSS)."""
    blocks: list[Block] = []
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
) -> Block | None:
    kind = node.type
    if kind == "paragraph":
        return Block(wrap(inline_of(node, look), width), 0, 1 if top_level else 0)
    if kind == "heading":
        return _heading(node, width, look)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width, look, depth=depth, nested=in_list)
    if kind in ("fence", "code_block"):
        return _fence(node.content, node.info if kind == "fence" else "", width, look)
    if kind == "blockquote":
        return _quote(node, width, look, depth=depth)
    if kind == "hr":
        return Block([blank(width), fill(Content(RULE * width), width, look.rule)], 0, 1)
    if kind == "table":
        return table_block(node, width, look)
    return None  # html_block among them: Textual's Markdown draws nothing for it


def _heading(node: SyntaxTreeNode, width: int, look: MarkdownLook) -> Block:
    level = int(node.tag[1:]) if node.tag[1:].isdigit() else 1
    style = look.headings[min(level, 6) - 1]
    content = inline_of(node, look)
    # its background under the whole line, once (see-through ones would add up); the
    # underline of h2 stops with its text
    under = Style(background=style.background)
    wrapped = content.stylize_before(replace(style, background=None)).wrap(width)
    if level == 1 and wrapped:  # centred as a block (content-align), its lines flush left
        indent = blank(max(0, width - max(line.cell_length for line in wrapped)) // 2)
        wrapped = [indent + line for line in wrapped]
    return Block([fill(line, width, under) for line in wrapped], 2 if level <= 2 else 1, 1)


def _list(
    node: SyntaxTreeNode, width: int, look: MarkdownLook, *, depth: int, nested: bool
) -> Block:
    items = [child for child in node.children if child.type == "list_item"]
    if node.type == "ordered_list":
        start = _int(items[0].info if items else "", 1)
        size = max((len(f"{number}. ") for number in range(start, start + len(items))), default=3)
        symbols = [f"{number}. ".rjust(size + 1) for number in range(start, start + len(items))]
        inner_depth = depth
    else:
        symbols = [BULLETS[depth % len(BULLETS)]] * len(items)
        inner_depth = depth + 1
    bullet = replace(look.bullet, background=None)  # on the background of what it is in
    lines: list[Content] = []
    for item, symbol in zip(items, symbols, strict=True):
        indent = len(symbol)
        inner = max(1, width - indent)  # too narrow for the bullet: cropped below
        # an empty item takes no line: the bullet is as tall as what follows it
        body = _stack(_blocks(item.children, inner, look, depth=inner_depth, in_list=True), inner)
        for index, line in enumerate(body):
            prefix = Content.styled(symbol, bullet) if index == 0 else blank(indent)
            lines.append(fill(prefix + line, width, Style()))
    return Block(lines, 0, 0 if nested else 1)


def _fence(code: str, language: str, width: int, look: MarkdownLook) -> Block:
    """Highlighted by Textual's own fence highlighter; long lines are cropped at the
    right edge, as the widget (which scrolls sideways, its right padding past the end of
    the longest line) shows them. `language` is the info string as written, as Textual
    passes it (" python" finds no highlighter there either)."""
    global _plain_draws
    code = code.rstrip()
    highlighted = highlighted_now(
        code, language, ansi=look.ansi, dark=look.dark, build=look.highlight_unbuilt
    )
    if highlighted is None:
        highlighted = Content(code)
        _drawn_plain.add(language)
        _plain_draws += 1
    code_lines = highlighted.split("\n")
    if "\t" in code:
        # Textual sizes the code (at least the width less its padding) by its lines with a
        # tab counted as no cells, then draws tabs 8 wide: a line that grows past that
        # size wraps (at words, as text does).
        size = max(1, width - 4, *(cell_len(line) for line in code.split("\n")))
        code_lines = [part for line in code_lines for part in line.wrap(size)]
    inner = max(0, width - 2)
    lines = [fill(Content(""), width, look.fence)]
    for line in code_lines:
        lines.append(fill(blank(2) + line.truncate(inner), width, look.fence))
    lines.append(fill(Content(""), width, look.fence))
    return Block(lines, 1, 1)


def _quote(node: SyntaxTreeNode, width: int, look: MarkdownLook, *, depth: int) -> Block:
    inner = max(1, width - 3)
    body = _stack(_blocks(node.children, inner, look, depth=depth), inner)
    edge = Content.styled(QUOTE_EDGE, Style(foreground=look.quote_edge.foreground))
    lines = [fill(edge + " " + line, width, look.quote) for line in body]
    return Block(lines, 1, 1)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default

"""The pieces of laid-out Markdown shared by its blocks (`tui.ui.markdown_lines`) and
its tables (`tui.ui.markdown_tables`): the resolved look, a block of lines with its
margins, a paragraph's inline text as Textual's Markdown builds it, and lines made exactly
as wide as asked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.content import Content, Span
from textual.style import Style

from tui.frozen import frozen

if TYPE_CHECKING:  # (the parser is imported only when something is parsed)
    from markdown_it.token import Token
    from markdown_it.tree import SyntaxTreeNode


@frozen
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
    theme: str = ""
    """The app's theme: code is highlighted in its colours, which the styles above do not
    carry (two themes with the same text colours must not share a kept layout)."""
    highlight_unbuilt: bool = True
    """False: code in a language whose highlighter is not built yet is drawn plain (see
    `take_languages_drawn_plain`), so building it does not hold up the first frame."""


@dataclass
class Block:
    lines: list[Content]
    top: int = 0
    bottom: int = 0


def inline_of(node: SyntaxTreeNode, look: MarkdownLook) -> Content:
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
        elif kind == "image":  # its alt text is in its children ("alt" is left empty)
            start = position
            add("🖼  ")
            if alt := child.attrs.get("alt"):
                add(f"({alt})")
            add("".join(grandchild.content for grandchild in child.children or []))
            spans.append(Span(start, position, look.link))
        elif kind.endswith("_close"):  # html_inline is left out, as Textual leaves it out
            close()
    return Content("".join(parts), spans=spans)


def wrap(content: Content, width: int) -> list[Content]:
    return [fill(line, width, Style()) for line in content.wrap(width)] or [blank(width)]


def fill(line: Content, width: int, style: Style) -> Content:
    """`line` made exactly `width` cells wide, with `style` under all of it."""
    if line.cell_length > width:
        line = line.truncate(width)
    elif line.cell_length < width:
        line = line.pad_right(width - line.cell_length)
    return line.stylize_before(style) if style else line


def blank(width: int) -> Content:
    return Content(" " * width)

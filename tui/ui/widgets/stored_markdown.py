"""A finished reply's Markdown as one widget: its lines are laid out by `render_markdown`,
not by a tree of block widgets, so a stored reply costs milliseconds to show instead of
hundreds (see `tui.ui.markdown_lines`). The lines are made for the width they are shown at,
again after a resize or a theme change, and only when next drawn."""

from __future__ import annotations

from textual.geometry import Size
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from tui.ui.markdown_lines import MarkdownLook, render_markdown


class StoredMarkdown(Widget):
    COMPONENT_CLASSES = {
        "stored-markdown--h1",
        "stored-markdown--h2",
        "stored-markdown--h3",
        "stored-markdown--h4",
        "stored-markdown--h5",
        "stored-markdown--h6",
        "stored-markdown--em",
        "stored-markdown--strong",
        "stored-markdown--strike",
        "stored-markdown--code-inline",
        "stored-markdown--link",
        "stored-markdown--bullet",
        "stored-markdown--fence",
        "stored-markdown--quote",
        "stored-markdown--quote-edge",
        "stored-markdown--rule",
        "stored-markdown--table-lines",
        "stored-markdown--table-header",
    }

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self._lines: list[Strip] = []
        self._lines_width = 0
        self._laid_out_width = 0

    def _look(self) -> MarkdownLook:
        """Parts with a colour are resolved in full (over this widget's background: a
        partial style blends see-through backgrounds wrongly); emphasis stays partial, so
        it keeps whatever background it lands on."""

        def part(name: str) -> Style:
            return self.get_visual_style(f"stored-markdown--{name}")

        def emphasis(name: str) -> Style:
            return self.get_visual_style(f"stored-markdown--{name}", partial=True)

        return MarkdownLook(
            text=self.get_visual_style(),
            headings=(part("h1"), part("h2"), part("h3"), part("h4"), part("h5"), part("h6")),
            em=emphasis("em"),
            strong=emphasis("strong"),
            strike=emphasis("strike"),
            code_inline=emphasis("code-inline"),
            link=emphasis("link"),
            bullet=part("bullet"),
            fence=part("fence"),
            # see-through, so that a quote in a quote is a shade lighter again
            quote=Style(background=self.get_component_styles("stored-markdown--quote").background),
            quote_edge=part("quote-edge"),
            rule=part("rule"),
            table_lines=part("table-lines"),
            table_header=part("table-header"),
            ansi=self.app.native_ansi_color,
            dark=self.app.current_theme.dark,
        )

    def _lines_at(self, width: int) -> list[Strip]:
        if width != self._lines_width:
            self._lines = render_markdown(self.source, width, self._look())
            self._lines_width = width
        return self._lines

    def notify_style_update(self) -> None:
        """A new theme (or class) may change any colour: render afresh when next drawn."""
        self._lines_width = 0
        super().notify_style_update()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._laid_out_width = width
        return len(self._lines_at(width))

    def render_line(self, y: int) -> Strip:
        width = self._drawn_width()
        lines = self._lines_at(width)
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(width)

    def _drawn_width(self) -> int:
        """The width the last layout gave: `self.size` asks the compositor's map, which
        right after a layout change is rebuilt on first use (a tenth of the CPU while
        scrolling back through history, when asked for every line)."""
        return self._laid_out_width or self.size.width

    def line_text(self, y: int) -> str:
        """The plain text of one rendered line, to find what a click landed on."""
        lines = self._lines_at(self._drawn_width())
        return lines[y].text if 0 <= y < len(lines) else ""

"""A reply's Markdown as one widget: laid out by `tui.ui.markdown_lines`, not by a tree of
block widgets, so it costs milliseconds to show instead of hundreds, and a reply of any
length stays one widget.

The text is held as segments (runs of top-level blocks, cut by `ReplyBody`): the finished
ones, laid out once, and while a reply streams an open tail, laid out again as it grows.
Their margins collapse where they meet, so the whole looks as if laid out in one piece.
Lines are made for the width they are shown at, again after a resize or when the look
changes, and only when next needed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from tui.ui.code_highlighters import highlighters_built
from tui.ui.markdown_kept import lay_out_kept
from tui.ui.markdown_lines import (
    LaidOut,
    MarkdownLook,
    append_runs,
    blank_line,
    lay_out,
    take_languages_drawn_plain,
)
from tui.ui.markdown_looks import look_in_place, look_of
from tui.ui.markdown_references import SharedReferences


class RenderedMarkdown(Widget):
    COMPONENT_CLASSES = {
        "rendered-markdown--h1",
        "rendered-markdown--h2",
        "rendered-markdown--h3",
        "rendered-markdown--h4",
        "rendered-markdown--h5",
        "rendered-markdown--h6",
        "rendered-markdown--em",
        "rendered-markdown--strong",
        "rendered-markdown--strike",
        "rendered-markdown--code-inline",
        "rendered-markdown--link",
        "rendered-markdown--bullet",
        "rendered-markdown--fence",
        "rendered-markdown--quote",
        "rendered-markdown--quote-edge",
        "rendered-markdown--rule",
        "rendered-markdown--table-lines",
        "rendered-markdown--table-header",
    }

    def __init__(self, *, defer_new_highlighters: bool = False) -> None:
        """`defer_new_highlighters`: code in a language not highlighted yet in this process
        is drawn plain at first and highlighted after the next frame (see
        `_highlight_later`); for a reply shown at once, not for one that streams in (every
        flush would lay it all out again)."""
        super().__init__()
        self._defer_new_highlighters = defer_new_highlighters
        self._segments: list[str] = []
        self._references = SharedReferences()
        self._tail = ""
        self._laid_out: list[LaidOut] = []
        """The segments' layouts at `_lines_width` (empty when that is 0)."""
        self._tail_laid_out = LaidOut([])
        self._lines: list[Strip] = []
        """Every line: those of the finished segments (`_head_length` of them), then the
        open segment's, replaced at each flush without touching the rest."""
        self._head_length = 0
        self._head_bottom: int | None = None
        self._marks: list[tuple[int, int | None]] = []
        """Per finished segment: how many lines came before it and the bottom margin left
        above it, so segments can be joined again from any one on."""
        self._blank = Strip.blank(0)
        self._lines_width = 0
        self._lines_look: MarkdownLook | None = None
        self._look_may_have_changed = False
        self._layout_width = 0

    @property
    def source(self) -> str:
        return "".join(self._segments) + self._tail

    @property
    def laid_out_at(self) -> tuple[int, MarkdownLook] | None:
        """The width and look its lines were last made for: a reply shown at once in the
        same log will be laid out the same way (see `ConversationLog`'s turns ahead)."""
        if not self._lines_width or self._lines_look is None:
            return None
        return self._lines_width, self._lines_look

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    def extend(self, *segments: str) -> None:
        """Takes the next finished segments; only they are laid out, not the rest again."""
        self.insert(len(self._segments), segments)

    def insert(self, index: int, segments: Sequence[str]) -> None:
        """Puts finished segments at `index` (a backlog's start arrives after its end)."""
        new = [segment for segment in segments if segment]
        self._segments[index:index] = new
        references_changed = self._references.insert(index, new)
        if self._lines_width and self._lines_look is not None:
            width, look = self._lines_width, self._lines_look
            height = len(self._lines)
            if index < len(self._marks):  # a backlog's start: every line below it moves
                start, before = self._marks[index][0], []
            else:  # at the end: the open segment's lines may stay as they were
                start, before = self._head_length, self._lines[self._head_length :]
            self._laid_out[index:index] = [
                lay_out_kept(segment, width, look, self._references.for_segment(at))
                for at, segment in enumerate(new, index)
            ]
            if not self._splice(index, len(new)):
                self._rejoin_from(index)
            self._refresh_changes(start, before, height)
            if references_changed:
                self._lay_out_again_for_references()
            return
        self.refresh(layout=True)

    def set_tail(self, source: str) -> None:
        """The open segment, as it stands: laid out again each time, it stays short.

        When it still has as many lines (the last line grew), only the lines that differ
        are drawn again, with no layout: a refresh of the whole widget made every flush
        of a slow stream repaint the whole screenful and reflow the screen. When its
        height changed, it is laid out, and drawn again from its first changed line."""
        if source == self._tail:
            return
        self._tail = source
        references_changed = self._references.set_tail(source)
        if self._lines_width and self._lines_look is not None:
            if references_changed:  # (the open segment with them)
                self._lay_out_again_for_references()
                return
            before, height = self._lines[self._head_length :], len(self._lines)
            self._tail_laid_out = lay_out(
                source, self._lines_width, self._lines_look, self._references.every
            )
            self._join_tail()
            self._refresh_changes(self._head_length, before, height)
            return
        self.refresh(layout=True)

    def _lay_out_again_for_references(self) -> None:
        """Lays out again the finished segments that name a link reference whose definition
        just came (or changed), and the open one: `[the docs][1]` above `[1]: https://…`
        is a link once the definition has arrived, as in Textual's `Markdown`, which parses
        the whole text at once. The rest stay as laid out."""
        assert self._lines_look is not None
        width, look, references = self._lines_width, self._lines_look, self._references
        outdated = references.outdated()
        for index in outdated:
            self._laid_out[index] = lay_out_kept(
                self._segments[index], width, look, references.for_segment(index)
            )
        self._tail_laid_out = lay_out(self._tail, width, look, references.every)
        first = outdated[0] if outdated else len(self._marks)
        start = self._marks[first][0] if outdated else self._head_length
        height = len(self._lines)
        self._rejoin_from(first)
        self._refresh_changes(start, [], height)

    def _refresh_changes(self, start: int, before: list[Strip], height: int) -> None:
        """Draws again the lines from `start` on that differ from `before` (what they were,
        of `height` lines in all), and only those: a refresh of the whole widget drew
        every visible line of a streaming reply again at each flush. At the same height
        that needs no layout; otherwise the lines from the first that differs to the end
        are drawn again, once laid out (the lines above stay as drawn: see
        `keep_drawn_lines_when_height_changes`)."""
        lines = self._lines  # indexed, not copied: `start` may be near a long reply's top
        same = min(len(before), len(lines) - start)
        differ = (y for y in range(same) if before[y] != lines[start + y])
        if len(lines) == height:
            changed = list(differ)
            if len(before) != len(lines) - start:  # lines past the shorter one changed too
                changed += [same, max(len(before), len(lines) - start) - 1]
            if changed:
                top, bottom = start + changed[0], start + changed[-1] + 1
                self.refresh(Region(0, top, self._lines_width, bottom - top))
            return
        top = start + next(differ, same)
        bottom = max(height, len(lines))
        self.refresh(Region(0, top, self._lines_width, bottom - top), layout=True)

    def _join(self) -> None:
        """Joins every segment's lines again (a new width or look)."""
        assert self._lines_look is not None  # laid out only once the look is known
        self._blank = blank_line(self._lines_width, self._lines_look)
        self._lines, self._marks = [], []
        self._head_length, self._head_bottom = 0, None
        self._rejoin_from(0)

    def _rejoin_from(self, index: int) -> None:
        """Joins the finished segments from `index` on again, then the open one: a
        segment added at the end (or a backlog inserted just above the end) costs its own
        lines, not the whole reply's, however long the reply has grown."""
        if index < len(self._marks):
            length, bottom = self._marks[index]
        else:
            length, bottom = self._head_length, self._head_bottom
        del self._lines[length:]
        del self._marks[index:]
        for run in self._laid_out[index:]:
            self._marks.append((len(self._lines), bottom))
            bottom = append_runs(self._lines, [run], bottom, self._blank)
        self._head_length, self._head_bottom = len(self._lines), bottom
        self._join_tail()

    def _splice(self, index: int, count: int) -> bool:
        """Puts the lines of `count` runs just laid out at `index` between the runs around
        them, in place: a backlog's start arrives above its end, and rejoining everything
        below each backfilled batch made a fast 20 MB reply crawl. Only the gap under the
        new runs changes; the lines further down move as they are. False when a run with
        no lines is involved (its margins fold into its neighbours': join again instead)."""
        after = index + count  # the first run that was already there
        if after >= len(self._laid_out) or index >= len(self._marks):
            return False
        new_runs, old_run = self._laid_out[index:after], self._laid_out[after]
        if not old_run.lines or not all(run.lines for run in new_runs):
            return False
        start, bottom = self._marks[index]
        old_gap = old_run.top if bottom is None else max(bottom, old_run.top)
        lines: list[Strip] = []
        marks: list[tuple[int, int | None]] = []
        for run in new_runs:
            marks.append((start + len(lines), bottom))
            bottom = append_runs(lines, [run], bottom, self._blank)
        new_gap = old_run.top if bottom is None else max(bottom, old_run.top)
        marks.append((start + len(lines), bottom))
        lines.extend([self._blank] * new_gap)
        self._lines[start : start + old_gap] = lines
        moved = len(lines) - old_gap
        later = [(line + moved, above) for line, above in self._marks[index + 1 :]]
        self._marks[index:] = [*marks, *later]
        self._head_length += moved
        self._highlight_later(take_languages_drawn_plain())
        return True

    def _join_tail(self) -> None:
        """Replaces the open segment's lines after the finished ones: the cost of a flush
        stays that of the open segment however long the reply has grown (joining all of
        it at every flush took a 50 MB reply down to a crawl)."""
        del self._lines[self._head_length :]
        bottom = append_runs(self._lines, [self._tail_laid_out], self._head_bottom, self._blank)
        self._lines.extend([self._blank] * (bottom or 0))
        self._highlight_later(take_languages_drawn_plain())

    def _look(self) -> MarkdownLook:
        return look_of(self, highlight_unbuilt=not self._defer_new_highlighters)

    def _lines_at(self, width: int) -> list[Strip]:
        if self._look_may_have_changed or self._lines_look is None:
            self._look_may_have_changed = False
            look = look_in_place(self, self._look, self._defer_new_highlighters)
            if look != self._lines_look:
                self._lines_look, self._lines_width = look, 0
        if width != self._lines_width and self._lines_look is not None:
            look = self._lines_look
            self._lines_width = width
            references = self._references
            self._laid_out = [
                lay_out_kept(segment, width, look, references.for_segment(index))
                for index, segment in enumerate(self._segments)
            ]
            self._tail_laid_out = lay_out(self._tail, width, look, references.every)
            self._join()
        return self._lines

    def _highlight_later(self, languages: set[str]) -> None:
        """Code in a language not highlighted before in this process is drawn plain first:
        building its highlighter (25-130 ms) held up the first frame of a resumed
        conversation. It is built in a thread (`tui.ui.code_highlighters`), and the
        lines drawn again."""
        if languages:
            self.run_worker(self._highlight_once_built(languages), group="highlighters")

    async def _highlight_once_built(self, languages: set[str]) -> None:
        await highlighters_built(languages)
        self._lines_width = 0
        self.refresh()

    def on_unmount(self) -> None:
        """Its lines go with it, now, not at the next full collection (the widget refers
        to itself, the lines do not): see `release_drawn_lines`."""
        self._lines, self._laid_out, self._tail_laid_out = [], [], LaidOut([])
        self._lines_width = 0  # nothing is laid out for a widget that is gone

    def notify_style_update(self) -> None:
        """A new theme may change any colour; a class change on the message (when a reply
        ends) usually changes none, and re-rendering a long reply for it cost 0.4 s."""
        self._look_may_have_changed = True
        super().notify_style_update()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._layout_width = width
        return len(self._lines_at(width))

    def render_line(self, y: int) -> Strip:
        width = self._drawn_width()
        lines = self._lines_at(width)
        if not 0 <= y < len(lines):
            return Strip.blank(width)
        line = lines[y]
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            line = self._with_selection(line, *span)
        return _with_offsets(line, y)

    def _with_selection(self, line: Strip, start: int, end: int) -> Strip:
        start_cell = line.index_to_cell_position(start)
        end_cell = line.cell_length if end == -1 else line.index_to_cell_position(end)
        highlight = self.screen.get_component_rich_style("screen--selection")
        selected = [
            Segment(segment.text, (segment.style or RichStyle()) + highlight)
            for segment in line.crop(start_cell, end_cell)
        ]
        return Strip.join(
            [line.crop(0, start_cell), Strip(selected), line.crop(end_cell, line.cell_length)]
        )

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text under a mouse selection, as drawn (bullets and table lines included)."""
        lines = self._lines_at(self._drawn_width())
        return selection.extract("\n".join(line.text.rstrip() for line in lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _drawn_width(self) -> int:
        """The width the last layout gave: the size Textual stored with it (`_size`), not
        `self.size`, which asks the compositor's map, rebuilt on first use right after a
        layout change (a tenth of the CPU while scrolling back through history, when
        asked for every line). Nor only the width its height was last asked for: back at
        a width seen before, a container reuses its arrangement without asking, and the
        text kept the narrower wrapping of a resize in between."""
        stored: Size | None = getattr(self, "_size", None)  # private: checked by a test
        drawn = stored.width - self.styles.gutter.width if stored is not None else 0
        return drawn if drawn > 0 else (self._layout_width or self.size.width)

    def line_text(self, y: int) -> str:
        """The plain text of one rendered line, to find what a click landed on."""
        lines = self._lines_at(self._drawn_width())
        return lines[y].text if 0 <= y < len(lines) else ""


def _with_offsets(line: Strip, y: int) -> Strip:
    """The line marked with where each cell is, for mouse selection: `Strip.apply_offsets`
    without its cache, which kept a marked copy of every line ever drawn alive with the
    reply (full collections while scrolling a long history grew from 70 to 100+ ms)."""
    segments: list[Segment] = []
    x = 0
    for text, style, _ in line:
        offset = RichStyle.from_meta({"offset": (x, y)})
        segments.append(Segment(text, style + offset if style else offset))
        x += len(text)
    return Strip(segments, line.cell_length)

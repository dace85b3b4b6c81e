"""Widgets that draw again only the lines that changed, where Textual draws them whole.

Like `textual_workarounds`, these reach into Textual's private parts and do nothing when
their shape is not there (`private_shapes_present`).
"""

from __future__ import annotations

from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from tui.ui.textual_workarounds import private_shapes_present

_KEEPING_LINES: list[type[Widget]] = []


def kept_lines_classes() -> tuple[type[Widget], ...]:
    """The classes whose drawn lines survive a change of height (see below)."""
    return tuple(_KEEPING_LINES)


def keep_drawn_lines_when_height_changes(*classes: type[Widget]) -> None:
    """Makes a widget of `classes` that only grew or shrank draw again its last lines, not
    all of them.

    Textual empties a widget's drawn lines whenever its size changes
    (`Widget._size_updated`). A streaming reply's text, body and view all grow at nearly
    every flush, so every frame drew again every visible line of each (three quarters of
    the lines drawn at 100 tok/s, and nearly a third of the frame's time), though only
    the end changed.
    In a widget whose lines do not depend on its height (text laid out top-down, a
    bordered box), a height change moves only the bottom border and padding: those lines,
    and the ones below the old or new height, are marked to be drawn again; the rest are
    kept, up to a screenful above them (a long reply's every line, kept, would have been
    garbage for the collector to go through). What the widget's content changed, it marks
    itself, with its own refresh."""
    _KEEPING_LINES.extend(classes)
    if (
        getattr(Widget._size_updated, "_tui_chat_keeps_lines", False)
        or not private_shapes_present()
    ):
        return
    size_updated = Widget._size_updated

    def size_updated_keeping_lines(
        self: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        before = self._size
        if (
            size.width != before.width
            or size.height == before.height
            or not before.height
            or not isinstance(self, tuple(_KEEPING_LINES))
        ):
            return size_updated(self, size, virtual_size, container_size, layout=layout)
        cache = self._styles_cache
        drawn, dirty = cache._cache, cache._dirty_lines
        cache._cache, cache._dirty_lines = {}, set()  # what Textual empties: a stand-in
        repaint = set(self._repaint_regions)  # Textual asks to paint it all; only the end
        try:
            return size_updated(self, size, virtual_size, container_size, layout=layout)
        finally:
            cache._cache, cache._dirty_lines = drawn, dirty
            kept = max(0, min(before.height, size.height) - self.styles.gutter.bottom)
            taller = max(before.height, size.height)
            end = Region(0, kept, size.width, taller - kept)
            cache.set_dirty(end)
            self._repaint_regions.clear()
            self._repaint_regions.update(repaint)
            self._repaint_regions.add(end)
            screenful = self.app.size.height
            if len(drawn) > 2 * screenful:  # not every line ever drawn: those near the end
                for y in [y for y in drawn if y < kept - screenful]:
                    del drawn[y]
                dirty.intersection_update(drawn)  # a line not kept is drawn when needed

    size_updated_keeping_lines._tui_chat_keeps_lines = True  # type: ignore[attr-defined]
    Widget._size_updated = size_updated_keeping_lines  # type: ignore[method-assign]


class BlankBehindChildren(Widget):
    """A container whose own content (blank, behind its children) is drawn one row at a
    time, not whole at each size change.

    Textual renders a widget's content for its whole height whenever the widget is
    refreshed or resized (`Widget._render_content`), and a container's content is a
    `Blank`: a streaming reply's view and body grew at nearly every flush, so each frame
    drew a blank row for every row of the reply, a cost that grew with its length. Every
    row of a blank is the same: one is drawn, for the width, and given for each row.
    Listed after a base that sets `can_focus`: Textual takes it from the first base that
    has it, and this one (a plain widget) says False."""

    _blank_row: Strip | None = None

    def render_line(self, y: int) -> Strip:
        if not private_shapes_present():
            return super().render_line(y)
        if self._blank_row is None or self._dirty_regions:
            self._dirty_regions.clear()  # what `_render_content` would have cleared
            rows = Visual.to_strips(self, self._render(), self.size.width, 1, self.visual_style)
            self._blank_row = rows[0] if rows else Strip.blank(self.size.width)
        return self._blank_row


def draw_only_changed_scrollbar_rows() -> None:
    """Makes a scrollbar that moved draw again only the rows that look different.

    A scrollbar is refreshed whole whenever its position or size changes, and Textual then
    draws every row of it again. A streaming reply moves the log's scrollbar at nearly
    every flush, so each frame drew its whole height, though only the rows at the thumb's
    ends changed: the costliest widget left in a slow stream's frames. Before the refresh
    empties the drawn rows, they are remembered with what they showed; when the scrollbar
    is next drawn, a row that shows the same again is taken back as drawn, if it would be
    drawn the same way (opacity, tint, width...)."""
    from textual.scrollbar import ScrollBar

    if getattr(ScrollBar.render_lines, "_tui_chat_patched", False) or not private_shapes_present():
        return
    set_dirty, render_lines = ScrollBar._set_dirty, ScrollBar.render_lines

    def drawn_with(bar: ScrollBar) -> tuple[object, ...]:
        """What a row's drawing depends on besides what it shows. An ancestor's opacity
        changes it without refreshing the bar (a message not sent is faded)."""
        styles = bar.styles
        return (
            bar.opacity,
            bar.size.width,
            styles.tint,
            styles.text_opacity,
            styles.hatch,
            styles.padding,
            styles.border,
            styles.outline,
        )

    def set_dirty_remembering(self: ScrollBar, *regions: Region) -> None:
        if not regions and "_tui_chat_rows" not in self.__dict__:
            cache = self._styles_cache
            drawn = {y: row for y, row in cache._cache.items() if y not in cache._dirty_lines}
            look = self.__dict__.get("_tui_chat_drawn_with")
            self.__dict__["_tui_chat_rows"] = (self._render_cache.lines, drawn, look)
        set_dirty(self, *regions)

    def render_lines_reusing_rows(self: ScrollBar, crop: Region) -> list[Strip]:
        remembered = self.__dict__.pop("_tui_chat_rows", None)
        look = drawn_with(self)
        refreshed = bool(self._dirty_regions)  # else the rows given are those drawn before
        if remembered is not None and refreshed and remembered[2] == look:
            shown, drawn, _ = remembered
            self._render_content()  # what Textual does at the first row it draws
            cache = self._styles_cache
            for y, row in enumerate(self._render_cache.lines):
                if y < len(shown) and y in drawn and row == shown[y]:
                    cache._cache[y] = drawn[y]
                    cache._dirty_lines.discard(y)
        rows = render_lines(self, crop)
        if refreshed:
            self.__dict__["_tui_chat_drawn_with"] = look
        return rows

    render_lines_reusing_rows._tui_chat_patched = True  # type: ignore[attr-defined]
    ScrollBar._set_dirty = set_dirty_remembering  # type: ignore[method-assign,assignment]
    ScrollBar.render_lines = render_lines_reusing_rows  # type: ignore[method-assign,assignment]

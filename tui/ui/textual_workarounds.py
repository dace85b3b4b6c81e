"""Works around Textual bugs that cost this app time or memory, each with where it is tracked.

These reach into Textual's private modules (`_styles_cache`, `_spatial_map`), so each
patch first checks that the shape it relies on is there (`private_shapes_present`) and
does nothing otherwise: a Textual release that changed them costs speed, never a crash.
`pyproject.toml` bounds textual below the next minor release, and a test asserts the
shapes on the installed one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Sequence
from itertools import product
from typing import Any

from textual._spatial_map import SpatialMap
from textual._styles_cache import StylesCache
from textual.geometry import Offset, Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget


@functools.cache
def private_shapes_present() -> bool:
    """Whether the private attributes the patches read exist in the installed Textual."""
    spatial, styles, widget = SpatialMap[object](), StylesCache(), Widget()
    return (
        all(hasattr(spatial, name) for name in ("_fixed", "_map", "_grid_size", "total_region"))
        and all(hasattr(styles, name) for name in ("_cache", "_dirty_lines", "clear"))
        and all(
            hasattr(widget, name)
            for name in (
                "_styles_cache",
                "_arrangement_cache",
                "_vertical_scrollbar",
                "_size",
                "_dirty_regions",
                "_render",
                "_render_cache",
                "_render_content",
            )
        )
        and callable(getattr(SpatialMap, "insert", None))
        and callable(getattr(StylesCache, "set_dirty", None))
        and callable(getattr(Screen, "_refresh_layout", None))
        and callable(getattr(Screen, "_compositor_refresh", None))
        and "layout" in inspect.signature(Widget._size_updated).parameters
    )


TALL_REGION_SQUARES = 50
"""A region spanning more grid squares than this is kept out of the grid (see
`index_tall_regions_once`)."""


def forget_removed_widgets() -> None:
    """Lets the rendered lines of removed widgets be freed.

    Textual 8.2 caches `StylesCache.get_inner_outer` with an `lru_cache` on an instance
    method, so the last 1,024 `StylesCache` objects stay alive with every line they cached
    after their widgets are gone (Textualize/textual#6665, open). Scrolling back through a
    long conversation mounts and removes messages all the time: the retained lines grew to
    40,000 `Strip`s (each with seven small caches of its own), RSS to 196 MB, and full
    garbage collections to 450 ms each, which were the worst stalls while scrolling."""
    cache_clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


def release_drawn_lines(views: Iterable[Widget]) -> None:
    """Lets the lines `views` drew (and their layouts) go now, as they are removed.

    Textual's widgets refer to themselves (node, styles, signals), so a removed widget
    waits for a full collection, and with it every line its `StylesCache` kept and every
    arrangement it cached: the bulk of what each of those collections had to go through
    while a held key mounted and removed turns. Emptied here, they are freed at once."""
    if not private_shapes_present():
        return
    for view in views:
        for widget in view.walk_children(Widget, with_self=True):
            widget._styles_cache.clear()
            widget._arrangement_cache.clear()


def mark_only_cached_lines_dirty() -> None:
    """Makes a refresh of a tall widget cost the lines it has drawn, not its height.

    `StylesCache.set_dirty` adds every line of the refreshed region to a set, and a
    widget's refresh covers its whole height: a reply laid out as one widget of 600,000
    lines (20 MB) spent 15 s of a 100 s stream in that `set.update`. But a line is drawn
    again when it is marked dirty *or* is not in the cache (`StylesCache.render`), so only
    the cached lines (about a screenful) need marking: the same result, at the cost of the
    cache's size. Found here; see benchmarks/README.md."""
    if getattr(StylesCache.set_dirty, "_tui_chat_patched", False) or not private_shapes_present():
        return

    def set_dirty(self: StylesCache, *regions: Region) -> None:
        if not regions:
            self.clear()
            return
        cached = self._cache
        for region in regions:
            top, bottom = region.y, region.bottom
            if bottom - top <= len(cached):
                self._dirty_lines.update(region.line_range)
            else:
                self._dirty_lines.update(y for y in cached if top <= y < bottom)

    set_dirty._tui_chat_patched = True  # type: ignore[attr-defined]
    StylesCache.set_dirty = set_dirty  # type: ignore[method-assign]


def index_tall_regions_once() -> None:
    """Makes arranging a tall widget cost one entry, not one per 20 rows of its height.

    Each arrangement builds a `SpatialMap` of its children's regions, and `insert` puts a
    child in every grid square (100 x 20 cells) it covers: a 20 MB reply is 600,000 rows,
    so 30,000 entries for it and for each container around it, at every reflow while it
    streams (13.5 s of a 25 s stream). The map's one reader, `get_visible_placements`,
    treats what it returns as candidates and culls them by region; so a region taller
    than `TALL_REGION_SQUARES` squares goes in the list every query returns (the one
    Textual uses for fixed widgets), which keeps the answers the same. Found here; see
    benchmarks/README.md."""
    if getattr(SpatialMap.insert, "_tui_chat_patched", False) or not private_shapes_present():
        return

    def insert(
        self: SpatialMap[Any], regions_and_values: Iterable[tuple[Region, Offset, bool, bool, Any]]
    ) -> None:
        always = self._fixed.append
        get_grid_list = self._map.__getitem__
        grid_width, grid_height = self._grid_size
        total_region = self.total_region
        for region, offset, fixed, overlay, value in regions_and_values:
            if fixed:
                always(value)
                continue
            if not overlay:
                total_region = total_region.union(region)
            x1, y1, width, height = region + offset
            rows = range(y1 // grid_height, (y1 + height - 1) // grid_height + 1)
            if len(rows) > TALL_REGION_SQUARES:
                always(value)
                continue
            columns = range(x1 // grid_width, (x1 + width - 1) // grid_width + 1)
            for grid in product(columns, rows):
                get_grid_list(grid).append(value)
        self.total_region = total_region

    insert._tui_chat_patched = True  # type: ignore[attr-defined]
    SpatialMap.insert = insert  # type: ignore[method-assign]


def strip_caches_without_self_cycles() -> None:
    """Lets a drawn line be freed as soon as nothing uses it, not at the next full collection.

    A `Strip` caches what its methods make of it, in itself, and two of them can make the
    strip itself: `divide` at its whole length (the result is `[self]`) and `crop_extend`
    to exactly its length. The strip then refers to itself through its cache. The
    compositor divides every line it draws, so every line on screen became cyclic garbage
    once replaced, each with its seven caches and its segments, that only a full
    collection frees: 60 presses of Up in a 2,000-message history left 256,000 such
    objects, and each full collection (every half second) held a frame for 25-30 ms
    (textual 8.2; recorded in benchmarks/README.md). Those two cases are answered without
    the cache; the results are the same."""
    if getattr(Strip.divide, "_tui_chat_patched", False):
        return
    divide, crop_extend = Strip.divide, Strip.crop_extend

    def divide_whole_uncached(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        length = self.cell_length
        kept = [cut for cut in cuts if cut <= length]  # as `divide` itself does
        if kept == [length]:
            return [self]
        return divide(self, kept)

    def crop_extend_whole_uncached(self: Strip, start: int, end: int, style: Any) -> Strip:
        if start <= 0 and end == self.cell_length:
            return self
        return crop_extend(self, start, end, style)

    divide_whole_uncached._tui_chat_patched = True  # type: ignore[attr-defined]
    Strip.divide = divide_whole_uncached  # type: ignore[method-assign]
    Strip.crop_extend = crop_extend_whole_uncached  # type: ignore[method-assign]


def lay_out_once_per_frame() -> None:
    """Makes a reply that grows cost one frame per flush, not two.

    A full reflow arranges every widget at its new size, then tells each one its size
    through `Widget._size_updated`, which sets the `virtual_size` reactive; that reactive
    has `layout=True`, so every auto-height ancestor of the text that grew (the reply's
    body, its view, the log) asks for a layout again, and the screen reflows a second time,
    a frame later, to the same result: 56 frames instead of 30 for 500 tokens at 100 tok/s,
    a fifth of the app's CPU (found here; see benchmarks/README.md). Textual itself passes
    `layout=False` when it reflows for a scroll, which stores the size without asking for
    more; this does the same during a full reflow. What does need another layout (a
    scrollbar appearing, a widget's own `refresh(layout=True)`) still asks for it.

    The log's scrollbar, which moves at each growth, is painted in that same frame too.
    `Widget._scroll_update` refreshes it during the reflow, but a refresh reaches the
    screen as a message, after the frame: every flush of a slow stream drew a second frame
    for the scrollbar alone, and such a frame re-renders every widget under the
    scrollbar's column (the screen and the log, whole): a sixth of the app's CPU at
    100 tok/s. The scrollbars refreshed during the reflow are added to the frame's
    repaint; their messages then find nothing left to paint."""
    if getattr(Screen._refresh_layout, "_tui_chat_patched", False) or not private_shapes_present():
        return
    reflowing = False
    scrolled: list[Widget] = []
    refresh_layout = Screen._refresh_layout
    compositor_refresh = Screen._compositor_refresh
    size_updated = Widget._size_updated

    def refresh_layout_once(
        self: Screen[Any], size: Size | None = None, scroll: bool = False
    ) -> None:
        nonlocal reflowing
        reflowing = True
        try:
            refresh_layout(self, size, scroll)
        finally:
            reflowing = False

    def size_updated_quietly(
        self: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        layout = layout and not reflowing
        resized = size_updated(self, size, virtual_size, container_size, layout=layout)
        if resized and reflowing and (self._vertical_scrollbar or self._horizontal_scrollbar):
            scrolled.append(self)  # every container is "scrollable": only those with bars
        return resized

    def compositor_refresh_with_scrollbars(self: Screen[Any]) -> None:
        if scrolled:
            # Only scrollbars already on screen: `update_widgets` takes any other for a new
            # widget and invalidates the whole map; after that rebuild a reply that arrived
            # in one piece was left out of its view's height (1 test run in 3).
            shown = self._compositor.visible_widgets
            bars: set[Widget] = {
                bar
                for widget in scrolled
                for bar in (widget._vertical_scrollbar, widget._horizontal_scrollbar)
                if bar is not None and bar in shown
            }
            scrolled.clear()
            if bars:
                self._compositor.update_widgets(bars)
        compositor_refresh(self)

    refresh_layout_once._tui_chat_patched = True  # type: ignore[attr-defined]
    Screen._refresh_layout = refresh_layout_once  # type: ignore[method-assign]
    Widget._size_updated = size_updated_quietly  # type: ignore[method-assign]
    Screen._compositor_refresh = compositor_refresh_with_scrollbars  # type: ignore[method-assign]


_KEEPING_LINES: list[type[Widget]] = []


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
        try:
            return size_updated(self, size, virtual_size, container_size, layout=layout)
        finally:
            cache._cache, cache._dirty_lines = drawn, dirty
            kept = max(0, min(before.height, size.height) - self.styles.gutter.bottom)
            taller = max(before.height, size.height)
            cache.set_dirty(Region(0, kept, size.width, taller - kept))
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

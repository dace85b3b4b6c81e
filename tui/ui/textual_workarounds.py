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
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import product
from typing import Any, cast

from textual import messages
from textual._compositor import Compositor
from textual._spatial_map import SpatialMap
from textual._styles_cache import StylesCache
from textual.geometry import Offset, Region, Size
from textual.reactive import Reactive
from textual.screen import Screen
from textual.strip import Strip
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
                "_horizontal_scrollbar",
                "_container_size",
                "_anchored",
                "_anchor_released",
                "_size",
                "_dirty_regions",
                "_render",
                "_render_cache",
                "_render_content",
                "_repaint_regions",
            )
        )
        and callable(getattr(SpatialMap, "insert", None))
        and callable(getattr(StylesCache, "set_dirty", None))
        and callable(getattr(Screen, "_refresh_layout", None))
        and callable(getattr(Screen, "_compositor_refresh", None))
        and callable(getattr(Screen, "_on_layout", None))
        and _screens_note_layouts()
        and "layout" in inspect.signature(Widget._size_updated).parameters
    )


def _screens_note_layouts() -> bool:
    """Whether a screen keeps the widgets waiting for a layout where Textual 8.2 does."""
    try:
        return isinstance(getattr(Screen(), "_layout_widgets", None), dict)
    except Exception:  # (a screen made outside an app, in another Textual)
        return False


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

    A reflow that arranges an anchored log for the first time is done again, once,
    before the frame is drawn: the compositor places the log's end by the height the log
    had before, none. The first frame of a resumed conversation showed an empty log, and
    the messages only a frame later. (Only the first time: an inline log grows at every
    flush, and arranging each of those twice would double what streaming costs there.
    Doing it again for every scrollbar that appears or goes too left a log rebuilt at its
    end stuck at its top, 1 run in 10-25 of a test on a loaded machine.)

    The log's scrollbar, which moves at each growth, is painted in that same frame too.
    `Widget._scroll_update` refreshes it during the reflow, but a refresh reaches the
    screen as a message, after the frame: every flush of a slow stream drew a second frame
    for the scrollbar alone, and such a frame re-renders every widget under the
    scrollbar's column (the screen and the log, whole): a sixth of the app's CPU at
    100 tok/s. The scrollbars refreshed during the reflow are added to the frame's
    repaint; their messages then find nothing left to paint."""
    if getattr(Screen._refresh_layout, "_tui_chat_patched", False) or not private_shapes_present():
        return
    reflowing = first_pass = False
    arranged_again = False
    """Whether the reflow under way (its first pass) must be done again before it is
    drawn."""
    scrolled: list[Widget] = []
    refresh_layout = Screen._refresh_layout
    compositor_refresh = Screen._compositor_refresh
    size_updated = Widget._size_updated

    def refresh_layout_once(
        self: Screen[Any], size: Size | None = None, scroll: bool = False
    ) -> None:
        nonlocal reflowing, first_pass, arranged_again
        reflowing = first_pass = True
        arranged_again = False
        try:
            refresh_layout(self, size, scroll)
            first_pass = False
            if arranged_again:
                arranged_again = False
                refresh_layout(self, size, False)
        finally:
            reflowing = first_pass = arranged_again = False

    def size_updated_quietly(
        self: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        nonlocal arranged_again
        layout = layout and not reflowing
        placed_by_no_height = (
            first_pass
            and self._anchored
            and not self._anchor_released
            and not self._container_size.height
        )
        resized = size_updated(self, size, virtual_size, container_size, layout=layout)
        if resized and reflowing:
            if placed_by_no_height:
                arranged_again = True
            if self._vertical_scrollbar or self._horizontal_scrollbar:
                scrolled.append(self)  # every container is "scrollable": only those with bars
        return resized

    def compositor_refresh_with_scrollbars(self: Screen[Any]) -> None:
        if arranged_again:
            return  # drawn once the reflow is done again
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
    Screen._on_layout = on_layout_up_to_the_log  # type: ignore[method-assign]


async def on_layout_up_to_the_log(self: Screen[Any], message: messages.Layout) -> None:
    """`Screen._on_layout` as Textual means it: a widget that asks for a layout is noted
    with each auto-sized ancestor up to the first fixed one, each ancestor with the one
    below it. Textual (8.2) notes it with its parent only (it asks whether the child is a
    key of the whole map, which the previous step has just made it), and the log's stream
    layout, which measures again only the children noted with it, kept a turn's old height
    when another turn below it was noted in the same frame. Textual's second reflow a frame
    later, which `lay_out_once_per_frame` saves, used to set it right: without this, a
    reply that arrived in one piece while its log was rebuilt showed an empty box."""
    message.stop()
    message.prevent_default()
    layout_required = False
    widget: Widget = message.widget
    for ancestor in widget.ancestors:
        if not isinstance(ancestor, Widget):
            break
        noted = self._layout_widgets.setdefault(ancestor, set())
        if widget not in noted:
            noted.add(widget)
            layout_required = True
        if not ancestor.styles.auto_dimensions:
            break
        widget = ancestor
    if layout_required and not self._layout_required:
        self._layout_required = True
        self.check_idle()


def render_only_the_rows_drawn() -> None:
    """Makes a frame ask each widget for the lines of the rows it draws, not all of its
    visible lines.

    Textual's compositor asks every widget whose clip meets the frame's dirty area for all
    of its visible lines (`Compositor._get_renders`), then drops those of rows that are
    not drawn. Every widget inside the log has the log as its clip, so a frame that draws
    two rows of a reply asked the reply's view, body and text for a screenful each; with
    the log moved by the terminal (`terminal_scrolling`) that was most of what was
    left of a frame. Here each widget is asked for the runs of drawn rows it covers; the
    chops made from them are the same."""
    if (
        getattr(Compositor._render_chops, "_tui_chat_patched", False)
        or not private_shapes_present()
    ):
        return

    def render_chops(
        self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]
    ) -> Sequence[Mapping[int, Strip]]:
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(line[:-1]) for line in cuts]
        runs = _runs(y for y in crop.line_range if is_rendered_line(y))
        crop_overlaps = crop.overlaps
        for widget, (region, clip) in self.visible_widgets.items():  # front first
            if not crop_overlaps(clip):
                continue
            visible = region.intersection(clip)
            if not visible:
                continue
            render_x = visible.x
            first_cut, last_cut = visible.column_span
            for top, bottom in runs:
                top, bottom = max(top, visible.y), min(bottom, visible.bottom)
                if top >= bottom:
                    continue
                strips = widget.render_lines(
                    Region(render_x - region.x, top - region.y, visible.width, bottom - top)
                )
                for y, strip in zip(range(top, bottom), strips, strict=False):
                    chops_line = chops[y]
                    line_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
                    pieces = strip.divide([cut - render_x for cut in line_cuts[1:]])
                    for cut, piece in zip(line_cuts, pieces, strict=False):
                        if chops_line.get(cut) is None:  # front to back: the first one wins
                            chops_line[cut] = piece
        return cast("Sequence[Mapping[int, Strip]]", chops)

    render_chops._tui_chat_patched = True  # type: ignore[attr-defined]
    Compositor._render_chops = render_chops  # type: ignore[method-assign]


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive rows as (first, after last) pairs."""
    runs: list[tuple[int, int]] = []
    for y in rows:
        if runs and runs[-1][1] == y:
            runs[-1] = (runs[-1][0], y + 1)
        else:
            runs.append((y, y + 1))
    return runs


def focus_without_repainting_the_screen() -> None:
    """Makes moving focus draw the widgets it moved between, not the whole screen.

    `Screen.focused` is a reactive that repaints (Textual's default for reactives), so
    every focus change marked the whole screen dirty and the next frame drew every row:
    holding Up through a long history drew 40 rows of Markdown 30 times a second, in
    frames of 60-90 ms. Textual refreshes the widgets that gain or lose focus itself (and
    restyles them and their `:focus-within` ancestors), so the screen's repaint showed
    nothing new. Found here; see benchmarks/README.md."""
    focused = Screen.__dict__.get("focused")
    if isinstance(focused, Reactive) and isinstance(getattr(focused, "_repaint", None), bool):
        focused._repaint = False

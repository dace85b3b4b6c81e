"""A scrolled log's lines are moved by the terminal, not drawn again.

When the anchored log follows a streaming reply, its content moves up a line or two at
every flush. Textual treats every widget that moved as changed: each frame cut and sent
again every line of the log (about half of a frame's time at 100 tok/s, and as many bytes
to the terminal as a full screen). Terminals have moved lines themselves for fifty years:
with the log's rows as the scrolling region (DECSTBM), deleting lines at its top (DL)
moves the rest up, and inserting (IL) moves them down. So a frame in which the log's
content moved by `k` rows sends that, then draws only what did not simply move:

- the `k` rows the move exposed;
- the widgets that changed (appeared, went, changed size or moved by another amount);
  for a widget that only grew or shrank and keeps its drawn lines
  (`keep_drawn_lines_when_height_changes`), only its rows from the old end on;
- the lines a widget said changed (its own refresh);
- the scrollbar's rows that show something else than the row they were moved onto.

A frame in which nothing moved (`k == 0`: the log not yet full, or scrolled away from the
growing end) draws those same parts, without a terminal move. Any other frame is drawn as
Textual draws it: when another widget covers part of the log (a notification, a menu),
the log is not the screen's full width, the log's own size changed, or a full redraw is
due anyway. Registered classes only; the app registers its conversation log.

This reaches into the compositor's private state, like `textual_workarounds`, and does
nothing when its shape is not there (`scrolling_shapes_present`).
"""

from __future__ import annotations

import functools
import weakref
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.color import Color as RichColor
from rich.style import Style
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.widget import Widget

from tui.ui.kept_lines import kept_lines_classes
from tui.ui.textual_workarounds import private_shapes_present

if TYPE_CHECKING:
    from textual.app import App

_SCROLLED: list[type[Widget]] = []
Visible = dict[Widget, tuple[Region, Region]]
"""What `Compositor.visible_widgets` holds: each widget's region and clip, front first."""

_BAR_ROWS: weakref.WeakKeyDictionary[ScrollBar, list[tuple[str, Style]]] = (
    weakref.WeakKeyDictionary()
)
"""What each scrollbar inside a scrolled log showed, row by row, when last drawn through a
plan: the rows a move puts it on are compared with them."""


@functools.cache
def scrolling_shapes_present() -> bool:
    """Whether the compositor's private parts used here exist in the installed Textual."""
    compositor = Compositor()
    return (
        private_shapes_present()
        and all(
            hasattr(compositor, name)
            for name in ("_dirty_regions", "root", "size", "_visible_map", "_full_map")
        )
        and all(
            callable(getattr(Compositor, name, None))
            for name in ("reflow", "reflow_visible", "render_partial_update", "render_full_update")
        )
        and callable(getattr(Widget, "_exchange_repaint_regions", None))
        and callable(getattr(ScrollBarRender, "render_bar", None))
    )


class _Stash(NamedTuple):
    """What was on the terminal before a reflow: the widgets' places, and the regions
    already waiting to be drawn (in the places they had then)."""

    visible: Visible
    dirty: set[Region]


class ScrollingUpdate(ChopsUpdate):
    """A partial update that first moves the log's rows in the terminal."""

    def __init__(self, update: ChopsUpdate, moves: str) -> None:
        super().__init__(update.chops, update.spans, update.chop_ends)
        self.moves = moves

    def render_segments(self, console: Any) -> str:
        drawn = super().render_segments(console) if self.spans else ""
        return self.moves + drawn


def move_rows(top: int, bottom: int, rows: int) -> str:
    """The escape sequence that moves screen rows `top`..`bottom` (exclusive, 0-based) up
    by `rows` (down when negative), leaving blank rows behind; the cursor ends at home,
    and every update positions it before drawing."""
    lines = f"\x1b[{rows}M" if rows > 0 else f"\x1b[{-rows}L"
    return f"\x1b[{top + 1};{bottom}r\x1b[{top + 1};1H{lines}\x1b[r"


def scroll_with_the_terminal(*classes: type[Widget]) -> None:
    """Makes a frame in which a log of `classes` only scrolled move its lines in the
    terminal and draw only what changed (see the module's docstring)."""
    _SCROLLED.extend(classes)
    if getattr(Compositor.reflow, "_tui_chat_patched", False) or not scrolling_shapes_present():
        return
    reflow, reflow_visible = Compositor.reflow, Compositor.reflow_visible
    render_partial_update, render_full_update = (
        Compositor.render_partial_update,
        Compositor.render_full_update,
    )

    def stash_then(original: Any, *, scroll: bool = False) -> Any:
        def reflow_remembering(self: Compositor, parent: Widget, size: Any) -> Any:
            # The places the last laid-out frame was drawn with, not the compositor's
            # current ones: it rebuilds its map when asked where a widget is, and the
            # rebuilt places may already be the new ones.
            drawn = self.__dict__.get("_tui_chat_drawn")
            if "_tui_chat_stash" in self.__dict__:
                # Two reflows before a frame: what the second one's refreshes said is
                # not told apart from the first reflow's moves. Drawn as Textual does.
                self.__dict__["_tui_chat_stash"] = None
            elif drawn is not None and self.size.region not in self._dirty_regions:
                self.__dict__["_tui_chat_stash"] = _Stash(drawn, set(self._dirty_regions))
            if scroll and self._visible_map is None and drawn is not None:
                # A scroll's places are compared with the last scroll's, which a layout
                # forgets: every widget then counted as changed, and the whole screen was
                # drawn again (holding Up: at every key). The last frame drawn is the
                # "before"; what moved since its places is marked below.
                self._visible_map = {w: at for w, at in self._full_map.items() if w in drawn}
            result = original(self, parent, size)
            if drawn is not None:
                # Textual marks what changed since its map, which may have been rebuilt
                # after the last frame: what changed since that frame is marked too (a
                # turn hidden after a scroll left the rows below it one turn behind).
                self._dirty_regions.update(
                    region.intersection(clip)
                    for _, (region, clip) in drawn.items() ^ self.visible_widgets.items()
                )
                self._dirty_regions.discard(Region())
            return result

        reflow_remembering._tui_chat_patched = True  # type: ignore[attr-defined]
        return reflow_remembering

    def render_partial_moving(self: Compositor) -> Any:
        laid_out = "_tui_chat_stash" in self.__dict__
        stash: _Stash | None = self.__dict__.pop("_tui_chat_stash", None)
        moves = _plan(self, stash) if stash is not None else None
        if moves is None:
            _forget_bars_drawn_over(self)
        update = render_partial_update(self)
        if laid_out:  # every place that changed was drawn
            _remember_drawn(self)
        if not moves:
            return update
        if update is None:  # nothing to draw but the move: an update with no spans
            update = ChopsUpdate([], [], [])
        return ScrollingUpdate(update, moves)

    def render_full_forgetting(self: Compositor, simplify: bool = False) -> Any:
        self.__dict__.pop("_tui_chat_stash", None)  # everything is drawn anew
        _BAR_ROWS.clear()
        update = render_full_update(self, simplify=simplify)
        _remember_drawn(self)
        return update

    Compositor.reflow = stash_then(reflow)  # type: ignore[method-assign]
    Compositor.reflow_visible = stash_then(reflow_visible, scroll=True)  # type: ignore[method-assign]
    Compositor.render_partial_update = render_partial_moving  # type: ignore[method-assign]
    Compositor.render_full_update = render_full_forgetting  # type: ignore[method-assign]


def _app_sending_frames() -> App[Any] | None:
    """The running app, unless it holds its frames back (inside a batch of updates)."""
    from textual._context import active_app

    app = active_app.get(None)
    return None if app is None or app._batch_count else app


def _remember_drawn(compositor: Compositor) -> None:
    """Keeps the places the frame just rendered was drawn with: the next plan's "before".
    A frame the app will not send leaves it unknown."""
    if _app_sending_frames() is None:
        compositor.__dict__.pop("_tui_chat_drawn", None)
    else:
        compositor.__dict__["_tui_chat_drawn"] = dict(compositor.visible_widgets)


def _plan(compositor: Compositor, stash: _Stash) -> str | None:
    """Replaces the frame's regions to draw in the log's rows by the smaller set a terminal
    move allows; returns the move's escape sequence ("" when nothing moved), or None when
    this frame is drawn as Textual draws it."""
    app = _app_sending_frames()
    if app is None or app.is_inline or compositor.root is not app.screen:
        return None
    screen_region = compositor.size.region
    dirty = compositor._dirty_regions
    if screen_region in dirty:
        return None
    new = compositor.visible_widgets
    scrolled = tuple(_SCROLLED)
    log = next((widget for widget in new if isinstance(widget, scrolled)), None)
    if log is None or log not in stash.visible:
        return None
    region, clip = new[log]
    if (
        stash.visible[log] != (region, clip)
        or region.x != 0
        or region.width != screen_region.width
        or not clip.contains_region(region)
        or log.styles.gutter.top
        or log.styles.gutter.bottom
        or log.show_horizontal_scrollbar  # it stays while the rows above it move
    ):
        return None
    band = region
    inside_new = _inside(new, log, band)
    inside_old = _inside(stash.visible, log, band)
    if inside_new is None or inside_old is None:
        return None  # something else covers part of the log
    if any(_terminal_picture(type(widget)) for widget in inside_new.keys() | inside_old.keys()):
        return None  # whether a terminal moves its pictures with the lines varies
    rows = _shift(inside_old, inside_new)
    if rows is None or abs(rows) >= band.height:
        return None
    if rows > 0:
        exposed = Region(0, band.bottom - rows, band.width, rows)
        kept = Region(0, band.y, band.width, band.height - rows)
    else:
        exposed = Region(0, band.y, band.width, -rows)
        kept = Region(0, band.y - rows, band.width, band.height + rows)
    to_draw: list[Region] = [exposed] if rows else []
    for widget in inside_new.keys() | inside_old.keys():
        to_draw.extend(
            _changed_parts(widget, inside_old.get(widget), inside_new.get(widget), rows, kept)
        )
        if widget in inside_new:
            said = widget._exchange_repaint_regions()
            if not isinstance(widget, ScrollBar):  # its rows are compared instead
                widget_region, widget_clip = inside_new[widget]
                for part in said:
                    to_draw.append(part.translate(widget_region.offset).intersection(widget_clip))
    for waiting in dirty:  # drawn as Textual would have, except in the log's rows
        if not waiting.overlaps(band):
            to_draw.append(waiting)
        elif waiting in stash.dirty:  # waited since before the move: there, and moved
            to_draw.append(waiting)
            to_draw.append(waiting.translate((0, -rows)).intersection(kept))
        else:  # the reflow's (every moved widget, whole): only what is outside the log
            to_draw.append(Region(waiting.x, waiting.y, waiting.width, band.y - waiting.y))
            to_draw.append(
                Region(waiting.x, band.bottom, waiting.width, waiting.bottom - band.bottom)
            )
    dirty.clear()
    dirty.update(part.intersection(screen_region) for part in to_draw if part)
    dirty.discard(Region())
    return move_rows(band.y, band.bottom, rows) if rows else ""


def _forget_bars_drawn_over(compositor: Compositor) -> None:
    """A frame drawn as Textual draws it may draw a scrollbar's rows: what they showed at
    the last planned frame is no longer what the terminal shows."""
    if not _BAR_ROWS:
        return
    visible = compositor.visible_widgets
    for bar in list(_BAR_ROWS):
        placed = visible.get(bar)
        if placed is None or any(
            placed[0].overlaps(waiting) for waiting in compositor._dirty_regions
        ):
            del _BAR_ROWS[bar]


@functools.cache
def _terminal_picture(widget_class: type[Widget]) -> bool:
    """Whether the class draws with terminal graphics (textual-image's sixel or kitty
    pictures, the prompt's thumbnails), which not every terminal moves with the lines."""
    return any(base.__module__.startswith("textual_image") for base in widget_class.__mro__)


def _inside(visible: Visible, log: Widget, band: Region) -> Visible | None:
    """The widgets drawn in the log's rows (other than the log and what is behind it), or
    None if one of them is not inside the log."""
    behind = set(log.ancestors_with_self)
    inside: Visible = {}
    for widget, (region, clip) in visible.items():
        if widget in behind or not band.overlaps(region.intersection(clip)):
            continue
        node = widget.parent
        while node is not None and node is not log:
            node = node.parent
        if node is None:
            return None
        inside[widget] = (region, clip)
    return inside


def _shift(old: Visible, new: Visible) -> int | None:
    """How many rows the log's content moved up (negative: down): the move of most tops
    of widgets on screen before and after (a growing reply's top moves with the log)."""
    moves = Counter(
        old[widget][0].y - region.y
        for widget, (region, _) in new.items()
        if widget in old
        and old[widget][0].x == region.x
        and old[widget][0].width == region.width
        and not isinstance(widget, ScrollBar)
    )
    if not moves:
        return None
    return moves.most_common(1)[0][0]


def _changed_parts(
    widget: Widget,
    old: tuple[Region, Region] | None,
    new: tuple[Region, Region] | None,
    rows: int,
    kept: Region,
) -> Iterable[Region]:
    """The screen regions of `widget` the terminal's move does not leave right."""
    moved_old = (
        old[0].intersection(old[1]).translate((0, -rows)).intersection(kept) if old else Region()
    )
    new_visible = new[0].intersection(new[1]).intersection(kept) if new else Region()
    if isinstance(widget, ScrollBar):
        bar_rows = _changed_bar_rows(widget, old, new, rows, kept)
        return (moved_old, new_visible) if bar_rows is None else bar_rows
    if old is None or new is None:
        return (moved_old, new_visible)
    (old_region, old_clip), (new_region, new_clip) = old, new
    if old_region.x != new_region.x or old_region.width != new_region.width:
        return (moved_old, new_visible)
    if old_region.y - rows != new_region.y:
        return (moved_old, new_visible)
    if old_region.height == new_region.height:
        return () if moved_old == new_visible else (moved_old, new_visible)
    if not isinstance(widget, kept_lines_classes()):
        return (moved_old, new_visible)
    # Grew or shrank and kept its drawn lines: from its old end on, it is drawn again.
    same = max(0, min(old_region.height, new_region.height) - widget.styles.gutter.bottom)
    old_top = Region(old_region.x, old_region.y, old_region.width, same)
    new_top = Region(new_region.x, new_region.y, new_region.width, same)
    if old_top.intersection(old_clip).translate((0, -rows)).intersection(kept) != (
        new_top.intersection(new_clip).intersection(kept)
    ):
        return (moved_old, new_visible)
    old_rest = Region(old_region.x, old_region.y + same, old_region.width, old_region.height - same)
    new_rest = Region(new_region.x, new_region.y + same, new_region.width, new_region.height - same)
    return (
        old_rest.intersection(old_clip).translate((0, -rows)).intersection(kept),
        new_rest.intersection(new_clip).intersection(kept),
    )


def _changed_bar_rows(
    bar: ScrollBar,
    old: tuple[Region, Region] | None,
    new: tuple[Region, Region] | None,
    rows: int,
    kept: Region,
) -> list[Region] | None:
    """A scrollbar stays in place while the rows under it move: each of its rows is drawn
    again unless the row moved onto it shows the same. None: drawn whole (it appeared,
    went, moved, or what it showed is not known)."""
    before = _BAR_ROWS.pop(bar, None)
    if new is None:
        return None
    now = _bar_rows(bar)
    if now is not None:
        _BAR_ROWS[bar] = now  # what the terminal shows once this frame is drawn
    region = new[0]
    if now is None or before is None or old is None or old[0] != region or len(before) != len(now):
        return None
    changed: list[Region] = []
    for y, row in enumerate(now):
        source = y + rows
        if not 0 <= source < len(before) or before[source] != row:
            changed.append(Region(region.x, region.y + y, region.width, 1))
    return [part.intersection(new[1]).intersection(kept) for part in changed]


def _bar_rows(bar: ScrollBar) -> list[tuple[str, Style]] | None:
    """What a vertical scrollbar shows, row by row (what a mouse click does left out), or
    None for one drawn otherwise."""
    if not bar.vertical or type(bar).renderer is not ScrollBarRender:
        return None
    drawn = bar.render()
    if type(drawn) is not ScrollBarRender or not isinstance(drawn.style, Style):
        return None
    style = drawn.style
    bar_drawing = ScrollBarRender.render_bar(
        size=bar.size.height,
        virtual_size=drawn.virtual_size,
        window_size=drawn.window_size,
        position=drawn.position,
        thickness=bar.size.width,
        vertical=True,
        back_color=style.bgcolor or RichColor.parse("#555555"),  # as ScrollBarRender does
        bar_color=style.color or RichColor.parse("bright_magenta"),
    )
    return [
        (segment.text, (segment.style or Style()).clear_meta_and_links())
        for segment in bar_drawing.segments
        if segment.text != "\n"
    ]

"""The workarounds for Textual's costs change nothing a user sees."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.cache import FIFOCache
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Region
from textual.reactive import Reactive
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Static

from tests.emulated_terminal import DrawsToEmulatedTerminal, differences, rows_drawn
from tests.ui_helpers import counting_reflows
from tui.ui.frames import frame_or_input_pending
from tui.ui.kept_lines import (
    BlankBehindChildren,
    draw_only_changed_scrollbar_rows,
    keep_drawn_lines_when_height_changes,
)
from tui.ui.strip_caches import strip_caches_made_when_first_used, strip_caches_without_self_cycles
from tui.ui.textual_workarounds import (
    focus_without_repainting_the_screen,
    forget_removed_widgets,
    lay_out_once_per_frame,
    mark_only_cached_lines_dirty,
    private_shapes_present,
)
from tui.ui.widgets.message_log import MessageLog
from tui.ui.widgets.rendered_markdown import RenderedMarkdown


def test_refreshing_a_tall_widget_marks_only_the_lines_it_has_drawn() -> None:
    """A line is drawn again when dirty or not cached: marking only cached lines dirty
    draws the same lines, without a set of a million numbers per refresh."""
    mark_only_cached_lines_dirty()
    cache = StylesCache()
    cache._cache = {y: Strip.blank(10) for y in range(500, 540)}  # a screenful drawn
    cache.set_dirty(Region(0, 0, 10, 1_000_000))
    assert cache._dirty_lines == set(range(500, 540)), "the drawn lines will be drawn again"
    cache._dirty_lines.clear()
    cache.set_dirty(Region(0, 510, 10, 3))
    assert cache._dirty_lines == {510, 511, 512}, "a small region is marked as before"


def test_the_private_shapes_the_workarounds_rely_on_are_in_the_installed_textual() -> None:
    """If a Textual release changes them, the patches switch themselves off; this says so
    loudly instead, so the bound in pyproject.toml is moved on purpose."""
    assert private_shapes_present()
    focused = Screen.__dict__["focused"]
    assert isinstance(focused, Reactive) and isinstance(focused._repaint, bool)


class GrowingApp(App[None]):
    """Text in auto-height containers inside an anchored log, like a streaming reply."""

    CSS = "#reply { height: auto; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield Static("question", id="question")
            with Vertical(id="reply"):
                yield Static("", id="body")

    def on_mount(self) -> None:
        self.query_one("#log", VerticalScroll).anchor()


async def test_text_that_grows_is_laid_out_in_one_frame_and_the_log_follows_it() -> None:
    """Before the workaround, each growth cost a second reflow a frame later (the
    ancestors' sizes changing asked for a layout again): two frames per flush."""
    lay_out_once_per_frame()
    app = GrowingApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        with counting_reflows() as reflows:
            for step in range(1, 6):
                text = "\n".join(f"line {n}" for n in range(step * 10))
                app.query_one("#body", Static).update(text)
                await pilot.pause(0.1)
        log = app.query_one("#log", VerticalScroll)
        assert app.query_one("#reply").size.height == 50
        assert log.virtual_size.height == 51
        assert log.scroll_y == log.max_scroll_y == 41, "the log follows the end"
        # One per growth, and one more when the scrollbar appears (it narrows the log);
        # without the workaround, 11.
        assert len(reflows) <= 6, f"one reflow per growth, not {len(reflows)}"


async def test_the_scrollbar_of_a_growing_log_is_painted_in_the_growth_s_frame() -> None:
    """The log's scrollbar moves at every growth; before the workaround its refresh
    arrived after the frame and drew a second one (re-rendering the log under it)."""
    lay_out_once_per_frame()
    app = GrowingApp()
    async with app.run_test(size=(40, 10)) as pilot:
        body = app.query_one("#body", Static)
        body.update("\n".join(f"line {n}" for n in range(20)))  # the scrollbar appears
        await pilot.pause(0.1)
        painted: list[str] = []
        render_update = Compositor.render_update

        def counted(compositor: Compositor, *args: Any, **kwargs: Any) -> Any:
            update = render_update(compositor, *args, **kwargs)
            if update is not None:
                painted.append(type(update).__name__)
            return update

        Compositor.render_update = counted  # type: ignore[method-assign,assignment]
        try:
            for step in range(3, 8):
                body.update("\n".join(f"line {n}" for n in range(step * 10)))
                await pilot.pause(0.1)
        finally:
            Compositor.render_update = render_update  # type: ignore[method-assign]
        log = app.query_one("#log", VerticalScroll)
        assert log.scroll_y == log.max_scroll_y, "the log follows the end"
        bar = log.vertical_scrollbar
        assert (bar.position, bar.window_virtual_size) == (log.scroll_y, 71)
        assert len(painted) == 5, f"one frame per growth, not {len(painted)}"


class ManyLinesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MessageLog(id="log")

    async def on_mount(self) -> None:
        turns = [Static(f"turn {n}\n" + "a line of text\n" * 3, classes="turn") for n in range(12)]
        await self.query_one(MessageLog).mount_all(turns)


async def test_removed_turns_leave_no_drawn_lines_for_the_collector() -> None:
    """A removed widget waits for a full collection (Textual's widgets refer to
    themselves); its drawn lines must not wait with it, nor must lines the compositor
    replaced: each full collection went through hundreds of thousands of them."""
    strip_caches_without_self_cycles()
    # What earlier tests' apps left (some drawn before the patch) goes first: the
    # `get_inner_outer` cache the drop below clears still holds their lines.
    forget_removed_widgets()
    gc.collect()
    app = ManyLinesApp()
    async with app.run_test(size=(40, 20)) as pilot:
        log = app.query_one(MessageLog)
        for _ in range(3):  # frames that draw, and replace, every line
            log.scroll_end(animate=False)
            await pilot.pause()
            log.scroll_home(animate=False)
            await pilot.pause()
        gc.collect()
        gc.disable()
        try:
            await log.drop()  # as turns scrolled far out of view go, and others come
            await log.mount(Static("a later turn"))
            await pilot.pause()
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            lines = [thing for thing in gc.garbage if isinstance(thing, Strip)]
            turns_collected = sum(isinstance(thing, Static) for thing in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
        assert turns_collected, "the removed turns themselves wait for a full collection"
        assert lines == [], f"{len(lines)} drawn lines were left for a full collection"


class FramedReply(BlankBehindChildren, Vertical):
    """A bordered, padded view around a reply, as the log's messages are."""

    DEFAULT_CSS = "FramedReply { height: auto; border: round white; padding: 0 1; }"


class FramedReplyApp(App[None]):
    CSS = "RenderedMarkdown { height: auto; } #log { scrollbar-size-vertical: 0; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"), FramedReply():
            yield RenderedMarkdown()

    def on_mount(self) -> None:
        self.query_one("#log", VerticalScroll).anchor()


async def test_a_reply_that_grows_a_line_draws_again_only_its_lines_that_changed() -> None:
    """Textual draws a widget whole again when its height changes; a streaming reply's
    view, body and text grow at every flush, so each frame drew every visible line of
    all three (a quarter of the CPU at 100 tok/s), though only the end had changed."""
    keep_drawn_lines_when_height_changes(FramedReply, RenderedMarkdown)
    app = FramedReplyApp()
    async with app.run_test(size=(30, 12)) as pilot:
        markdown = app.query_one(RenderedMarkdown)
        text = "\n".join(f"- item {n}" for n in range(12))
        markdown.set_tail(text)
        await pilot.pause()
        drawn: list[str] = []
        render_line = StylesCache.render_line

        def counted(cache: StylesCache, styles: Any, y: int, *args: Any) -> Strip:
            owner = getattr(args[5], "__self__", None)  # the widget's render_line
            drawn.append(type(owner).__name__)
            return render_line(cache, styles, y, *args)

        to_strips = Visual.to_strips
        rows_rendered: list[int] = []

        def measured(
            widget: Any, visual: Visual, width: int, height: int | None, *a: Any, **k: Any
        ) -> Any:
            if isinstance(widget, FramedReply):
                rows_rendered.append(height or 0)
            return to_strips(widget, visual, width, height, *a, **k)

        StylesCache.render_line = counted  # type: ignore[method-assign]
        Visual.to_strips = measured  # type: ignore[method-assign,assignment]
        try:
            for n in range(12, 15):
                text += f"\n- item {n}"
                markdown.set_tail(text)
                await pilot.pause()
            markdown.extend(text + "\n\n")  # the segment ends; the next one starts
            markdown.set_tail("After the list.")
            await pilot.pause()
        finally:
            StylesCache.render_line = render_line  # type: ignore[method-assign]
            Visual.to_strips = to_strips  # type: ignore[method-assign]
        lines = [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]
        # The view's own content is blank behind the text: drawing it for every row of
        # its height at each growth made a frame's cost grow with the reply.
        assert sum(rows_rendered) <= 4, f"{rows_rendered}: the view's blank drawn whole"
        shown = [line[2:].strip(" │") for line in lines[:-1]]
        assert shown == [*(f"• item {n}" for n in range(7, 15)), "", "After the list.", ""]
        assert lines[-1].startswith("╰") and lines[-1].endswith("╯"), "the border closes it"
        for name in ("FramedReply", "RenderedMarkdown"):
            assert drawn.count(name) <= 4 * 3, f"{name} drew {drawn.count(name)} lines again"


async def test_a_reply_that_keeps_growing_keeps_about_a_screenful_of_drawn_lines() -> None:
    """Kept lines must not pile up: emptied at every size change before, the caches of a
    long streaming reply's view and text would otherwise hold every line ever drawn."""
    keep_drawn_lines_when_height_changes(FramedReply, RenderedMarkdown)
    app = FramedReplyApp()
    async with app.run_test(size=(30, 12)) as pilot:
        markdown = app.query_one(RenderedMarkdown)
        text = ""
        for n in range(60):
            text += f"- item {n}\n"
            markdown.set_tail(text)
            await pilot.pause()
        assert "• item 59" in app.screen._compositor.render_strips()[-3].text
        for widget in (markdown, app.query_one(FramedReply)):
            drawn = len(widget._styles_cache._cache)
            assert drawn <= 2 * 12, f"{type(widget).__name__} keeps {drawn} drawn lines"


async def test_a_moving_scrollbar_draws_again_only_its_rows_that_changed() -> None:
    """The log's scrollbar moves at every flush of a streaming reply, and Textual drew
    every row of it again each time: the costliest widget of a slow stream's frames."""
    draw_only_changed_scrollbar_rows()
    app = GrowingApp()
    async with app.run_test(size=(40, 20)) as pilot:
        body = app.query_one("#body", Static)
        body.update("\n".join(f"line {n}" for n in range(40)))  # the scrollbar appears
        await pilot.pause()
        drawn: list[int] = []
        render_line = StylesCache.render_line

        def counted(cache: StylesCache, styles: Any, y: int, *args: Any) -> Strip:
            if isinstance(getattr(args[5], "__self__", None), ScrollBar):
                drawn.append(y)
            return render_line(cache, styles, y, *args)

        StylesCache.render_line = counted  # type: ignore[method-assign]
        try:
            for step in range(41, 46):
                body.update("\n".join(f"line {n}" for n in range(step)))
                await pilot.pause()
        finally:
            StylesCache.render_line = render_line  # type: ignore[method-assign]
        shown = app.screen._compositor.render_strips()
        bar = app.query_one("#log", VerticalScroll).vertical_scrollbar
        bar._styles_cache.clear()  # drawn whole, as Textual would
        bar.refresh()
        await pilot.pause()
        assert app.screen._compositor.render_strips() == shown, "the same rows, drawn whole"
        assert len(drawn) <= 5 * 4, f"{len(drawn)} scrollbar rows drawn for 5 moves of 20"
        # A faded ancestor (a message not sent is drawn at 60%) changes how every row is
        # drawn, not what it shows: no row drawn before may come back.
        app.query_one("#log", VerticalScroll).styles.opacity = 0.5
        await pilot.pause()
        body.update("\n".join(f"line {n}" for n in range(46)))
        await pilot.pause()
        faded = app.screen._compositor.render_strips()
        bar._styles_cache.clear()
        bar.refresh()
        await pilot.pause()
        assert app.screen._compositor.render_strips() == faded, "every row at the new opacity"


class Choice(Static, can_focus=True):
    pass


class ChoicesApp(DrawsToEmulatedTerminal):
    """A title, four bordered choices whose border shows focus, a status line."""

    CSS = """
    Static { height: 1; }
    Choice { height: 3; border: round $secondary; }
    Choice:focus { border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        yield Static("a title above the choices")
        for number in range(4):
            yield Choice(f"choice {number}")
        yield Static("a status line below them")


async def test_moving_focus_draws_the_widgets_it_moved_between_not_the_screen() -> None:
    """Every focus change drew the whole screen again (the screen's `focused` repaints):
    holding Up through a long history drew 40 rows of Markdown 30 times a second, in
    frames of 60-90 ms. Only the two choices' rows change, and only they are drawn."""
    focus_without_repainting_the_screen()
    app = ChoicesApp()
    async with app.run_test(size=(30, 16)) as pilot:
        choices = list(app.query(Choice))
        choices[0].focus()
        await pilot.pause()
        for number in (1, 2, 1):
            sent_before = len(app.terminal.updates)
            choices[number].focus()
            await pilot.pause()
            assert differences(app, app.terminal) == [], f"after focusing choice {number}"
            drawn = set().union(*map(rows_drawn, app.terminal.updates[sent_before:]))
            assert len(drawn) <= 6 and 1 not in drawn, f"rows drawn: {sorted(drawn)}"


def test_a_line_carries_only_the_caches_its_methods_used() -> None:
    """Textual gave every `Strip` seven caches, used or not: while a long history
    scrolled they were 39,000 of the 84,000 objects each full collection went through
    (24 ms with nothing to free). A line now has none until a method that caches runs,
    and the methods give what they gave."""
    strip_caches_made_when_first_used()

    def caches(line: Strip) -> list[object]:
        return [ref for ref in gc.get_referents(line) if isinstance(ref, FIFOCache)]

    line = Strip([Segment("hello "), Segment("world", RichStyle(bold=True))])
    assert caches(line) == []
    assert line.crop(2, 8).text == "llo wo"
    assert line.crop(2, 8) is line.crop(2, 8), "kept once made"
    assert [part.text for part in line.divide([3, 11])] == ["hel", "lo world"]
    assert line.adjust_cell_length(13).text == "hello world  "
    assert line.apply_style(RichStyle(italic=True)).text == "hello world"
    assert len(caches(line)) == 4


async def test_the_app_says_it_is_busy_while_a_frame_or_a_key_waits() -> None:
    """A due full collection waits while the app has a frame to draw or a key to handle
    (in a turn right after a frame, it added its 20-40 ms to the frame's)."""
    app = GrowingApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        assert not frame_or_input_pending(app)
        app.query_one("#question", Static).update("changed")
        said = []
        for _ in range(20):  # the widget tells its screen in a turn or two
            await asyncio.sleep(0)
            said.append(frame_or_input_pending(app))
        assert True in said, "a frame to draw"
        await pilot.pause()
        assert not frame_or_input_pending(app)
        app.post_message(events.Key("x", "x"))
        assert frame_or_input_pending(app), "a key to handle"


class NestedTurns(App[None]):
    """A log in Textual's stream layout of turns, each a view around a body around text,
    all of auto height, as the chat's log is."""

    CSS = """
    #log { layout: stream; height: 1fr; }
    .view, .body, Static { height: auto; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            for turn in range(3):
                with Vertical(classes="view", id=f"view{turn}"), Vertical(classes="body"):
                    yield Static(f"turn {turn}", id=f"text{turn}")


async def test_text_that_grows_inside_a_turn_grows_its_turn_in_a_stream_layout() -> None:
    """Textual registers a layout request with the text's parent only, not up to the log:
    the stream layout then kept the turn's old height whenever another turn below asked
    for a layout in the same frame (a reply that ended while its log was rebuilt showed
    an empty box, 1 run in 6 of a test, once the scrollbar's width no longer changed)."""
    lay_out_once_per_frame()
    app = NestedTurns()
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        app.query_one("#text0", Static).update("one\ntwo\nthree")
        app.query_one("#view2").refresh(layout=True)
        await pilot.pause()
        await pilot.pause()
        assert app.query_one("#view0").region.height == 3
        assert app.query_one("#view1").region.y == 3, "the turns below moved down"

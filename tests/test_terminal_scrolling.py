"""The log's lines are moved by the terminal when it scrolls, and the terminal still shows
exactly what a full redraw would: checked on an emulated terminal (pyte) fed with every
update the app sends."""

from __future__ import annotations

import re
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Static

from tests.emulated_terminal import MOVE, DrawsToEmulatedTerminal, differences, rows_drawn
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import chat_screen, last_reply_settled, type_and_send, wait_until
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.kept_lines import (
    BlankBehindChildren,
    draw_only_changed_scrollbar_rows,
    keep_drawn_lines_when_height_changes,
)
from tui.ui.terminal_scrolling import scroll_with_the_terminal
from tui.ui.textual_workarounds import lay_out_once_per_frame, render_only_the_rows_drawn
from tui.ui.widgets.rendered_markdown import RenderedMarkdown


class Log(VerticalScroll):
    pass


class FramedReply(BlankBehindChildren, Vertical):
    DEFAULT_CSS = "FramedReply { height: auto; border: round white; padding: 0 1; }"


class ScrolledReplyApp(DrawsToEmulatedTerminal):
    """A title row, a log with a bordered, growing reply and its scrollbar, a status row."""

    CSS = "Static { height: 1; } #log { height: 1fr; } RenderedMarkdown { height: auto; }"

    def compose(self) -> ComposeResult:
        yield Static("a title above the log")
        with Log(id="log"), FramedReply():
            yield RenderedMarkdown()
        yield Static("a status line below it")

    def on_mount(self) -> None:
        self.query_one(Log).anchor()


async def grow(pilot: Pilot[Any], markdown: RenderedMarkdown, text: str, items: list[str]) -> str:
    """Adds list items to the reply one frame at a time, as a stream's flushes do."""
    for item in items:
        text += f"- {item}\n"
        markdown.set_tail(text)
        await pilot.pause()
    return text


def install() -> None:
    lay_out_once_per_frame()
    keep_drawn_lines_when_height_changes(FramedReply, RenderedMarkdown)
    draw_only_changed_scrollbar_rows()
    scroll_with_the_terminal(Log)
    render_only_the_rows_drawn()


async def test_a_growing_reply_moves_the_log_in_the_terminal_and_draws_only_its_end() -> None:
    """Before, every frame of a streaming reply drew the log's every row again (its
    content had moved up a line); now the terminal moves them, and the frame draws the
    new end. What the terminal shows stays what a full redraw shows, frame after frame,
    while it grows, scrolls back by keys, and a notification covers part of the log."""
    install()
    app = ScrolledReplyApp()
    async with app.run_test(size=(40, 16)) as pilot:
        markdown = app.query_one(RenderedMarkdown)
        text = ""
        sent_before = len(app.terminal.updates)
        for n in range(30):
            text += f"- item {n} of a list that wraps at this width\n"
            markdown.set_tail(text)
            await pilot.pause()
            assert differences(app, app.terminal) == [], f"after item {n}"
        moved = [update for update in app.terminal.updates[sent_before:] if MOVE in update]
        assert len(moved) >= 22, f"{len(moved)} of 30 growths moved the log in the terminal"
        # 14 rows of log: a growth by one item (two rows) draws those, the bottom border
        # and the scrollbar's rows that changed (a few, a row wide), not the 14 rows. The
        # frame in which the scrollbar appears narrows everything: that one is drawn whole.
        drawn = sorted(len(rows_drawn(update)) for update in moved)
        assert drawn[-2] <= 8, f"rows drawn by the frames that moved the log: {drawn}"
        sent_before = len(app.terminal.updates)
        for key in ("pageup", "up", "up", "pageup", "down", "end"):
            await pilot.press(key)
            await pilot.pause()
            assert differences(app, app.terminal) == [], f"after {key}"
        inserted = re.findall(r"\x1b\[(\d+)L", "".join(app.terminal.updates[sent_before:]))
        assert inserted, "scrolling back moved the rows down in the terminal"
        app.notify("a notification over the log", timeout=0.3)
        for n in range(30, 33):
            text += f"- item {n}\n"
            markdown.set_tail(text)
            await pilot.pause()
            assert differences(app, app.terminal) == [], f"with a notification, item {n}"
        await pilot.pause(0.6)  # it goes
        # A check draws every line itself (marking them drawn): growths with none between
        # them take the path a real session takes.
        text = await grow(pilot, markdown, text, [f"item {n}, unchecked" for n in range(33, 43)])
        await grow(pilot, markdown, text, ["the last item"])
        assert differences(app, app.terminal) == []
        assert "• the last item" in "\n".join(app.terminal.screen.display)


class TerminalChatApp(DrawsToEmulatedTerminal, ChatApp):
    pass


async def test_a_streamed_reply_in_the_app_shows_the_same_as_a_full_redraw(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """The real app, a reply streamed by the test server: the log was moved by the
    terminal as it grew, and after the reply and after scrolling it with keys the terminal
    shows what a full redraw shows."""
    words = [
        f"word{n} "
        + ("\n\n" if n % 9 == 8 else "")
        + ("\n```python\nx = 1\n```\n\n" if n % 40 == 39 else "")
        for n in range(160)
    ]
    server.queue(StreamReply(deltas=words, delay=0.01))
    app = TerminalChatApp(settings)
    async with app.run_test(size=(60, 24)) as pilot:
        await type_and_send(pilot, "A long answer, please")
        await wait_until(pilot, lambda: last_reply_settled(pilot), timeout=15)
        await pilot.pause(0.3)
        moved = sum(MOVE in update for update in app.terminal.updates)
        assert moved >= 5, f"the log was moved by the terminal {moved} times"
        assert differences(app, app.terminal) == []
        assert "word159" in "\n".join(app.terminal.screen.display)
        chat_screen(pilot).log_view.focus()
        for key in ("pageup", "up", "down", "end"):
            await pilot.press(key)
            await pilot.pause()
            assert differences(app, app.terminal) == [], f"after {key}"


class PictureReplyApp(ScrolledReplyApp):
    """The same, with a picture drawn by textual-image above the reply."""

    CSS = ScrolledReplyApp.CSS + " .picture { height: 6; width: 8; }"

    def compose(self) -> ComposeResult:
        from PIL import Image
        from textual_image.widget import HalfcellImage

        yield Static("a title above the log")
        with Log(id="log"):
            yield HalfcellImage(Image.new("RGB", (8, 8), "red"), classes="picture")
            with FramedReply():
                yield RenderedMarkdown()
        yield Static("a status line below it")


async def test_a_log_showing_a_terminal_picture_is_drawn_as_textual_draws_it() -> None:
    """Terminals differ in whether a sixel or kitty picture moves with the lines: while
    one is on screen in the log, nothing is left for the terminal to move."""
    install()
    app = PictureReplyApp()
    async with app.run_test(size=(40, 16)) as pilot:
        markdown = app.query_one(RenderedMarkdown)
        text = await grow(pilot, markdown, "", [f"item {n}" for n in range(6)])
        sent_before = len(app.terminal.updates)
        # The log scrolls; the picture's top goes out of sight.
        await grow(pilot, markdown, text, [f"item {n}" for n in range(6, 10)])
        assert not any(MOVE in update for update in app.terminal.updates[sent_before:])
        assert differences(app, app.terminal) == []
        assert "item 9" in "\n".join(app.terminal.screen.display)
        assert app.query_one(Log).scroll_y > 0, "the log scrolled while the picture showed"


class LinesApp(DrawsToEmulatedTerminal):
    """A log of 60 one-line turns between a title and a status line."""

    CSS = "Static { height: 1; } #log { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Static("a title above the log")
        with Log(id="log"):
            for n in range(60):
                yield Static(f"turn {n} " + "abcdefghij"[n % 10] * 20, id=f"turn-{n}")
        yield Static("a status line below it")


async def hide_a_turn_after_scrolling(pilot: Pilot[Any], app: LinesApp) -> None:
    """Two scroll frames, then a turn above the view is hidden: the rows below move up."""
    log = app.query_one(Log)
    await pilot.pause()
    for y in (20, 24):
        log.scroll_to(y=y, animate=False)
        await pilot.pause()
    assert differences(app, app.terminal) == []
    app.query_one("#turn-5").display = False
    await pilot.pause()
    assert differences(app, app.terminal) == []
    assert "turn 25" in app.terminal.screen.display[1], "the turns below moved up one"


async def test_a_turn_hidden_after_scrolling_moves_the_rest_right() -> None:
    """After a scroll, the compositor rebuilds its map of places when asked where a
    widget is, and the rebuilt places can already be the next frame's: taken for what the
    terminal showed, a turn hidden above the view moved nothing (9 rows left one turn
    behind; found by a review). The places of the last frame drawn are kept instead."""
    install()
    app = LinesApp()
    async with app.run_test(size=(40, 12)) as pilot:
        await hide_a_turn_after_scrolling(pilot, app)
        app.query_one("#turn-50").display = False
        await pilot.pause()
        assert differences(app, app.terminal) == []


class NarrowLinesApp(LinesApp):
    """The log leaves a column beside it: the terminal cannot move its rows alone."""

    CSS = LinesApp.CSS + " #log { width: 39; }"


async def test_a_turn_hidden_after_scrolling_moves_the_rest_when_drawn_as_textual_does() -> None:
    """The same in a log the terminal cannot move (narrower than the screen): Textual's
    own reflow compared with its rebuilt map and found nothing changed; its second
    reflow, which the app saves (`lay_out_once_per_frame`), used to catch it by chance."""
    install()
    app = NarrowLinesApp()
    async with app.run_test(size=(40, 12)) as pilot:
        await hide_a_turn_after_scrolling(pilot, app)
        assert not any(MOVE in update for update in app.terminal.updates)


async def test_a_scroll_right_after_a_layout_moves_the_log_not_the_whole_screen() -> None:
    """Textual compares a scroll's places with those of the last scroll, and a layout in
    between forgets them: every widget then counts as changed, the whole screen is drawn
    again. Holding Up through a history does exactly that at every key (the focus moves,
    the log scrolls to it): 40 rows of Markdown a press."""
    install()
    app = LinesApp()
    async with app.run_test(size=(40, 12)) as pilot:
        log = app.query_one(Log)
        await pilot.pause()
        for turn in (30, 31, 32):
            app.query_one(f"#turn-{turn}", Static).styles.height = 2  # a layout frame
            await pilot.pause()
            sent_before = len(app.terminal.updates)
            log.scroll_relative(y=3, animate=False)  # then a frame that only scrolls
            await pilot.pause()
            assert differences(app, app.terminal) == [], f"after the scroll {turn}"
            drawn = set().union(*map(rows_drawn, app.terminal.updates[sent_before:]))
            assert 1 not in drawn and 12 not in drawn, f"rows drawn: {sorted(drawn)}"
            assert any(MOVE in update for update in app.terminal.updates[sent_before:])

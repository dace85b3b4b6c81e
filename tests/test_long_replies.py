"""Long replies stay cheap (finished parts become rendered lines) and still read the same."""

from __future__ import annotations

import re

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    counting_reflows,
    last_reply_settled,
    replies,
    screen_text,
    type_and_send,
    wait_until,
)
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.widgets.rendered_markdown import RenderedMarkdown

SECTIONS = [
    f"## Section {i}\n\nParagraph {i} with `code` and **bold**.\n\n"
    f"- item {i}a\n- item {i}b\n\n```python\nvalue_{i} = {i}\n```\n\n"
    for i in range(12)
]


async def test_long_reply_keeps_finished_segments_as_lines_and_every_line_shows(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=SECTIONS, delay=0.05))
    async with ChatApp(settings).run_test(size=(80, 30)) as pilot:
        await type_and_send(pilot, "Long please")
        await wait_until(pilot, lambda: last_reply_settled(pilot), timeout=10)
        await pilot.pause(0.3)
        body = replies(pilot)[-1].body
        finished = body.query(RenderedMarkdown)
        assert len(finished) == 1, "finished segments join one widget of rendered lines"
        assert "## Section 0" in finished.first().source
        assert "## Section 11" in finished.first().source
        assert finished.first().segment_count >= 3, "laid out a segment at a time"
        log = chat_screen(pilot).log_view
        seen: set[str] = set()
        log.scroll_home(animate=False)
        await pilot.pause()
        while True:
            seen.update(screen_text(pilot).splitlines())
            if log.scroll_y >= log.max_scroll_y:
                break
            log.scroll_to(y=log.scroll_y + 20, animate=False)
            await pilot.pause()
        text = "\n".join(seen)
        for i in range(12):
            assert f"Section {i}" in text
            assert f"value_{i} = {i}" in text
            assert f"item {i}b" in text
        assert "**bold**" not in text and "```" not in text


async def test_resizing_after_a_long_reply_rewraps_its_text(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    long_line = "word " * 60
    server.queue(StreamReply(deltas=[f"{long_line}{i}\n\n" for i in range(20)], delay=0.02))
    async with ChatApp(settings).run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "Wide")
        await wait_until(pilot, lambda: last_reply_settled(pilot), timeout=10)
        await pilot.pause(0.3)
        body = replies(pilot)[-1].body
        assert body.query(RenderedMarkdown)
        await pilot.resize_terminal(60, 40)
        await pilot.pause(0.5)
        for finished in body.query(RenderedMarkdown):
            width = finished.size.width
            assert width < 60
            assert all(len(finished.line_text(y)) == width for y in range(finished.size.height))
        lines = screen_text(pilot).splitlines()
        assert all(len(line.rstrip()) <= 60 for line in lines)


async def test_a_reply_resized_narrower_and_back_is_wrapped_at_its_width_again(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Back at a width it had been laid out at before, a container reuses its arrangement
    without asking the text its height again: the text kept the narrower wrapping."""
    words = " ".join(f"w{n:02d}" for n in range(60))
    server.queue(StreamReply(deltas=[words]))
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        await type_and_send(pilot, "Words")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await pilot.pause(0.3)
        await pilot.resize_terminal(50, 24)
        await pilot.pause(0.3)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        markdown = replies(pilot)[-1].body.query_one(RenderedMarkdown)
        first = markdown.line_text(0).rstrip()
        assert len(first) > 60, f"wrapped at the old width: {first!r}"
        assert "w00" in screen_text(pilot) and "w59" in screen_text(pilot)


async def test_a_burst_shows_its_end_first_then_fills_in_everything_above_in_order(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    sections = [
        f"## Part {i}\n\nText of part {i}.\n\n- point {i}\n\n```\ncode_{i}()\n```\n\n"
        for i in range(60)
    ]
    server.queue(StreamReply(deltas=["".join(sections) + "The very end."]))
    async with ChatApp(settings).run_test(size=(80, 30)) as pilot:
        await type_and_send(pilot, "All at once")
        await wait_until(pilot, lambda: last_reply_settled(pilot), timeout=20)
        await wait_until(pilot, lambda: "The very end." in screen_text(pilot), timeout=5)
        body = replies(pilot)[-1].body
        await body.backfilled()
        await pilot.pause(0.3)
        assert len(body.query(RenderedMarkdown)) == 1, "the backfilled text joins the rest"
        log = chat_screen(pilot).log_view
        log.scroll_home(animate=False)
        await pilot.pause()
        order: list[int] = []
        while True:
            for heading in re.finditer(r"\bPart (\d+)\b", screen_text(pilot)):
                number = int(heading.group(1))
                if not order or order[-1] != number:
                    order.append(number)
            if log.scroll_y >= log.max_scroll_y:
                break
            log.scroll_to(y=log.scroll_y + 20, animate=False)
            await pilot.pause()
        # The last step may overlap the one before it (the end stops the scroll).
        assert list(dict.fromkeys(order)) == list(range(60)), "every part shows, in order"
        assert parts_laid_out(body.query_one(RenderedMarkdown)) == list(range(60)), "once each"


def shown(pilot: Pilot[None]) -> str:
    """What the last reply has laid out so far."""
    return replies(pilot)[-1].body.query_one(RenderedMarkdown).source


def parts_laid_out(markdown: RenderedMarkdown) -> list[int]:
    whole = "\n".join(markdown.line_text(y) for y in range(markdown.size.height))
    return [int(number) for number in re.findall(r"\bPart (\d+)\b", whole)]


async def test_bursts_one_after_another_fill_in_above_their_ends_in_order(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """A server pouring out a reply makes a backlog at every flush: each one's start is
    laid out after its end, and one may still be waiting when the next comes."""
    sections = [f"## Part {i}\n\nText of part {i}, " + "words " * 60 + "\n\n" for i in range(600)]
    bursts = ["".join(sections[start : start + 150]) for start in range(0, 600, 150)]
    server.queue(StreamReply(deltas=[*bursts, "The very end."], delay=0.25))
    async with ChatApp(settings).run_test(size=(80, 30)) as pilot:
        await type_and_send(pilot, "Pour it out")
        await wait_until(pilot, lambda: bool(replies(pilot)) and "Part 299" in shown(pilot))
        assert "part 10," not in shown(pilot), "a start is laid out only once the pouring stops"
        await wait_until(pilot, lambda: last_reply_settled(pilot), timeout=30)
        body = replies(pilot)[-1].body
        await body.backfilled()
        await pilot.pause(0.3)
        assert "The very end." in screen_text(pilot)
        assert parts_laid_out(body.query_one(RenderedMarkdown)) == list(range(600))


class TailApp(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield RenderedMarkdown()


async def test_a_tail_that_grows_within_its_lines_repaints_them_without_a_layout() -> None:
    """A slow stream mostly lengthens the last line: that costs the changed line, not a
    reflow and a repaint of the whole screenful (30 tok/s: 17% less CPU)."""
    app = TailApp()
    async with app.run_test(size=(40, 8)) as pilot:
        markdown = app.query_one(RenderedMarkdown)
        markdown.set_tail("First paragraph.\n\nThe second one")
        await pilot.pause()
        with counting_reflows() as reflows:
            markdown.set_tail("First paragraph.\n\nThe second one grows")
            await pilot.pause()
            assert reflows == [], "the same height needs no layout"
            assert "The second one grows" in app.screen._compositor.render_strips()[2].text
            markdown.set_tail("First paragraph.\n\nThe second one grows onto a line of its own")
            await pilot.pause()
            assert reflows, "a taller tail is laid out"
        lines = [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]
        assert lines[:4] == [
            "First paragraph.",
            "",
            "The second one grows onto a line of its",
            "own",
        ]

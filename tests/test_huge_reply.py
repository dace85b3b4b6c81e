"""A reply too long to lay out as Markdown (a runaway model, a hostile server) goes on as
plain text, drawn only where it is seen: the app keeps up and nothing of it is lost."""

from __future__ import annotations

import pytest
from textual._spatial_map import SpatialMap
from textual.geometry import Offset, Region

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import replies, screen_text, send_and_settle, wait_until
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.textual_workarounds import index_tall_regions_once
from tui.ui.widgets import reply_body
from tui.ui.widgets.plain_lines import PlainLines, cut, rows_of

HEAD = "\n\n".join(f"**Point {index}** in bold" for index in range(150))
TAIL = "".join(f"plain line {index} keeps its **stars**\n" for index in range(200))


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is 500 KB; laying that out in a test would take seconds."""
    monkeypatch.setattr(reply_body, "MARKDOWN_LIMIT", len(HEAD) - 100)


async def test_past_the_limit_a_reply_streams_on_as_plain_text(
    server: OpenAIStyleServer, settings: Settings, small_limit: None
) -> None:
    text = f"{HEAD}\n\n{TAIL}"
    server.queue(StreamReply(deltas=[text[i : i + 700] for i in range(0, len(text), 700)]))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        reply = replies(pilot)[-1]
        assert reply.message.content == text
        # The end as it came (once drawn: on a loaded machine the last frame can come
        # after the reply has ended, and this looked once, at once: seen failing once).
        await wait_until(pilot, lambda: "plain line 199 keeps its **stars**" in screen_text(pilot))
        plain_view = reply.body.query_one(PlainLines)
        plain = plain_view.text
        assert "**Point 149** in bold" in plain and "**Point 1** in bold" not in plain
        rows = sum(rows_of(line, plain_view.size.width) for line in plain.split("\n"))
        assert plain_view.virtual_size.height == rows, "lines split across deltas count once"
        notice = reply.body.query_one(".plain-notice").render()
        assert "the rest is shown as plain text" in str(notice)
    store = Store.open(settings.db_path)
    stored = store.load_conversation(store.latest_conversation_id() or 0)
    store.close()
    assert stored is not None and stored.messages[-1].content == text


async def test_a_stored_reply_past_the_limit_opens_the_same_way(
    server: OpenAIStyleServer, settings: Settings, small_limit: None
) -> None:
    text = f"{HEAD}\n\n{TAIL}"
    server.queue(StreamReply(deltas=[text]))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go")
    store = Store.open(settings.db_path)
    stored_id = store.latest_conversation_id()
    store.close()
    async with ChatApp(settings, resume_id=stored_id).run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        reply = replies(pilot)[-1]
        assert reply.message.content == text
        assert reply.body.query_one(PlainLines).text.endswith(
            "plain line 199 keeps its **stars**\n"
        )
        assert "plain line 199 keeps its **stars**" in screen_text(pilot)


async def test_long_lines_of_plain_text_wrap_at_the_width(
    server: OpenAIStyleServer, settings: Settings, small_limit: None
) -> None:
    long_line = "".join(f"{index:04d}" for index in range(100))  # 400 characters
    wide = "日本語" * 40  # 240 cells
    server.queue(StreamReply(deltas=[f"{HEAD}\n\n{long_line}\n{wide}\nthe end\n"]))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        shown = screen_text(pilot)
        assert "0099" in shown and "the end" in shown
        assert all(len(line) <= 100 for line in shown.splitlines())
        plain = replies(pilot)[-1].body.query_one(PlainLines)
        width = plain.size.width
        lines = plain.text.split("\n")
        assert lines[-4:] == [long_line, wide, "the end", ""]
        assert plain.virtual_size.height == sum(rows_of(line, width) for line in lines)
        assert rows_of(long_line, width) == 5 and rows_of(wide, width) == 3


def test_cutting_never_splits_a_wide_character() -> None:
    assert cut("日本語", 4) == ["日本", "語"]
    assert rows_of("日本語", 4) == 2
    assert cut("abcdefg", 3) == ["abc", "def", "g"]
    assert cut("", 3) == [""] and rows_of("", 3) == 1


def test_a_tall_region_is_still_found_by_every_query_that_overlaps_it() -> None:
    """The tall region is kept out of the grid: queries must answer as before."""
    index_tall_regions_once()
    spatial = SpatialMap[str]()
    spatial.insert(
        [
            (Region(0, 0, 80, 600_000), Offset(), False, False, "tall"),
            (Region(0, 600_000, 80, 3), Offset(), False, False, "below"),
        ]
    )
    assert spatial.total_region == Region(0, 0, 80, 600_003)
    assert "tall" in spatial.get_values_in_region(Region(0, 300_000, 80, 40))
    near_the_end = spatial.get_values_in_region(Region(0, 599_990, 80, 40))
    assert {"tall", "below"} <= set(near_the_end)
    assert len(spatial._map) < 10, "the tall region took no grid squares"


def test_a_line_past_the_edge_with_wide_characters_is_counted_as_it_is_cut() -> None:
    """Found in review: counting cells said 99 rows where cutting (which never splits a
    wide character) gave 100, and the end of the line was never drawn."""
    line = "日" * 4000
    assert rows_of(line, 81) == len(cut(line, 81)) == 100


async def test_endless_lines_are_cut_at_twice_the_limit_however_they_arrive(
    server: OpenAIStyleServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reply_body, "MARKDOWN_LIMIT", 1000)
    no_breaks = "x" * 1100
    then = "y" * 900 + "\n" + "z" * 2000
    server.queue(StreamReply(deltas=[no_breaks, then], delay=0.3))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        body = replies(pilot)[-1].body
        plain = body.query_one(PlainLines).text
        assert body.rendered_text == no_breaks + then
        assert plain == then[-len(plain) :] and len(no_breaks + then) - len(plain) <= 2000

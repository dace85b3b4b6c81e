"""Finding conversations again: the list (open, rename, delete) and search."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.history_helpers import appended_by_another_process, stored_conversation
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    last_reply_settled,
    replies,
    screen_text,
    send_and_settle,
    type_and_send,
    wait_until,
)
from tui.config import Settings
from tui.store import Store
from tui.ui import kept_frame, search_screen
from tui.ui.app import ChatApp
from tui.ui.conversations_screen import ConversationsScreen
from tui.ui.search_screen import SearchScreen


async def two_conversations(pilot) -> None:
    await send_and_settle(pilot, "Tell me about penguins")
    await pilot.press("ctrl+n")
    await wait_until(pilot, lambda: not replies(pilot))
    await type_and_send(pilot, "Tell me about volcanoes")
    await wait_until(pilot, lambda: bool(replies(pilot)) and last_reply_settled(pilot))


async def test_conversation_list_opens_renames_and_deletes_with_confirmation(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Penguins swim."]), StreamReply(deltas=["Lava flows."]))
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        await two_conversations(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConversationsScreen)
        text = screen_text(pilot)
        assert text.index("volcanoes") < text.index("penguins"), "newest first"
        await pilot.press("down", "enter")  # open the older one
        await wait_until(pilot, lambda: "Penguins swim." in screen_text(pilot))
        assert "Lava flows." not in screen_text(pilot)
        assert chat_screen(pilot).conversation.title == "Tell me about penguins"

        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press("r")  # the title to edit, all of it selected: typing replaces it
        rename = pilot.app.screen.query_one("#rename-input", Input)
        assert rename.value == "Tell me about volcanoes"
        await pilot.press(*"Birds", "enter")
        await pilot.pause()
        assert "Birds" in screen_text(pilot) and "volcanoes" not in screen_text(pilot)

        rows = settings.db_path.parent / kept_frame.FILE_NAME
        rows.write_bytes(b"the rows a launch paints, maybe of this conversation")
        await pilot.press("d")
        await pilot.pause()
        assert "Press d again" in screen_text(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert not rows.exists()  # (they may show its text)
        await pilot.press("escape")
        await pilot.pause()
        assert "Penguins swim." in screen_text(pilot), "the open conversation stays open"
    # The rename and the delete both hit the highlighted row: the newest, "volcanoes".
    store = Store.open(settings.db_path)
    assert [item.title for item in store.list_conversations()] == ["Tell me about penguins"]


async def test_search_finds_a_message_and_opens_its_conversation(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["Emperor penguins huddle for warmth."]),
        StreamReply(deltas=["Basalt is common."]),
    )
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        await two_conversations(pilot)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SearchScreen)
        await pilot.press(*"huddle")
        await pilot.pause()
        assert "huddle for warmth" in screen_text(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Emperor penguins huddle" in screen_text(pilot))
        assert chat_screen(pilot).conversation.title == "Tell me about penguins"
        await type_and_send(pilot, "More?")
        await wait_until(pilot, lambda: len(replies(pilot)) == 2 and last_reply_settled(pilot))
    assert [m["content"] for m in server.requests[-1]["messages"]][:2] == [
        "Tell me about penguins",
        "Emperor penguins huddle for warmth.",
    ]


async def test_a_search_that_finds_nothing_says_so(settings: Settings) -> None:
    """An empty list looked the same as a search still running, or a broken one."""
    store = Store.open(settings.db_path)
    stored_conversation(store, ["Emperor penguins huddle for warmth."])
    store.close()
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+f", *"hudzle")
        await wait_until(pilot, lambda: "Nothing matches hudzle." in screen_text(pilot))
        await pilot.press("down", "s")  # no hits to go down to: the box keeps the keys
        await wait_until(pilot, lambda: "Nothing matches hudzles." in screen_text(pilot))
        await pilot.press("backspace")
        await pilot.press(*["backspace"] * 4, *"ddle")
        await wait_until(pilot, lambda: "huddle for warmth" in screen_text(pilot))
        assert "Nothing matches" not in screen_text(pilot)
        for _ in "huddle":
            await pilot.press("backspace")
        await pilot.pause()
        assert "Nothing matches" not in screen_text(pilot), "an empty box searches nothing"


async def test_the_hit_enter_would_open_is_read_ahead_and_opens_as_it_is_now(
    settings: Settings,
) -> None:
    """Read while the hits show (a quarter second for 20,000 messages); but written to
    by another window meanwhile, it opens as it is now."""
    store = Store.open(settings.db_path)
    penguins = stored_conversation(store, ["Emperor penguins huddle for warmth."])
    store.close()
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        session = chat_screen(pilot).session
        await pilot.press("ctrl+f", *"huddle")
        await wait_until(pilot, lambda: session.prefetch.held == penguins)
        appended_by_another_process(settings.db_path, penguins, "Added in another window.")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Added in another window." in screen_text(pilot))
        assert session.prefetch.held is None, "taken, or let go: never kept beside it"

        await pilot.press("ctrl+n", "ctrl+f", *"huddle")
        await wait_until(pilot, lambda: session.prefetch.held == penguins)
        await pilot.press("escape")
        await pilot.pause()
        assert session.prefetch.held is None, "nothing read ahead once the search closes"


async def test_a_conversation_that_leads_the_hits_twice_is_read_ahead_at_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the user types, not once the typing stops: a quick Enter found nothing read
    and waited for the whole read (20,000 messages: 0.35 s to the hit on screen). A
    conversation that leads only once waits for the typing to stop (here, never)."""
    monkeypatch.setattr(search_screen, "READ_AHEAD_AFTER", 30.0)
    store = Store.open(settings.db_path)
    bears = stored_conversation(store, ["Bears hibernate."])
    bees = stored_conversation(store, ["Bees buzz."])  # newer: first among equals
    store.close()
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        session = chat_screen(pilot).session
        await pilot.press("ctrl+f", "b")
        await wait_until(pilot, lambda: "Bees buzz" in screen_text(pilot))
        await pilot.press("e")  # bees still first
        await wait_until(pilot, lambda: session.prefetch.held == bees)
        await pilot.press("a")  # bears alone: first for the first time
        await wait_until(pilot, lambda: "Bees buzz" not in screen_text(pilot))
        assert session.prefetch.held == bees and session.prefetch.reading is None
        await pilot.press("r")
        await wait_until(pilot, lambda: session.prefetch.held == bears)


async def test_a_key_handled_after_the_search_closed_reads_nothing_ahead(
    settings: Settings,
) -> None:
    """Found in review: a key already on its way when Escape (or Enter) closed the search
    searched again and read its first hit ahead, for nobody."""
    store = Store.open(settings.db_path)
    bees = stored_conversation(store, ["Bees buzz."])
    store.close()
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        session = chat_screen(pilot).session
        await pilot.press("ctrl+f", "b", "e")
        await wait_until(pilot, lambda: session.prefetch.held == bees)
        search = pilot.app.screen
        assert isinstance(search, SearchScreen)
        box = search.query_one(Input)
        await pilot.press("escape")
        await pilot.pause()
        search._search(Input.Changed(box, "bee"))  # the key on its way
        await pilot.pause()
        assert session.prefetch.held is None and session.prefetch.reading is None


async def test_down_from_the_search_box_selects_the_first_hit_for_enter(
    settings: Settings,
) -> None:
    """Found using it: Down moved focus to the hits with none highlighted, and Enter then
    did nothing."""
    store = Store.open(settings.db_path)
    stored_conversation(store, ["Emperor penguins huddle for warmth."])
    stored_conversation(store, ["Penguins again, later."])
    store.close()
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+f", *"penguins")
        await wait_until(pilot, lambda: "Penguins again" in screen_text(pilot))
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: "Emperor penguins huddle" in screen_text(pilot))
        assert not isinstance(pilot.app.screen, SearchScreen)

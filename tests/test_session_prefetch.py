"""A conversation read ahead (the search hit Enter would open) is used only while nothing
was written to the history since it was read; otherwise it is read again. Real store
files, no UI: milliseconds each."""

from __future__ import annotations

from pathlib import Path

from tui.chat.conversation import Conversation
from tui.config import Settings
from tui.session import ChatSession
from tui.session_prefetch import Prefetch
from tui.store import Store


def stored_conversation(store: Store, texts: list[str]) -> int:
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    for text in texts:
        store.save_message(conversation, conversation.add_user_message(text))
    assert conversation.id is not None
    return conversation.id


def appended_by_another_process(path: Path, conversation_id: int, text: str) -> None:
    """Another tui-chat, with a connection of its own, adds a message."""
    other = Store.open(path)
    conversation = other.load_conversation(conversation_id)
    assert conversation is not None
    other.save_message(conversation, conversation.add_user_message(text))
    other.close()


async def test_a_conversation_read_ahead_is_the_one_stored(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "h.sqlite3")
    wanted = stored_conversation(store, ["one", "two"])
    stored_conversation(store, ["elsewhere"])
    prefetch = Prefetch()
    prefetch.want(store, wanted)
    read = await prefetch.take(store, wanted)
    assert read is not None and [m.content for m in read.messages] == ["one", "two"]
    assert await prefetch.take(store, wanted) is None, "taken once: never two copies"


async def test_a_conversation_read_ahead_is_read_again_after_any_write(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = Store.open(path)
    wanted = stored_conversation(store, ["one"])
    prefetch = Prefetch()
    prefetch.want(store, wanted)
    await prefetch.settled()
    appended_by_another_process(path, wanted, "from elsewhere")
    assert await prefetch.take(store, wanted) is None

    prefetch.want(store, wanted)
    await prefetch.settled()
    stored_conversation(store, ["a write by this store, to another conversation"])
    assert await prefetch.take(store, wanted) is None

    prefetch.want(store, wanted)
    assert await prefetch.take(store, stored_conversation(store, ["another"])) is None


async def test_a_hit_read_ahead_then_changed_elsewhere_opens_as_it_is_now(
    settings: Settings,
) -> None:
    store = Store.open(settings.db_path)
    wanted = stored_conversation(store, ["first question"])
    session = ChatSession(settings, store)
    try:
        session.read_ahead(wanted)
        await session.prefetch.settled()
        appended_by_another_process(settings.db_path, wanted, "added by another window")
        assert await session.open(wanted)
        texts = [m.content for m in session.conversation.messages]
        assert texts == ["first question", "added by another window"]
    finally:
        await session.close()

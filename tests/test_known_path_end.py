"""A conversation's path end is written with every change tui-chat makes to its tree, so
a launch reads the end of a long path without walking it from the top; anything else
that changes the tree makes it forgotten (the path is walked, as before), and an end that
is not the tree's never shows as its end."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.test_path_end import long_branched_conversation, whole
from tests.test_store_tree import shape, written_by_another_tool
from tui.chat.conversation import Conversation
from tui.chat.message import Message
from tui.chat.session_events import ConversationOpened, RestOfConversationRead, SessionEvent
from tui.config import Settings
from tui.session import ChatSession, SendOutcome
from tui.store import Store
from tui.store_path_parts import PATH_END_MESSAGES


def known_end(path: Path, conversation_id: int) -> tuple[int | None, int | None]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        row = db.execute(
            "SELECT path_end_id, path_length FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
    return row[0], row[1]


def the_end_of(conversation: Conversation) -> tuple[int | None, int]:
    return conversation.messages[-1].id, len(conversation.messages)


def shown_first(store: Store, conversation_id: int) -> tuple[list[int | None], int]:
    """The ids a launch shows first, and how many messages come before them."""
    end = store.read_path_end(conversation_id)
    assert end is not None
    return [m.id for m in end.conversation.messages], end.earlier


def with_a_version_not_chosen(
    path: Path,
) -> tuple[Store, Conversation, Conversation, Message, Message]:
    """A long conversation in a new history at `path`: its store, the conversation, its
    tree as read back, and the prompt near the end whose reply was regenerated (its
    first version chosen again) with the version not chosen."""
    store = Store.open(path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    tree = whole(store, conversation.id)
    regenerated = [m for m in tree.messages if tree.position(m) == (1, 2)][-1]  # a reply
    parent = tree.parent_of(regenerated)
    assert parent is not None
    other = next(child for child in parent.children if child is not regenerated)
    return store, conversation, tree, parent, other


def test_the_end_read_from_where_it_was_written_is_the_walked_end(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    store = Store.open(path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    tree = whole(store, conversation.id)
    assert known_end(path, conversation.id) == the_end_of(tree)
    from_the_end = shown_first(store, conversation.id)
    written_by_another_tool(
        path, ("UPDATE conversations SET path_end_id = NULL WHERE id = ?", (conversation.id,))
    )
    walked = shown_first(store, conversation.id)
    assert from_the_end == walked
    assert walked[1] == len(tree.messages) - PATH_END_MESSAGES > 0
    assert walked[0] == [m.id for m in tree.messages[walked[1] :]]


async def test_every_change_a_session_makes_leaves_the_end_written(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Sending, regenerating, switching versions, editing and deleting: after each, the
    end written is the end of the path the whole tree has."""
    store = Store.open(settings.db_path)
    session = ChatSession(settings, store)

    def written_is_the_trees() -> bool:
        assert session.conversation.id is not None
        tree = whole(Store.open(settings.db_path), session.conversation.id)
        return known_end(settings.db_path, session.conversation.id) == the_end_of(tree)

    try:
        for turn in range(3):
            server.queue(StreamReply(deltas=[f"Answer {turn}."]))
            assert await session.send(f"Question {turn}") is SendOutcome.SENT
            await session.wait_for_reply()
            assert written_is_the_trees()
        reply = session.conversation.messages[-1]
        server.queue(StreamReply(deltas=["Another answer."]))
        assert await session.retry(reply)
        await session.wait_for_reply()
        assert written_is_the_trees()
        assert await session.switch(session.conversation.messages[-1], -1) is not None
        assert written_is_the_trees()
        server.queue(StreamReply(deltas=["Edited answer."]))
        assert await session.edit_and_resend(session.conversation.messages[2], "Edited?")
        await session.wait_for_reply()
        assert written_is_the_trees()
        assert await session.delete(session.conversation.messages[-1])
        assert written_is_the_trees()
    finally:
        await session.close()


def test_a_change_made_by_anything_else_forgets_the_end(tmp_path: Path) -> None:
    """An older version or another tool choosing another version, or adding a message
    under the end: the end written is forgotten, and the path walked is the tree's."""
    path = tmp_path / "history.sqlite3"
    store, conversation, _, parent, other = with_a_version_not_chosen(path)
    written_by_another_tool(
        path, ("UPDATE messages SET chosen_child_id = ? WHERE id = ?", (other.id, parent.id))
    )
    assert known_end(path, conversation.id)[0] is None
    read_at = store.change_stamp()
    changed = whole(store, conversation.id)
    assert changed.messages[-1].content == "Another answer."
    ids, earlier = shown_first(store, conversation.id)
    assert ids == [m.id for m in changed.messages[earlier:]]
    store.remember_path_end(changed, read_at)  # (as the read of the rest does)
    assert known_end(path, conversation.id) == the_end_of(changed)
    written_by_another_tool(
        path,
        (
            "INSERT INTO messages (conversation_id, parent_id, role, status, created_at)"
            " VALUES (?, ?, 'user', 'done', 0)",
            (conversation.id, changed.messages[-1].id),
        ),
    )
    assert known_end(path, conversation.id)[0] is None
    ids, earlier = shown_first(store, conversation.id)
    assert ids[-2] == changed.messages[-1].id and earlier == len(changed.messages) + 1 - len(ids)


def test_an_end_that_is_not_the_trees_is_not_shown_as_its_end(tmp_path: Path) -> None:
    """Written wrong (a version no longer chosen, or a message in the middle): what is
    shown first is still the end of the path the tree has."""
    path = tmp_path / "history.sqlite3"
    store, conversation, tree, _, abandoned = with_a_version_not_chosen(path)
    middle = tree.messages[len(tree.messages) // 2]
    for wrong in (abandoned, middle):
        written_by_another_tool(
            path,
            (
                "UPDATE conversations SET path_end_id = ?, path_length = ? WHERE id = ?",
                (wrong.id, len(tree.messages), conversation.id),
            ),
        )
        ids, _ = shown_first(store, conversation.id)
        assert ids[-1] == tree.messages[-1].id


async def test_an_end_never_written_is_written_once_the_rest_is_read(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """A history from before this version (or last changed by another tool): the first
    launch walks the path, and writes its end for the next."""
    store = Store.open(settings.db_path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    written_by_another_tool(
        settings.db_path,
        ("UPDATE conversations SET path_end_id = NULL WHERE id = ?", (conversation.id,)),
    )
    end = store.read_path_end(conversation.id)
    assert end is not None and end.earlier
    session = ChatSession(
        settings, store, conversation=end.conversation, unread_earlier=end.earlier
    )
    events: list[SessionEvent] = []
    session.subscribe(events.append)
    try:
        session.read_the_rest()
        await session.read_whole()
    finally:
        await session.close()
    assert [type(event) for event in events] == [RestOfConversationRead]
    assert not any(isinstance(event, ConversationOpened) for event in events)
    tree = whole(Store.open(settings.db_path), conversation.id)
    assert known_end(settings.db_path, conversation.id) == the_end_of(tree)
    assert shape(session.conversation) == shape(tree)


def test_a_launch_takes_the_end_written_without_walking(tmp_path: Path) -> None:
    """The count before the part shown comes from the length written with the end: a
    length written wrong on purpose shows that the path was not walked."""
    path = tmp_path / "history.sqlite3"
    store = Store.open(path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    end_id, length = known_end(path, conversation.id)
    assert end_id is not None and length is not None
    written_by_another_tool(
        path,
        (
            "UPDATE conversations SET path_length = ? WHERE id = ?",
            (length + 1000, conversation.id),
        ),
    )
    ids, earlier = shown_first(store, conversation.id)
    assert ids[-1] == end_id and earlier == length + 1000 - PATH_END_MESSAGES


def test_an_end_read_before_a_change_is_not_written_after_it(tmp_path: Path) -> None:
    """The read of the rest began before another process changed the tree, or another
    process wrote the end meanwhile: what the read found is not written over it. And a
    message deleted leaves the end forgotten until its parent's choice is written."""
    path = tmp_path / "history.sqlite3"
    store, conversation, _, parent, other = with_a_version_not_chosen(path)
    assert conversation.id is not None
    read_at = store.change_stamp()
    before = whole(store, conversation.id)
    written_by_another_tool(
        path, ("UPDATE messages SET chosen_child_id = ? WHERE id = ?", (other.id, parent.id))
    )
    store.remember_path_end(before, read_at)
    assert known_end(path, conversation.id)[0] is None
    written_by_another_tool(
        path,
        (
            "UPDATE conversations SET path_end_id = 1, path_length = 1 WHERE id = ?",
            (conversation.id,),
        ),
    )
    store.remember_path_end(before, store.change_stamp())
    assert known_end(path, conversation.id) == (1, 1)
    fresh = whole(store, conversation.id)
    last = fresh.messages[-1]
    assert last.id is not None
    store.save_choice(fresh, fresh.messages[0])  # (the end written again, right)
    store.delete_message(fresh, last.id, [])
    assert known_end(path, conversation.id)[0] is None

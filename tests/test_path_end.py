"""A resumed conversation is read from the end of its path first (what the first frame
shows), and the rest after: the end must be exactly the whole tree's end, with every
version's label, and the whole read later must hold the very same messages."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.test_store_tree import (
    branched_conversation,
    finished,
    new_history,
    shape,
    written_by_another_tool,
)
from tui.chat.conversation import Conversation
from tui.chat.message import MessageStatus
from tui.chat.parts import ToolCallPart
from tui.chat.session_events import (
    ConversationOpened,
    MessageAdded,
    RestOfConversationRead,
    SessionEvent,
)
from tui.config import Settings
from tui.session import ChatSession, SendOutcome
from tui.store import Store
from tui.store_path_parts import AROUND_MESSAGES, PATH_END_MESSAGES, PathPart
from tui.store_tree import run_to_the_end


def long_branched_conversation(store: Store, turns: int) -> Conversation:
    """`turns` prompts and replies after `branched_conversation`'s tree, the third-last
    reply regenerated (its first version chosen again), the last prompt edited, and the
    last reply left streaming by a process that died while a tool ran."""
    conversation = branched_conversation(store)
    save = lambda message: store.save_message(conversation, message)  # noqa: E731
    for turn in range(turns):
        prompt = conversation.add_user_message(f"Question {turn}")
        save(prompt)
        save(finished(conversation.start_reply("m"), f"Answer {turn}."))
        if turn == turns - 3:
            save(finished(conversation.start_reply("m", parent=prompt), "Another answer."))
            conversation.switch(conversation.messages[-1], -1)
            store.save_choice(conversation, prompt)
    last_prompt = conversation.messages[-2]
    edited = conversation.add_user_message("Question, edited", parent=last_prompt.parent)
    save(edited)
    dying = conversation.start_reply("m")
    dying.add_text("Calling.")
    dying.parts.append(ToolCallPart("call-7", "lookup", "{}"))
    save(dying)
    return conversation


def whole(store: Store, conversation_id: int) -> Conversation:
    read = store.load_conversation(conversation_id)
    assert read is not None
    return read


def test_the_end_of_a_long_path_is_the_whole_trees_end_with_its_versions(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    expected = whole(store, conversation.id)
    end = store.read_path_end(conversation.id)
    assert end is not None
    path = end.conversation.messages
    assert len(path) == PATH_END_MESSAGES
    assert end.earlier == len(expected.messages) - PATH_END_MESSAGES > 0
    expected_end = expected.messages[end.earlier :]
    assert [m.id for m in path] == [m.id for m in expected_end]
    assert [m.content for m in path][-2:] == ["Question, edited", "Calling."]
    assert path[-1].status is MessageStatus.INTERRUPTED  # (its call answered as interrupted)
    assert [p.kind for p in path[-1].parts] == ["text", "tool_call", "tool_result"]
    # Each message's place among its versions, as the labels on screen show it.
    assert [end.conversation.position(m) for m in path] == [
        expected.position(m) for m in expected_end
    ]
    assert (2, 2) in [end.conversation.position(m) for m in path]  # the edited prompt
    assert (1, 2) in [end.conversation.position(m) for m in path]  # the regenerated reply
    assert (end.conversation.title, end.conversation.model) == (
        expected.title,
        expected.model,
    )


def test_the_rest_read_after_holds_the_same_messages_in_the_whole_tree(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    end = store.read_path_end(conversation.id)
    assert end is not None
    shown = list(end.conversation.messages)
    read = run_to_the_end(store.read_elsewhere(conversation.id, known=end.conversation))
    assert read is not None
    assert shape(read) == shape(whole(store, conversation.id))
    assert all(a is b for a, b in zip(read.messages[end.earlier :], shown, strict=True))


def test_a_short_path_is_read_whole(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = long_branched_conversation(store, turns=3)
    assert conversation.id is not None
    end = store.read_path_end(conversation.id)
    assert end is not None and end.earlier == 0
    assert shape(end.conversation) == shape(whole(store, conversation.id))
    assert store.read_path_end(conversation.id + 1) is None  # no such conversation


def test_choices_the_tree_does_not_hold_are_chosen_as_a_whole_read_chooses(
    tmp_path: Path,
) -> None:
    """A stored choice of a message not among the children (written by another tool, or
    left by a delete) gives way to the newest child, at the top and below."""
    path, store, conversation = new_history(tmp_path)
    for turn in range(PATH_END_MESSAGES):
        store.save_message(conversation, conversation.add_user_message(f"Question {turn}"))
        store.save_message(conversation, finished(conversation.start_reply("m"), f"Answer {turn}"))
    first, late = conversation.messages[0], conversation.messages[-5]  # a reply
    assert late.parent is not None
    prompt_id = late.parent.id
    other = finished(conversation.start_reply("m", parent=late.parent), "Late other")
    store.save_message(conversation, other)
    written_by_another_tool(
        path,
        ("UPDATE messages SET chosen_child_id = ? WHERE id = ?", (first.id, prompt_id)),
        ("UPDATE conversations SET chosen_root_id = ? WHERE id = ?", (late.id, conversation.id)),
    )
    assert conversation.id is not None
    expected = whole(Store.open(path), conversation.id)
    assert expected.messages[-1].content == "Late other"
    end = store.read_path_end(conversation.id)
    assert end is not None
    assert [m.id for m in end.conversation.messages] == [
        m.id for m in expected.messages[end.earlier :]
    ]
    assert end.earlier == len(expected.messages) - PATH_END_MESSAGES


@pytest.mark.parametrize("index", [1, 30, 63])
def test_the_path_around_a_message_is_the_whole_paths_stretch_with_its_versions(
    tmp_path: Path, index: int
) -> None:
    """Near the top (the first prompt has a sibling: its edit), in the middle, at the end."""
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    expected = whole(store, conversation.id)
    target = expected.messages[index]
    assert target.id is not None
    around = store.read_path_around(conversation.id, target.id)
    assert around is not None
    path = around.conversation.messages
    stretch = expected.messages[around.earlier : around.earlier + len(path)]
    assert [m.id for m in path] == [m.id for m in stretch]
    assert target.id in [m.id for m in path]
    assert around.earlier == max(0, index - AROUND_MESSAGES)
    assert around.later is (index + AROUND_MESSAGES < len(expected.messages) - 1)
    assert [around.conversation.position(m) for m in path] == [
        expected.position(m) for m in stretch
    ]
    assert [m.content for m in path] == [m.content for m in stretch]


def test_a_message_off_the_path_shown_last_is_read_whole(tmp_path: Path) -> None:
    """A hit in a version not chosen (or in another conversation): the path must change
    to show it, which only the whole tree can say."""
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    expected = whole(store, conversation.id)
    off = [m for m in expected.all_messages() if m not in expected.messages]
    assert off and all(m.id is not None for m in off)
    for message in off:
        assert store.read_path_around(conversation.id, message.id or 0) is None
    on = expected.messages[5].id or 0
    assert store.read_path_around(conversation.id + 1, on) is None


async def resumed_and_sent(
    server: OpenAIStyleServer,
    settings: Settings,
    store: Store,
    end: PathPart,
    prompt: str,
    answer: str,
) -> tuple[ChatSession, list[SessionEvent]]:
    """A session resumed from `end`, as the app starts one, and `prompt` sent at once,
    before the read of the rest has had a single turn; with what it told."""
    session = ChatSession(
        settings, store, conversation=end.conversation, unread_earlier=end.earlier
    )
    events: list[SessionEvent] = []
    session.subscribe(events.append)
    session.read_the_rest()
    server.queue(StreamReply(deltas=[answer]))
    try:
        assert await session.send(prompt) is SendOutcome.SENT
        await session.wait_for_reply()
    finally:
        await session.close()
    return session, events


async def test_a_prompt_sent_while_the_rest_is_read_carries_the_whole_history(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Sent at once, before the read of the rest has had a single turn: the prompt waits
    for it, goes out with every earlier message, and is stored after the last."""
    store = Store.open(settings.db_path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    before = whole(store, conversation.id)
    history = len(before.messages)
    end = store.read_path_end(conversation.id)
    assert end is not None and end.earlier
    session, events = await resumed_and_sent(server, settings, store, end, "Next?", "Fine.")
    sent = server.requests[-1]["messages"]
    assert sent[:-1] == before.request_messages()  # all of it, not its end
    assert sent[1]["content"] == "What is a tree?" and sent[-1]["content"] == "Next?"
    read = [event for event in events if isinstance(event, RestOfConversationRead)]
    assert read == [RestOfConversationRead(session.conversation, end.earlier)]
    assert events.index(read[0]) < next(
        i for i, event in enumerate(events) if isinstance(event, MessageAdded)
    )
    stored = whole(Store.open(settings.db_path), conversation.id).messages
    assert [m.content for m in stored[-3:]] == ["Calling.", "Next?", "Fine."]
    assert len(stored) == history + 2


async def test_a_rest_that_cannot_be_read_says_so_and_opens_a_new_conversation(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """A row far back that this version cannot read (written by another tool): the end
    was shown, the rest fails; the user is told why and a new conversation opens. A prompt
    (or an edit) typed for the old one before that is not sent into the new one, where the
    model would answer it without what came before: it is given back. One typed after goes
    out in the new conversation, and the stored one is left as it was."""
    store = Store.open(settings.db_path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    count = len(list(whole(store, conversation.id).all_messages()))
    end = store.read_path_end(conversation.id)
    assert end is not None
    written_by_another_tool(
        settings.db_path,
        ("UPDATE messages SET status = 'hologram' WHERE id = ?", (conversation.messages[2].id,)),
    )
    session = ChatSession(
        settings, store, conversation=end.conversation, unread_earlier=end.earlier
    )
    events: list[SessionEvent] = []
    session.subscribe(events.append)
    shown_prompt = end.conversation.messages[-2]
    server.queue(StreamReply(deltas=["Fresh."]))
    try:
        typed_before = asyncio.create_task(session.send("Next?"))
        edited_before = asyncio.create_task(session.edit_and_resend(shown_prompt, "Edited?"))
        await asyncio.sleep(0.05)  # both wait for the rest, as keys pressed at launch do
        session.read_the_rest()
        assert await typed_before is SendOutcome.REPLACED
        assert await edited_before is SendOutcome.REPLACED
        assert session.conversation.messages == [] and not server.requests
        assert await session.send("A new start") is SendOutcome.SENT
        await session.wait_for_reply()
    finally:
        await session.close()
    (failed,) = [event for event in events if isinstance(event, RestOfConversationRead)]
    assert failed.error is not None and "hologram" in failed.error
    assert failed.conversation is session.conversation
    assert [m.content for m in session.conversation.messages] == ["A new start", "Fresh."]
    assert server.requests[-1]["messages"][-1]["content"] == "A new start"
    assert len(server.requests) == 1 and len(server.requests[-1]["messages"]) == 1
    with contextlib.closing(sqlite3.connect(settings.db_path)) as db:
        stored = db.execute(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation.id,)
        ).fetchone()[0]
    assert stored == count


async def test_a_hit_far_back_opens_around_it_and_the_rest_follows(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Opened at a message in the middle: first the path around it, then the whole tree
    with those same messages; a prompt sent at once, queued behind the open before the
    open knew it would show a part, waits for the rest and carries it all."""
    store = Store.open(settings.db_path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    before = whole(store, conversation.id)
    hit = before.messages[31]
    session = ChatSession(settings, store)
    events: list[SessionEvent] = []
    session.subscribe(events.append)
    server.queue(StreamReply(deltas=["Slow"] * 5, delay=0.1))  # (the open waits on it)
    server.queue(StreamReply(deltas=["Fine."]))
    try:
        assert await session.send("Another conversation's prompt") is SendOutcome.SENT
        opening = asyncio.create_task(session.open(conversation.id, hit.id))
        await asyncio.sleep(0)  # the open holds the lock, stopping that reply
        sending = asyncio.create_task(session.send("Next?"))  # (queued behind the open)
        assert await opening
        (opened,) = [e for e in events if isinstance(e, ConversationOpened) and e.earlier]
        assert opened.focus is not None and opened.focus.id == hit.id
        assert opened.earlier == 31 - AROUND_MESSAGES and opened.later
        shown = list(opened.conversation.messages)
        assert await sending is SendOutcome.SENT
        await session.wait_for_reply()
    finally:
        await session.close()
    (read,) = [event for event in events if isinstance(event, RestOfConversationRead)]
    assert read.earlier == opened.earlier and read.error is None
    path = read.conversation.messages
    assert all(a is b for a, b in zip(path[read.earlier :], shown, strict=False))
    assert server.requests[-1]["messages"][:-1] == before.request_messages()


def opening_a_long_history(
    settings: Settings,
) -> tuple[ChatSession, Conversation, list[SessionEvent]]:
    """A session on a fresh conversation beside a long stored one (read whole here, as
    expected), and the events it tells."""
    store = Store.open(settings.db_path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    session = ChatSession(settings, store)
    events: list[SessionEvent] = []
    session.subscribe(events.append)
    return session, whole(store, conversation.id), events


def test_a_hit_in_a_short_conversation_reads_every_branch(tmp_path: Path) -> None:
    """Found in review: a short path around a hit (nothing before, nothing after) was
    taken for the whole tree, without the replies under the other versions."""
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = long_branched_conversation(store, turns=3)
    assert conversation.id is not None
    expected = whole(store, conversation.id)
    around = store.read_path_around(conversation.id, expected.messages[3].id or 0)
    assert around is not None and around.whole
    assert shape(around.conversation) == shape(expected)


def test_odd_trees_written_by_other_tools_end_and_keep_to_their_conversation(
    tmp_path: Path,
) -> None:
    """A message of another conversation under this one's last, and parents written in a
    cycle: the part is this conversation's own, and the walk up ends."""
    path, store, conversation = new_history(tmp_path)
    for turn in range(PATH_END_MESSAGES + 10):
        store.save_message(conversation, conversation.add_user_message(f"Question {turn}"))
    other = Conversation(model="m")
    store.save_conversation(other, None)
    store.save_message(other, other.add_user_message("Elsewhere"))
    stranger = other.messages[0]
    assert conversation.id is not None
    for under in (conversation.messages[-1], conversation.messages[25]):
        written_by_another_tool(
            path, ("UPDATE messages SET parent_id = ? WHERE id = ?", (under.id, stranger.id))
        )
        end = store.read_path_end(conversation.id)
        around = store.read_path_around(conversation.id, conversation.messages[24].id or 0)
        assert end is not None and around is not None
        for part in (end.conversation, around.conversation):
            assert "Elsewhere" not in [m.content for m in part.all_messages()]
        assert end.conversation.messages[-1].content == f"Question {PATH_END_MESSAGES + 9}"
    a, b = conversation.messages[3], conversation.messages[4]
    written_by_another_tool(path, ("UPDATE messages SET parent_id = ? WHERE id = ?", (b.id, a.id)))
    assert store.read_path_around(conversation.id, b.id or 0) is None  # (read whole)


async def test_a_hit_near_the_top_is_a_part_until_the_rest_below_is_read(
    settings: Settings,
) -> None:
    """Nothing before it unread, but the messages after the part are: what needs all of
    the conversation (an export, a copy of the last reply) must wait all the same."""
    session, expected, events = opening_a_long_history(settings)
    conversation = expected
    assert conversation.id is not None
    try:
        assert await session.open(conversation.id, expected.messages[5].id)
        (opened,) = [event for event in events if isinstance(event, ConversationOpened)]
        assert opened.earlier == 0 and opened.later
        assert not session.is_whole
        assert session.conversation.messages[-1].id != expected.messages[-1].id
        await session.read_whole()
        assert session.is_whole
        assert shape(session.conversation) == shape(expected)
    finally:
        await session.close()


async def test_a_session_holding_a_part_takes_no_command_before_the_rest(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Made with a part (as the app makes it at launch), the session is closed from the
    start: a prompt sent before `read_the_rest` is called waits for it."""
    store = Store.open(settings.db_path)
    conversation = long_branched_conversation(store, turns=30)
    assert conversation.id is not None
    before = whole(store, conversation.id)
    end = store.read_path_end(conversation.id)
    assert end is not None
    session = ChatSession(
        settings, store, conversation=end.conversation, unread_earlier=end.earlier
    )
    server.queue(StreamReply(deltas=["Fine."]))
    try:
        sending = asyncio.create_task(session.send("Next?"))
        await asyncio.sleep(0.05)
        assert not sending.done() and not server.requests, "it waits for the rest"
        session.read_the_rest()
        assert await sending is SendOutcome.SENT
        await session.wait_for_reply()
    finally:
        await session.close()
    assert server.requests[-1]["messages"][:-1] == before.request_messages()


async def test_messages_after_the_part_deleted_meanwhile_show_the_whole_afresh(
    settings: Settings,
) -> None:
    """Another process deletes what came after the part before the rest is read: the
    whole now ends where the part did, and is shown afresh (the log's window would
    otherwise wait for later messages that never come)."""
    session, expected, events = opening_a_long_history(settings)
    conversation = expected
    assert conversation.id is not None
    try:
        assert await session.open(conversation.id, expected.messages[30].id)
        last_shown = session.conversation.messages[-1]
        written_by_another_tool(  # (with the foreign keys off, as another tool may write)
            settings.db_path,
            (
                "DELETE FROM messages WHERE conversation_id = ? AND id > ?",
                (conversation.id, last_shown.id),
            ),
            ("UPDATE messages SET chosen_child_id = NULL WHERE id = ?", (last_shown.id,)),
        )
        await session.read_whole()
    finally:
        await session.close()
    assert not [event for event in events if isinstance(event, RestOfConversationRead)]
    reopened = [event for event in events if isinstance(event, ConversationOpened)][-1]
    assert reopened.conversation is session.conversation and not reopened.earlier
    assert session.conversation.messages[-1].id == last_shown.id

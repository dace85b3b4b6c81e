"""A stored conversation reads back as the tree it was: every branch, every choice, every
part of every kind, in order (the store's reader is tuned for speed; this is what it must
keep)."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tui import store_tree
from tui.chat.conversation import Conversation
from tui.chat.images import image_part
from tui.chat.message import Message, MessageStatus, Usage
from tui.chat.parts import Part, ToolCallPart, ToolOutcome, ToolResultPart, part_of_kind
from tui.store import Store
from tui.store_tree import conversation_in_steps, read_conversation

from .image_helpers import png


def shape(conversation: Conversation) -> list[Any]:
    """What a user could ever see of a conversation: each message in tree order with its
    place, its parts and how it was made, and the path shown."""
    messages = [
        (
            message.id,
            message.parent.id if message.parent is not None else None,
            [child.id for child in message.children],
            message.chosen.id if message.chosen is not None else None,
            message.role,
            message.status,
            message.error,
            message.finish_reason,
            message.model,
            message.usage,
            message.time_to_first_token,
            message.duration,
            message.created_at,
            [(part.kind, part.text, getattr(part, "data", None)) for part in message.parts],
        )
        for message in conversation.all_messages()
    ]
    top = conversation.root.chosen.id if conversation.root.chosen is not None else None
    header = (conversation.title, conversation.model, conversation.system_prompt, top)
    return [header, [m.id for m in conversation.messages], messages]


def finished(reply: Message, text: str, *, usage: Usage | None = None) -> Message:
    reply.add_text(text)
    reply.status = MessageStatus.DONE
    reply.finish_reason = "stop"
    reply.usage = usage
    reply.time_to_first_token = 0.25
    reply.duration = 1.5
    return reply


def new_history(tmp_path: Path) -> tuple[Path, Store, Conversation]:
    """A history file, and an empty conversation stored in it."""
    path = tmp_path / "history.sqlite3"
    store = Store.open(path)
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    return path, store, conversation


def written_by_another_tool(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Rows this app would not write, written straight to the file."""
    with contextlib.closing(sqlite3.connect(path)) as other, other:
        for sql, parameters in statements:
            other.execute(sql, parameters)


def read_back(store: Store, conversation: Conversation) -> Conversation:
    assert conversation.id is not None
    read = store.load_conversation(conversation.id)
    assert read is not None
    return read


def branched_conversation(store: Store) -> Conversation:
    """Two first prompts (an edit at the top), regenerated replies with an earlier
    version chosen again, reasoning, a tool round, an image, a failed reply and one
    saved in pieces as it streamed."""
    conversation = Conversation(model="m", system_prompt="Be brief.")
    store.save_conversation(conversation, "http://127.0.0.1:1/v1")
    save = lambda message: store.save_message(conversation, message)  # noqa: E731
    first = conversation.add_user_message("What is a tree?")
    save(first)
    assert conversation.id is not None
    store.save_details(conversation.id, title=conversation.title)
    reply = conversation.start_reply("m")
    reply.add_reasoning("Think of roots.")
    save(reply)
    save(finished(reply, "A graph without cycles.", usage=Usage(12, 7)))
    again = conversation.start_reply("m2", parent=first)
    save(finished(again, "A plant."))
    conversation.switch(again, -1)  # the first version chosen again
    store.save_choice(conversation, first)
    prompt = conversation.add_user_message("Look it up, and see this.", parent=reply)
    prompt.parts.append(image_part("tree.png", png(3, 2)))
    save(prompt)
    tools = conversation.start_reply("m")
    tools.add_text("Looking.")
    tools.parts.append(ToolCallPart("call-1", "search", '{"q": "tree"}'))
    tools.parts.append(ToolResultPart("call-1", ToolOutcome.RAN, "Trees are graphs."))
    save(finished(tools, "Found it."))
    failed = conversation.start_reply("m", parent=prompt)
    failed.status = MessageStatus.ERROR
    failed.error = "The server is down."
    save(failed)
    conversation.switch(failed, -1)
    store.save_choice(conversation, prompt)
    edited = conversation.add_user_message("What is a forest?", parent=conversation.root)
    save(edited)
    streamed = conversation.start_reply("m", parent=edited)
    for piece in ("Many ", "trees ", "together."):
        streamed.add_text(piece)
        save(streamed)
    save(finished(streamed, ""))
    conversation.switch(edited, -1)  # the first branch shown again
    store.save_choice(conversation, conversation.root)
    return conversation


def test_a_conversation_reads_back_as_the_tree_it_was(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = branched_conversation(store)
    assert conversation.id is not None
    read = store.load_conversation(conversation.id)
    assert read is not None
    assert shape(read) == shape(conversation)
    assert [m.content for m in read.messages][-2:] == [
        "Look it up, and see this.",
        "Looking.\n\nFound it.",
    ]


def test_a_reply_left_streaming_reads_back_whole_and_interrupted(tmp_path: Path) -> None:
    """A process killed mid-reply left its pieces and an unanswered call: the reply comes
    back joined, marked interrupted, and the call answered as interrupted."""
    path, store, conversation = new_history(tmp_path)
    store.save_message(conversation, conversation.add_user_message("Go."))
    reply = conversation.start_reply("m")
    for piece in ("One, ", "two, ", "three."):
        reply.add_text(piece)
        store.save_message(conversation, reply)
    reply.parts.append(ToolCallPart("call-9", "count", "{}"))
    store.save_message(conversation, reply)
    last = read_back(Store.open(path), conversation).messages[-1]  # as the next process
    assert last.status is MessageStatus.INTERRUPTED
    assert last.content == "One, two, three."
    assert [(p.kind, getattr(p, "outcome", None)) for p in last.parts] == [
        ("text", None),
        ("tool_call", None),
        ("tool_result", ToolOutcome.INTERRUPTED),
    ]


def test_parts_a_newer_release_wrote_are_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    path, store, conversation = new_history(tmp_path)
    prompt = conversation.add_user_message("Hello")
    store.save_message(conversation, prompt)
    empty = conversation.start_reply("m")
    empty.status = MessageStatus.STOPPED
    store.save_message(conversation, empty)  # a reply stopped before its first token
    insert = "INSERT INTO message_parts (message_id, position, kind, text) VALUES (?, ?, ?, ?)"
    written_by_another_tool(
        path,
        (insert, (prompt.id, 1, "hologram", "{}")),
        (insert, (prompt.id, 2, "tool_call", "not json")),
    )
    read = read_back(store, conversation)
    assert [(m.content, [p.kind for p in m.parts]) for m in read.messages] == [
        ("Hello", ["text"]),
        ("", []),
    ]
    assert read.messages[-1].status is MessageStatus.STOPPED


def test_a_choice_of_a_message_not_among_the_children_falls_back_to_the_newest(
    tmp_path: Path,
) -> None:
    path, store, conversation = new_history(tmp_path)
    prompt = conversation.add_user_message("Hello")
    store.save_message(conversation, prompt)
    for text in ("one", "two"):
        store.save_message(
            conversation, finished(conversation.start_reply("m", parent=prompt), text)
        )
    written_by_another_tool(  # a choice pointing at the prompt itself, not one of its replies
        path, ("UPDATE messages SET chosen_child_id = ? WHERE id = ?", (prompt.id, prompt.id))
    )
    assert [m.content for m in read_back(store, conversation).messages] == ["Hello", "two"]


@pytest.mark.parametrize("collecting", [True, False])
def test_reading_leaves_the_collector_as_it_found_it(
    tmp_path: Path, collecting: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader holds collection off while it builds (everything it makes lives on),
    and gives it back as it was, when a read fails too."""
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = branched_conversation(store)
    assert conversation.id is not None
    was = gc.isenabled()
    try:
        gc.enable() if collecting else gc.disable()
        seen_while_building: list[bool] = []

        def noting_collection(kind: str, text: str) -> Part | None:
            seen_while_building.append(gc.isenabled())
            return part_of_kind(kind, text)

        monkeypatch.setattr(store_tree, "part_of_kind", noting_collection)
        assert store.load_conversation(conversation.id) is not None
        assert seen_while_building and not any(seen_while_building), "paused while it built"
        assert gc.isenabled() is collecting
        broken = sqlite3.connect(":memory:")  # a conversation, but no messages table
        broken.execute(
            "CREATE TABLE conversations (id, title, model, system_prompt, created_at,"
            " chosen_root_id, tool_choices)"
        )
        broken.execute("INSERT INTO conversations (id, title) VALUES (?, 'x')", (conversation.id,))
        with pytest.raises(sqlite3.OperationalError, match="messages"):
            read_conversation(broken, conversation.id)
        assert gc.isenabled() is collecting
    finally:
        gc.enable() if was else gc.disable()


def test_a_read_in_steps_reads_what_a_read_at_once_reads_and_can_end_midway(
    tmp_path: Path,
) -> None:
    """A read ahead runs a step at a time between the event loop's turns; one no longer
    wanted (another hit, Escape, quitting) is ended midway and leaves no snapshot open."""
    store = Store.open(tmp_path / "history.sqlite3")
    conversation = branched_conversation(store)
    assert conversation.id is not None
    steps = conversation_in_steps(store._db, conversation.id, rows_per_step=2)
    count = 0
    while True:
        try:
            next(steps)
            count += 1
        except StopIteration as end:
            read = end.value
            break
    assert read is not None and shape(read) == shape(conversation)
    (rows,) = store._db.execute(
        "SELECT COUNT(*) FROM messages m LEFT JOIN message_parts p ON p.message_id = m.id"
        " WHERE m.conversation_id = ?",
        (conversation.id,),
    ).fetchone()
    (images,) = store._db.execute(
        "SELECT COUNT(*) FROM message_parts p JOIN messages m ON m.id = p.message_id"
        " WHERE m.conversation_id = ? AND p.kind = 'image'",
        (conversation.id,),
    ).fetchone()
    assert images == 1
    assert count == (rows + 1) // 2 + images + 1, "two rows a step, an image a step, the tree"

    path = tmp_path / "history.sqlite3"
    reading = store.read_elsewhere(conversation.id)
    next(reading)  # its snapshot taken, its first step read
    store.save_message(conversation, conversation.add_user_message("after the read began"))
    assert checkpoint_held_back(path), "the read holds a snapshot"
    reading.close()
    assert not checkpoint_held_back(path), "ended midway, it holds nothing"


def checkpoint_held_back(path: Path) -> bool:
    """Whether a reader's snapshot keeps the write-ahead log from being emptied."""
    with contextlib.closing(sqlite3.connect(path, timeout=0)) as connection:
        return bool(connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])


def test_a_message_whose_parent_is_newer_goes_under_it_all_the_same(tmp_path: Path) -> None:
    """Not written by this app, but read as it is: a parent with a larger id than its
    child (an import, another tool), and a choice that no longer points at a child."""
    path, store, conversation = new_history(tmp_path)
    first = conversation.add_user_message("first")
    store.save_message(conversation, first)
    moved = conversation.start_reply("m")
    store.save_message(conversation, finished(moved, "moved under a newer one"))
    newer = conversation.start_reply("m", parent=first)
    store.save_message(conversation, finished(newer, "newer"))
    written_by_another_tool(
        path,
        ("UPDATE messages SET parent_id = ? WHERE id = ?", (newer.id, moved.id)),
        ("UPDATE messages SET chosen_child_id = ? WHERE id = ?", (moved.id, first.id)),
    )
    assert [m.content for m in read_back(store, conversation).messages] == [
        "first",
        "newer",
        "moved under a newer one",
    ]

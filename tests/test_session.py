"""The session's rules, without the UI: each test reads like the rule it checks.

They run against the real test server and a real store file, and take milliseconds each.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.openai_server import OpenAIStyleServer, StreamReply
from tui.chat.events import ContentDelta
from tui.chat.message import Message, MessageStatus
from tui.chat.session_events import (
    ConversationOpened,
    PathChanged,
    QueueChanged,
    ReplyEnded,
    ReplyProgress,
    SessionEvent,
)
from tui.config import Settings
from tui.reply_round import SAVE_CHARS
from tui.session import ChatSession, SendOutcome
from tui.store import Store


class Recorder:
    def __init__(self) -> None:
        self.events: list[SessionEvent] = []

    def __call__(self, event: SessionEvent) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [event for event in self.events if isinstance(event, kind)]


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[ChatSession]:
    running = ChatSession(settings, Store.open(settings.db_path))
    yield running
    await running.close()


def reopened(settings: Settings, session: ChatSession):  # type: ignore[no-untyped-def]
    """The conversation as a restart would find it."""
    conversation = Store.open(settings.db_path).load_conversation(session.conversation.id or 0)
    assert conversation is not None
    return conversation


def contents(messages: list[Message]) -> list[str]:
    return [message.content for message in messages]


async def exchange(session: ChatSession, prompt: str) -> None:
    assert await session.send(prompt) is SendOutcome.SENT
    await session.wait_for_reply()


async def test_a_prompt_is_answered_and_both_are_stored(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["Hi", " there."]))
    await exchange(session, "Hello")
    assert contents(session.conversation.messages) == ["Hello", "Hi there."]
    assert session.conversation.messages[-1].status is MessageStatus.DONE
    assert contents(reopened(settings, session).messages) == ["Hello", "Hi there."]


async def test_a_second_prompt_while_a_reply_streams_waits_for_it(
    server: OpenAIStyleServer, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["a", "b", "c"], delay=0.05), StreamReply(deltas=["Two."]))
    recorder = Recorder()
    session.subscribe(recorder)
    assert await session.send("One") is SendOutcome.SENT
    assert await session.send("Two") is SendOutcome.QUEUED
    assert await session.send("Three") is SendOutcome.BUSY, "one prompt waits, no more"
    assert [e.prompt for e in recorder.of(QueueChanged)] == ["Two"]
    await session.wait_for_reply()
    assert contents(session.conversation.messages) == ["One", "abc", "Two", "Two."]
    assert server.most_open_streams == 1
    assert server.requests[1]["messages"][-1] == {"role": "user", "content": "Two"}


async def test_cancel_stops_the_reply_keeps_its_text_and_hands_back_the_waiting_prompt(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=[f"w{i} " for i in range(200)], delay=0.01))
    await session.send("Long one")
    await session.send("Queued one")
    while "w3" not in (session.streaming_reply or Message).content:  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        session._persist(session.streaming_reply)  # type: ignore[arg-type]
    assert await session.cancel() == "Queued one"
    reply = session.conversation.messages[-1]
    assert reply.status is MessageStatus.STOPPED and reply.content.startswith("w0 w1 w2")
    assert session.queued is None and not session.is_streaming
    stored = reopened(settings, session).messages[-1]
    assert stored.status is MessageStatus.STOPPED and stored.content == reply.content
    assert server.wait_for(lambda: server.open_streams == 0)


async def test_retry_adds_a_sibling_reply_and_the_old_one_stays_a_version(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["Old."]), StreamReply(deltas=["New."]))
    await exchange(session, "Question")
    assert await session.retry()
    await session.wait_for_reply()
    conversation = session.conversation
    reply = conversation.messages[-1]
    assert contents(conversation.messages) == ["Question", "New."]
    assert conversation.position(reply) == (2, 2)
    assert server.requests[1]["messages"] == [{"role": "user", "content": "Question"}]
    stored = reopened(settings, session)
    assert contents(stored.messages) == ["Question", "New."]
    assert contents(stored.siblings(stored.messages[-1])) == ["Old.", "New."]


async def test_an_observer_that_fails_mid_reply_closes_the_request_at_once(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    """The stream is closed on every way out of a reply, an observer's error among them
    (pipe mode's closed stdout was one): left to the garbage collector, the request
    stayed open until a collection, and its close then failed with a traceback."""
    server.queue(StreamReply(deltas=[f"w{i} " for i in range(300)], delay=0.01))

    def failing(event: SessionEvent) -> None:
        if isinstance(event, ReplyProgress) and isinstance(event.event, ContentDelta):
            raise RuntimeError("an observer's bug")

    session.subscribe(failing)
    gc.disable()  # (as the app runs while a reply streams: no collection to close it)
    try:
        await session.send("Go")
        await session.wait_for_reply()
        assert server.wait_for(lambda: server.open_streams == 0, timeout=2)
    finally:
        gc.enable()
    assert session.conversation.messages[-1].status is MessageStatus.STOPPED


async def test_retry_is_offered_once_there_is_a_prompt_to_answer_again(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["Answer."]))
    assert not session.can_retry and not await session.retry()
    await exchange(session, "Question")
    assert session.can_retry
    await session.new()
    assert not session.can_retry


async def test_retry_while_streaming_stops_that_reply_first_so_one_streams(
    server: OpenAIStyleServer, session: ChatSession
) -> None:
    server.queue(*[StreamReply(deltas=[f"w{i} " for i in range(100)], delay=0.02)] * 4)
    await session.send("Go")
    await asyncio.gather(session.retry(), session.retry(), session.retry())
    streaming = [
        m for m in session.conversation.all_messages() if m.status is MessageStatus.STREAMING
    ]
    assert len(streaming) == 1
    await session.cancel()
    replies = session.conversation.siblings(session.conversation.messages[-1])
    assert len(replies) == 1, "replies stopped before a word arrived are replaced, not kept"


async def test_editing_an_earlier_prompt_branches_in_place_and_switching_goes_back(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(
        StreamReply(deltas=["A1."]),
        StreamReply(deltas=["A1 again."]),
        StreamReply(deltas=["A2."]),
        StreamReply(deltas=["Edited."]),
    )
    await exchange(session, "Q1")
    await session.retry()
    await session.wait_for_reply()
    await exchange(session, "Q2")
    first = session.conversation.messages[0]
    await session.edit_and_resend(first, "Q1 edited")
    await session.wait_for_reply()
    conversation = session.conversation
    assert contents(conversation.messages) == ["Q1 edited", "Edited."]
    assert conversation.position(conversation.messages[0]) == (2, 2)
    assert server.requests[-1]["messages"] == [{"role": "user", "content": "Q1 edited"}]
    shown = await session.switch(None, -1)
    assert shown is first
    assert contents(conversation.messages) == ["Q1", "A1 again.", "Q2", "A2."]
    stored = reopened(settings, session)
    assert contents(stored.messages) == ["Q1", "A1 again.", "Q2", "A2."], "the choice is stored"
    every = contents(list(stored.all_messages()))
    assert sorted(every) == sorted(["Q1", "A1.", "A1 again.", "Q2", "A2.", "Q1 edited", "Edited."])


async def test_deleting_a_prompt_in_the_middle_keeps_what_followed_it(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(
        StreamReply(deltas=["One."]), StreamReply(deltas=["Two."]), StreamReply(deltas=["R2."])
    )
    await exchange(session, "P1")
    await session.retry()
    await session.wait_for_reply()
    await exchange(session, "P2")
    recorder = Recorder()
    session.subscribe(recorder)
    assert await session.delete(session.conversation.messages[2])
    assert contents(session.conversation.messages) == ["P1", "Two.", "R2."]
    assert recorder.of(PathChanged)[0].index == 2
    assert contents(reopened(settings, session).messages) == ["P1", "Two.", "R2."]


async def test_nothing_is_deleted_while_a_reply_streams(
    server: OpenAIStyleServer, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["x"] * 50, delay=0.02))
    await session.send("P")
    assert not await session.delete(session.conversation.messages[0])
    assert await session.switch(None, -1) is None
    await session.cancel()


async def test_rename_from_the_list_and_a_later_detail_change_both_last(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    await exchange(session, "Penguins")
    await session.rename("Birds", session.conversation.id)
    await session.set_system_prompt("Be brief.")
    await session.set_model("other-model")
    stored = reopened(settings, session)
    assert (stored.title, stored.system_prompt, stored.model) == (
        "Birds",
        "Be brief.",
        "other-model",
    )


async def test_open_a_search_hit_on_another_branch_shows_that_branch(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["Walrus facts."]), StreamReply(deltas=["Seal facts."]))
    await exchange(session, "Animals")
    await session.retry()
    await session.wait_for_reply()
    conversation_id = session.conversation.id or 0
    hit = Store.open(settings.db_path).search("walrus")[0]
    await session.new()
    recorder = Recorder()
    session.subscribe(recorder)
    assert await session.open(conversation_id, hit.message_id)
    assert contents(session.conversation.messages) == ["Animals", "Walrus facts."]
    assert recorder.of(ConversationOpened)[0].focus is session.conversation.messages[-1]


async def test_a_failed_reply_ends_with_its_error_and_is_kept(
    server: OpenAIStyleServer, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["partial", " text", " more"], error_event_after=2))
    recorder = Recorder()
    session.subscribe(recorder)
    await exchange(session, "Q")
    ended = recorder.of(ReplyEnded)[0]
    assert ended.reply.status is MessageStatus.ERROR and ended.error is not None
    assert ended.reply.content == "partial text"


def test_a_schema_v2_file_from_the_last_release_keeps_every_message(tmp_path: Path) -> None:
    source = Path(__file__).parent / "fixtures" / "history-v2.sqlite3"
    path = tmp_path / "history.sqlite3"
    path.write_bytes(source.read_bytes())
    store = Store.open(path)
    monads = store.load_conversation(1)
    assert monads is not None and monads.title == "Monads"
    assert contents(monads.messages) == [
        "What is a monad?",
        "A way to chain computations.",
        "Show one in Python",
        "```python\nfrom returns.maybe import Maybe\n```",
    ]
    versions = monads.siblings(monads.messages[1])
    assert contents(versions) == [
        "A monoid in the category of endofunctors.",
        "A way to chain computations.",
    ]
    assert monads.messages[1].reasoning == "The user wants something simple."
    story = store.load_conversation(2)
    assert story is not None
    assert [m.status for m in story.messages] == [
        MessageStatus.DONE,
        MessageStatus.INTERRUPTED,
        MessageStatus.DONE,
        MessageStatus.ERROR,
    ]
    numbers = store.load_conversation(3)
    assert numbers is not None
    assert contents(numbers.messages) == ["Pick a number", "Three."], "the version shown then"
    assert contents(numbers.siblings(numbers.messages[1])) == ["Seven.", "Three.", "Forty-two."]
    assert sum(s.message_count for s in store.list_conversations()) == 13
    assert [hit.message_id for hit in store.search("chain")] == [3]


async def test_renaming_another_conversation_while_saving_fails_keeps_its_other_details(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["One."]), StreamReply(deltas=["Two."]))
    await session.set_system_prompt("Be brief.")
    await exchange(session, "First conversation")
    first_id = session.conversation.id or 0
    await session.new()
    await exchange(session, "Second conversation")
    store = session.store
    assert store is not None
    store._db.execute("PRAGMA query_only = ON")  # every write fails from now on
    await session.rename("Renamed", first_id)
    assert session.saver.unsaved
    store._db.execute("PRAGMA query_only = OFF")
    assert await session.saver.flush()
    first = Store.open(settings.db_path).load_conversation(first_id)
    assert first is not None
    assert (first.title, first.system_prompt, first.model) == ("Renamed", "Be brief.", "test-model")
    assert contents(first.messages) == ["First conversation", "One."]


async def test_deleting_the_open_conversation_mid_reply_leaves_nothing_unsaved(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=[f"w{i} " for i in range(100)], delay=0.02))
    await session.send("Doomed")
    await asyncio.sleep(0.2)
    await session.delete_conversation(session.conversation.id or 0)
    await asyncio.sleep(0.1)
    assert not session.saver.unsaved
    assert Store.open(settings.db_path).list_conversations() == []


async def test_opening_the_open_conversation_mid_reply_keeps_one_copy(
    server: OpenAIStyleServer, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=[f"w{i} " for i in range(100)], delay=0.02))
    await session.send("Keep me")
    await asyncio.sleep(0.2)
    before = session.conversation
    assert await session.open(before.id or 0)
    assert session.conversation is before, "the same object, not a stale copy from the file"
    assert before.messages[-1].status is MessageStatus.STOPPED


async def test_commands_on_a_deleted_message_do_nothing(
    server: OpenAIStyleServer, session: ChatSession
) -> None:
    server.queue(StreamReply(deltas=["Answer."]))
    await exchange(session, "Question")
    prompt = session.conversation.messages[0]
    assert await session.delete(prompt)
    assert not await session.delete(prompt), "a second delete of it is a no-op"
    assert await session.switch(prompt, 1) is None
    assert not await session.retry(prompt)
    assert contents(session.conversation.messages) == ["Answer."]


async def test_a_fast_stream_reaches_observers_in_a_few_large_pieces(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    """What has arrived is read at once: a server that sends thousands of one-token
    chunks as fast as it can costs a trip through the session and the screen per read,
    not per chunk (8,000 tokens at full speed showed 0.3-0.45 s after the server's last
    chunk, nearly all of it spent passing single tokens along)."""
    words = [f"w{index} " for index in range(3000)]
    server.queue(StreamReply(deltas=words))
    recorder = Recorder()
    session.subscribe(recorder)

    def drawing(event: SessionEvent) -> None:
        """An observer that takes a moment per event, as a screen does: the chunks that
        arrive meanwhile must come as one piece. (Without it, how many reads the chunks
        took depended on how the server's thread and this loop shared the interpreter:
        100-600 seen, 1,500 on a host running at half speed.)"""
        if isinstance(event, ReplyProgress):
            time.sleep(0.002)

    session.subscribe(drawing)
    await exchange(session, "Go")
    assert session.conversation.messages[-1].content == "".join(words)
    pieces = [e for e in recorder.of(ReplyProgress) if isinstance(e.event, ContentDelta)]
    assert sum(len(piece.event.text) for piece in pieces) == len("".join(words))
    # One per chunk before the reading ahead.
    assert len(pieces) < 1000, f"{len(pieces)} pieces for 3,000 chunks"
    assert contents(reopened(settings, session).messages)[-1] == "".join(words)


async def test_a_reply_that_pours_in_is_stored_a_megabyte_at_a_time(
    server: OpenAIStyleServer, settings: Settings, session: ChatSession
) -> None:
    """A crash loses at most half a second of a reply, and at most `SAVE_CHARS` of it: a
    server pouring 30 MB/s put 15 MB in one save, and indexing it for search held the
    event loop 150-170 ms (the 50 MB reply benchmark's worst stall)."""
    piece = "".join(f"line {index} of a reply that pours in\n" for index in range(1600))
    server.queue(StreamReply(deltas=[piece] * 100))  # 5.8 MB, sent as fast as it can
    store = sqlite3.connect(settings.db_path)
    received = 0
    largest_piece = 0
    most_unsaved = 0

    def watch(event: SessionEvent) -> None:
        nonlocal received, largest_piece, most_unsaved
        if isinstance(event, ReplyProgress) and isinstance(event.event, ContentDelta):
            received += len(event.event.text)
            largest_piece = max(largest_piece, len(event.event.text))
            (stored,) = store.execute(
                "SELECT coalesce(sum(length(text)), 0) FROM message_parts WHERE message_id = ?",
                (event.reply.id,),
            ).fetchone()
            most_unsaved = max(most_unsaved, received - stored)

    session.subscribe(watch)
    await exchange(session, "Go")
    store.close()
    assert received == len(piece) * 100
    assert most_unsaved <= SAVE_CHARS + largest_piece, (
        f"{most_unsaved:,} characters were not stored at once"
    )
    assert contents(reopened(settings, session).messages)[-1] == piece * 100

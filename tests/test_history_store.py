"""Conversations are stored as they happen and survive cancels, errors and crashes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_KEY
from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    last_reply_settled,
    replies,
    screen_text,
    send_and_settle,
    send_and_wait_for_text,
    type_and_send,
    wait_until,
)
from tui.chat import Conversation
from tui.chat.message import MessageStatus, Role
from tui.chat.parts import ToolCallPart, ToolOutcome, ToolResultPart
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.widgets.conversation_log import RESUMED_MESSAGES_SHOWN
from tui.ui.widgets.log_sliding import MOST_MOUNTED_MESSAGES
from tui.ui.widgets.message_views import UserMessageView


def stored_messages(path: Path) -> list[tuple[str, str, str]]:
    """(role, text, status) of every stored message, in the order they were written."""
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT m.role, COALESCE(group_concat(p.text, ''), ''), m.status FROM messages m"
            " LEFT JOIN (SELECT * FROM message_parts WHERE kind = 'text' ORDER BY id) p"
            " ON p.message_id = m.id GROUP BY m.id ORDER BY m.id"
        ).fetchall()


async def test_full_exchange_cancel_and_error_are_stored(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["Fine", " thanks."]),
        StreamReply(deltas=[f"w{i} " for i in range(100)], delay=0.05),
        ErrorReply(503, '{"error": {"message": "busy"}}'),
    )
    async with ChatApp(settings).run_test() as pilot:
        await send_and_settle(pilot, "How are you?")
        await send_and_wait_for_text(pilot, "Tell me more", "w2")
        await pilot.press("escape")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await type_and_send(pilot, "Again")
        await wait_until(pilot, lambda: len(replies(pilot)) == 3 and last_reply_settled(pilot))
        partial = replies(pilot)[1].message.content
    rows = stored_messages(settings.db_path)
    assert rows[0] == ("user", "How are you?", "done")
    assert rows[1] == ("assistant", "Fine thanks.", "done")
    assert rows[2] == ("user", "Tell me more", "done")
    assert rows[3][0] == "assistant" and rows[3][2] == "stopped"
    assert rows[3][1] == partial and partial.startswith("w0 w1 w2")
    assert rows[4] == ("user", "Again", "done")
    assert rows[5][0] == "assistant" and rows[5][2] == "error"


def test_database_file_is_private_and_never_holds_the_key(tmp_path: Path) -> None:
    path = tmp_path / "data" / "history.sqlite3"
    Store.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_corrupt_database_is_set_aside_not_deleted(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = Store.open(path)
    assert store.notice and "was damaged; it was kept as" in store.notice
    kept = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"this is not a database")
    assert store.list_conversations() == []


async def test_continue_reopens_the_last_conversation(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test() as pilot:
        await send_and_settle(pilot, "Remember the word banana")
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Remember the word banana" in screen_text(pilot)
        await type_and_send(pilot, "Which word?")
        await wait_until(pilot, lambda: len(replies(pilot)) == 2 and last_reply_settled(pilot))
    assert [m["content"] for m in server.requests[1]["messages"]] == [
        "Remember the word banana",
        "Hello from the server.",
        "Which word?",
    ]


def test_killed_mid_stream_then_continue_shows_partial_reply_as_interrupted(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """A real process is SIGKILLed mid-reply; the next start finds the text saved so far."""
    db = tmp_path / "history.sqlite3"
    server.queue(StreamReply(deltas=[f"tok{i} " for i in range(400)], delay=0.02))
    script = (
        "import asyncio, sys\n"
        "from tui.config import Settings\n"
        "from tui.ui.app import ChatApp\n"
        "async def main():\n"
        f"    s = Settings(model='m', base_url={server.base_url!r}, api_key={TEST_KEY!r},"
        f" db_path=__import__('pathlib').Path({str(db)!r}))\n"
        "    async with ChatApp(s, initial_prompt='stream forever').run_test() as pilot:\n"
        "        await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(sqlite3.OperationalError):  # schema not made yet
                rows = stored_messages(db) if db.exists() else []
                if len(rows) == 2 and rows[1][1].count("tok") >= 20:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the reply was never flushed to the database")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    store = Store.open(db)
    conversation = store.load_conversation(store.latest_conversation_id() or 0)
    assert conversation is not None
    reply = conversation.messages[-1]
    assert reply.role is Role.ASSISTANT
    assert reply.status is MessageStatus.INTERRUPTED
    assert reply.content.startswith("tok0 tok1 tok2")
    assert TEST_KEY.encode() not in db.read_bytes()


async def test_quitting_mid_stream_saves_the_partial_reply_as_stopped(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=[f"q{i} " for i in range(200)], delay=0.05))
    async with ChatApp(settings).run_test() as pilot:
        await send_and_wait_for_text(pilot, "Keep going", "q3")
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
    rows = stored_messages(settings.db_path)
    assert rows[-1][0] == "assistant" and rows[-1][2] == "stopped"
    assert rows[-1][1].startswith("q0 q1 q2 q3")
    assert server.wait_for(lambda: server.disconnects == 1)


async def test_list_and_export_print_stored_conversations(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Use `ls`", "\x1b[2J."]))
    async with ChatApp(settings).run_test() as pilot:
        await send_and_settle(pilot, "How do I list files?")
    db = str(settings.db_path)
    listing = cli_output("--db", db, "list")
    assert "How do I list files?" in listing and "2 msgs" in listing
    conversation_id = listing.split()[0]
    exported = json.loads(cli_output("--db", db, "export", conversation_id, "--format", "json"))
    assert [(m["role"], m["content"], m["status"]) for m in exported["messages"]] == [
        ("user", "How do I list files?", "done"),
        ("assistant", "Use `ls`\x1b[2J.", "done"),
    ]
    assert exported["messages"][1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 4}
    markdown = cli_output("--db", db, "export", conversation_id, "--format", "md")
    assert "## You\n\nHow do I list files?" in markdown
    assert "Use `ls`␛[2J." in markdown and "\x1b" not in markdown
    assert TEST_KEY not in markdown


def cli_output(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_regenerated_replies_are_kept_as_versions_to_step_between(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["First take."]),
        StreamReply(deltas=["Second take."]),
        StreamReply(deltas=["Follow-up answer."]),
    )
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Question")
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: (
                replies(pilot)[-1].message.content == "Second take." and last_reply_settled(pilot)
            ),
        )
        assert "‹ 2/2 ›" in screen_text(pilot)
        await pilot.press("alt+left")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "First take.")
        text = screen_text(pilot)
        assert "First take." in text and "Second take." not in text and "‹ 1/2 ›" in text
        await type_and_send(pilot, "And then?")
        await wait_until(pilot, lambda: len(replies(pilot)) == 2 and last_reply_settled(pilot))
    # The version shown is the one sent as history.
    assert [m["content"] for m in server.requests[2]["messages"]] == [
        "Question",
        "First take.",
        "And then?",
    ]
    rows = stored_messages(settings.db_path)
    assert [content for _, content, _ in rows] == [
        "Question",
        "First take.",
        "Second take.",
        "And then?",
        "Follow-up answer.",
    ], "no version was deleted"
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        text = screen_text(pilot)
        assert "First take." in text and "Second take." not in text


def test_a_version_1_database_is_migrated_forward(tmp_path: Path) -> None:
    from tui.store import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        for statement in MIGRATIONS[0].split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('old', 1, 1)")
        db.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at)"
            " VALUES (1, 'user', 'kept across the upgrade', 'done', 1)"
        )
    store = Store.open(path)
    conversation = store.load_conversation(1)
    assert conversation is not None
    assert conversation.messages[0].content == "kept across the upgrade"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    Store.open(db).close()
    writer = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tui.chat import Conversation\n"
        "from tui.store import Store\n"
        "store = Store.open(Path(sys.argv[1]))\n"
        "conversation = Conversation(model='m')\n"
        "store.save_conversation(conversation, None)\n"
        "for i in range(150):\n"
        "    message = conversation.add_user_message(f'{sys.argv[2]}-{i}')\n"
        "    store.save_message(conversation, message)\n"
    )
    root = Path(__file__).parent.parent
    processes = [
        subprocess.Popen([sys.executable, "-c", writer, str(db), name], cwd=root)
        for name in ("alpha", "beta")
    ]
    assert [process.wait(timeout=60) for process in processes] == [0, 0]
    contents = {content for _, content, _ in stored_messages(db)}
    assert contents == {f"{name}-{i}" for name in ("alpha", "beta") for i in range(150)}
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def store_user_turns(settings: Settings, count: int) -> None:
    """A stored conversation of `count` short prompts, "turn 0" to "turn {count - 1}"."""
    store = Store.open(settings.db_path)
    conversation = Conversation(model="m")
    for i in range(count):
        message = conversation.add_user_message(f"turn {i}")
        if i == 0:
            store.save_conversation(conversation, None)
        store.save_message(conversation, message)
    store.close()


async def test_a_long_conversation_slides_a_bounded_window_of_turns_as_the_user_scrolls(
    settings: Settings,
) -> None:
    store_user_turns(settings, 80)
    async with ChatApp(settings, continue_last=True).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = chat_screen(pilot)
        assert "turn 79" in screen_text(pilot)
        assert "earlier messages" in "".join(
            str(view.render()) for view in screen.log_view.query(".earlier")
        )
        deadline = time.monotonic() + 15  # generous: a loaded CI machine is slow
        while screen.log_view.earlier and time.monotonic() < deadline:
            screen.log_view.scroll_home(animate=False)
            await pilot.pause(0.05)
        assert screen.log_view.earlier == 0

        def texts() -> list[str]:
            return [view.message.content for view in screen.log_view.query(UserMessageView)]

        # (the turns at the bottom go a moment after the top ones come)
        top = [f"turn {i}" for i in range(MOST_MOUNTED_MESSAGES)]
        await wait_until(pilot, lambda: texts() == top)  # the top turns, in order
        assert "turn 79" not in screen_text(pilot)  # far below: unmounted, memory bounded
        deadline = time.monotonic() + 15
        while screen.log_view.end_shown is not None and time.monotonic() < deadline:
            screen.log_view.scroll_end(animate=False)
            await pilot.pause(0.05)
        end = [f"turn {i}" for i in range(80 - MOST_MOUNTED_MESSAGES, 80)]
        await wait_until(pilot, lambda: texts() == end)  # back at the end
        assert screen.log_view.is_anchored, "following new replies again"


async def test_sending_while_reading_far_back_returns_to_the_end(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    store_user_turns(settings, 80)
    async with ChatApp(settings, continue_last=True).run_test(size=(80, 24)) as pilot:
        screen = chat_screen(pilot)
        deadline = time.monotonic() + 15
        while screen.log_view.end_shown is None and time.monotonic() < deadline:
            # At once: a scroll left for after the next frame could land after the prompt
            # is sent (on a loaded machine), scrolling the rebuilt log away from its end.
            screen.log_view.scroll_home(animate=False, immediate=True)
            await pilot.pause(0.05)
        assert screen.log_view.end_shown is not None
        await send_and_settle(pilot, "a new question")
        texts = [view.message.content for view in screen.log_view.query(UserMessageView)]
        assert texts[-2:] == ["turn 79", "a new question"]
        # Once drawn: the log is rebuilt at its end over a few frames, which can come after
        # the reply has ended on a loaded machine (this looked once, at once).
        await wait_until(pilot, lambda: "Hello from the server." in screen_text(pilot))


async def test_export_from_the_command_palette_writes_a_private_file(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Export me")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Export as JSON")
        await pilot.pause(0.3)
        await pilot.press("enter")
        path = settings.db_path.parent / "exports" / "conversation-1.json"
        await wait_until(pilot, path.exists)
    exported = json.loads(path.read_text())
    assert [m["content"] for m in exported["messages"]] == ["Export me", "Hello from the server."]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TEST_KEY not in path.read_text()


def test_search_uses_fts5_prefixes_and_falls_back_to_like_without_it(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "h.sqlite3")
    conversation = Conversation(model="m")
    conversation.add_user_message("Emperor penguins huddle for warmth")
    store.save_conversation(conversation, None)
    store.save_message(conversation, conversation.messages[0])
    assert store.has_full_text_index
    assert [hit.snippet for hit in store.search("emp hudd")] == [
        "Emperor penguins huddle for warmth"
    ]
    assert store.search("walrus") == []
    # An SQLite built without FTS5 has no index: the same search runs as a LIKE scan.
    with store._db:
        for trigger in ("insert", "delete", "update"):
            store._db.execute(f"DROP TRIGGER parts_fts_{trigger}")
        store._db.execute("DROP TABLE parts_fts")
    assert not store.has_full_text_index
    assert [hit.message_id for hit in store.search("huddle for")] == [1]
    assert store.search("walrus") == []


def empty_stored_conversation(tmp_path: Path) -> tuple[Store, Conversation]:
    store = Store.open(tmp_path / "h.sqlite3")
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    return store, conversation


def test_search_lists_the_newest_matching_messages_first_up_to_its_limit(
    tmp_path: Path,
) -> None:
    store, conversation = empty_stored_conversation(tmp_path)
    for turn in range(30):
        store.save_message(conversation, conversation.add_user_message(f"Penguin fact {turn}"))
        reply = conversation.start_reply("m")
        reply.content = f"Penguins, again ({turn}). Penguins!"
        reply.status = MessageStatus.DONE
        store.save_message(conversation, reply)
    hits = store.search("pengu", limit=10)
    newest = [m.id for m in conversation.messages[-10:]][::-1]
    assert [hit.message_id for hit in hits] == newest
    assert hits[0].snippet == "Penguins, again (29). Penguins!"


def test_search_counts_a_message_once_however_many_of_its_parts_match(tmp_path: Path) -> None:
    """Found in review: a reply saved in pieces while it streamed (or left so by a crash)
    is many matching rows, as are a reply's tool calls and results; asking the index for
    a few rows per hit listed one message where there were five."""
    store, conversation = empty_stored_conversation(tmp_path)
    for turn in range(6):
        store.save_message(conversation, conversation.add_user_message(f"Penguin fact {turn}"))
    reply = conversation.start_reply("m")
    reply.parts.append(ToolCallPart("call-1", "lookup", '{"animal": "penguin"}'))
    reply.parts.append(ToolResultPart("call-1", ToolOutcome.RAN, "penguin: a bird"))
    for piece in range(30):  # still streaming: each save adds a piece
        reply.content += f"Penguins, piece {piece}. "
        store.save_message(conversation, reply)
    hits = store.search("penguin", limit=5)
    assert [hit.message_id for hit in hits] == [
        m.id for m in [reply, *conversation.messages[-2:-6:-1]]
    ]
    assert hits[0].snippet.startswith("Penguins, piece 0."), "the text, not the tool's JSON"


async def test_short_turns_on_a_tall_terminal_still_fill_the_log(settings: Settings) -> None:
    store_user_turns(settings, 60)
    async with ChatApp(settings, continue_last=True).run_test(size=(80, 90)) as pilot:
        screen = chat_screen(pilot)
        log = screen.log_view
        await wait_until(pilot, lambda: log.max_scroll_y > 0 or not log.earlier)
        assert screen.log_view.max_scroll_y > 0, (
            "the log can scroll, so earlier turns are reachable"
        )
        assert screen.log_view.earlier < 60 - 12


async def test_a_conversation_of_long_replies_opens_with_only_a_screenful_mounted(
    settings: Settings,
) -> None:
    store = Store.open(settings.db_path)
    conversation = Conversation(model="m")
    for i in range(20):
        prompt = conversation.add_user_message(f"question {i}")
        if i == 0:
            store.save_conversation(conversation, None)
        store.save_message(conversation, prompt)
        reply = conversation.start_reply("m")
        reply.content = f"answer {i}\n\n" + "\n\n".join(f"line {n} of {i}" for n in range(30))
        reply.status = MessageStatus.DONE
        store.save_message(conversation, reply)
    store.close()
    async with ChatApp(settings, continue_last=True).run_test(size=(80, 24)) as pilot:
        screen = chat_screen(pilot)
        await wait_until(pilot, lambda: "line 29 of 19" in screen_text(pilot))
        mounted = len(screen.log_view.query(".message"))
        assert 2 <= mounted < RESUMED_MESSAGES_SHOWN, "a screenful, not a dozen long replies"
        deadline = time.monotonic() + 15  # scrolling up, as a user would, until the start
        while "question 0" not in screen_text(pilot) and time.monotonic() < deadline:
            screen.log_view.scroll_home(animate=False)
            await pilot.pause(0.05)
        assert "question 0" in screen_text(pilot), "the start is still reachable"

"""A reopened conversation is on screen before Textual has loaded: the rows the last run
kept, painted at once, and exactly what Textual then draws over them."""

from __future__ import annotations

import os
import re
import stat
import termios
import time
from pathlib import Path

import pyte

from tests.conftest import TEST_KEY
from tests.history_helpers import appended_by_another_process
from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.pty_helpers import quit_and_close, read_for, read_until, start_in_terminal
from tests.test_kept_layouts import stored_replies
from tests.ui_helpers import chat_screen, screen_text, send_and_settle, wait_until
from tui.config import Settings
from tui.store import Store
from tui.store_peek import conversation_state
from tui.ui.app import ROWS_TAKEN_AFTER, ChatApp
from tui.ui.kept_frame import FILE_NAME, keep_rows, rows_as_launched
from tui.ui.painted_rows import AFTER_ROWS, ENTER, LEAVE
from tui.ui.session_follower import SETTLED_AFTER_END

SIZE = (100, 30)
TEXTUAL_STARTS = b"\x1b[?1000h"
"""Textual's driver turning mouse reports on: written once it owns the terminal."""


def terminal_env(db: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TUI_CHAT_DB": str(db),
        "OPENAI_API_KEY": TEST_KEY,
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "TERM": "xterm-256color",
    }


def shown(output: bytes) -> list[str]:
    """The screen a terminal shows after `output`."""
    screen = pyte.Screen(*SIZE)
    pyte.ByteStream(screen).feed(output)
    return [line.rstrip() for line in screen.display]


def read_until_drawn_whole(primary: int, seen: bytearray, since: int) -> None:
    """Until Textual's first frame, written after `since`, has reached the last row (a
    first frame writes every row, top to bottom), and a moment more for that row."""
    last_row = f"\x1b[{SIZE[1]};1H".encode()
    deadline = time.monotonic() + 20
    while last_row not in seen[since:]:
        assert time.monotonic() < deadline, "Textual drew no whole frame"
        read_for(primary, seen, 0.05)
    read_for(primary, seen, 0.2)


def launch_and_quit(env: dict[str, str], until: bytes) -> bytes:
    process, primary = start_in_terminal(["--continue"], env, size=SIZE)
    seen = bytearray()
    try:
        read_until(primary, until, seen)
        read_until(primary, b"Help", seen)  # the footer's keys are built after the frame
    finally:
        quit_and_close(process, primary)
    return bytes(seen)


def test_the_next_launch_paints_the_kept_rows_first_and_textual_draws_the_same(
    tmp_path: Path,
) -> None:
    """Launch, quit, launch again: the second launch's first bytes are the kept rows (the
    replies, tables and code included), on the alternate screen, which Textual does not
    enter again (that clears it in xterm), and the screen Textual then draws is the same,
    cell for cell, but for the footer's keys; typing echoes again after the app."""
    db = tmp_path / "history.sqlite3"
    stored_replies(db)
    env = terminal_env(db)
    first = launch_and_quit(env, b"End of reply 2")
    assert ENTER.encode() not in first  # nothing kept yet: nothing painted
    kept = tmp_path / FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    process, primary = start_in_terminal(["--continue"], env, size=SIZE)
    seen = bytearray()
    try:
        read_until(primary, AFTER_ROWS.encode(), seen)
        assert seen.startswith(ENTER.encode())
        painted = bytes(seen)
        assert TEXTUAL_STARTS not in painted  # before Textual's driver, not after it
        read_until(primary, TEXTUAL_STARTS, seen)
        read_until_drawn_whole(primary, seen, seen.index(TEXTUAL_STARTS))
        assert b"\x1b[?1049h" not in seen[len(painted) :]  # (entered again, it is cleared)
        early, drawn = shown(painted), shown(bytes(seen))
        assert any("End of reply 2" in line for line in early)
        assert any("Message (Enter" in line for line in early)  # the prompt too
        # The footer as Textual's first frame draws it: its keys come a moment later.
        assert early[-1] == "" and "Help" in drawn[-1]
        assert early[:-1] == drawn[:-1]
        os.write(primary, b"\x11")  # Ctrl+Q
        process.wait(timeout=20)
        assert termios.tcgetattr(primary)[3] & termios.ECHO  # as the shell had it
    finally:
        quit_and_close(process, primary)


def test_rows_after_a_reply_are_painted_when_the_window_closed_instead_of_quitting(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """A reply, then the terminal window closes (a hang-up: the app lays its screen out
    anew at a size of its own as it ends): the rows taken once the reply settled are
    those the next launch paints, with that reply on them; and Ctrl+Q pressed while it
    loads (not taken by the terminal for flow control) quits it once it is up."""
    server.queue(StreamReply(deltas=["A reply ", "from before the window closed."]))
    db = tmp_path / "history.sqlite3"
    env = {**terminal_env(db), "OPENAI_BASE_URL": server.base_url}
    process, primary = start_in_terminal(["-m", "m"], env, size=SIZE, controlling=True)
    seen = bytearray()
    try:
        read_until(primary, b"Message (Enter", seen)
        read_for(primary, seen, ROWS_TAKEN_AFTER + 0.3)  # (the rows a launch takes first)
        os.write(primary, b"A question\r")
        read_until(primary, b"window closed.", seen)
        read_for(primary, seen, SETTLED_AFTER_END + 0.5)
        os.close(primary)  # the window closes
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    process, primary = start_in_terminal(["--continue"], env, size=SIZE)
    seen = bytearray()
    try:
        read_until(primary, AFTER_ROWS.encode(), seen)
        assert seen.startswith(ENTER.encode())
        assert any("from before the window closed." in line for line in shown(bytes(seen)))
    finally:
        quit_and_close(process, primary)


def test_ctrl_c_while_the_app_loads_leaves_the_shells_screen_as_it_was(tmp_path: Path) -> None:
    """Ctrl+C after the rows are painted, before Textual has loaded: the process ends
    quietly (130, no traceback), off the alternate screen, with typing echoed again."""
    db = tmp_path / "history.sqlite3"
    stored_replies(db)
    env = terminal_env(db)
    launch_and_quit(env, b"End of reply 2")
    # (Its controlling terminal: Ctrl+C signals the terminal's foreground processes.)
    process, primary = start_in_terminal(["--continue"], env, size=SIZE, controlling=True)
    seen = bytearray()
    try:
        read_until(primary, AFTER_ROWS.encode(), seen)
        os.write(primary, b"\x03")
        assert process.wait(timeout=10) == 130
        read_for(primary, seen, 0.2)
        assert b"Traceback" not in seen
        assert seen.endswith(LEAVE.encode())
        assert termios.tcgetattr(primary)[3] & termios.ECHO
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)


def test_a_conversation_changed_since_is_not_painted(tmp_path: Path) -> None:
    """Another process adds a message after the rows were kept: they no longer show the
    conversation's end, and the launch waits for Textual to show the right one."""
    db = tmp_path / "history.sqlite3"
    stored_replies(db)
    env = terminal_env(db)
    launch_and_quit(env, b"End of reply 2")
    assert (tmp_path / FILE_NAME).exists()
    store = Store.open(db)
    latest = store.latest_conversation_id()
    store.close()
    assert latest is not None
    appended_by_another_process(db, latest, "A question asked elsewhere")
    output = launch_and_quit(env, b"A question asked elsewhere")
    assert ENTER.encode() not in output


def test_the_state_read_before_the_app_is_the_conversations_end(tmp_path: Path) -> None:
    """`--continue` reopens the latest conversation, `--resume ID` that one; a file that
    is missing, damaged or holds no such conversation reads as nothing known."""
    db = tmp_path / "history.sqlite3"
    assert conversation_state(db, None) is None
    stored_replies(db)
    latest = conversation_state(db, None)
    assert latest is not None
    conversation_id, path_end, path_length = latest[1], latest[6], latest[7]
    assert conversation_state(db, int(str(conversation_id))) == latest
    assert path_length == 4 and path_end is not None
    assert conversation_state(db, 999) is None
    (tmp_path / "damaged.sqlite3").write_bytes(b"not a database" * 100)
    assert conversation_state(tmp_path / "damaged.sqlite3", None) is None


async def test_rows_are_taken_only_from_a_screen_laid_out_as_a_launch_lays_it_out(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """The status line is emptied (a launch has nothing to say yet); a draft in the
    prompt or a dialog on top takes nothing."""
    server.queue(StreamReply(deltas=["The answer, with its end in view."]))
    app = ChatApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send_and_settle(pilot, "A question")
        await wait_until(pilot, lambda: "done" in screen_text(pilot))
        await pilot.pause(0.3)  # (the footer rebuilt, the code highlighted)
        taken = rows_as_launched(app)
        assert taken is not None
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", taken.rows)
        assert "The answer, with its end in view." in text
        assert "done" not in text
        assert taken.size == SIZE
        screen.prompt.load_text("a draft")
        assert rows_as_launched(app) is None
        screen.prompt.load_text("")
        await pilot.press("f1")
        await pilot.pause()
        assert rows_as_launched(app) is None
        await pilot.press("escape")
        await wait_until(pilot, lambda: rows_as_launched(app) is not None)
        # A failed reply is worded otherwise once reopened.
        server.queue(ErrorReply(500))
        await send_and_settle(pilot, "Another question")
        await pilot.pause(0.3)
        assert "something went wrong" in screen_text(pilot)
        assert rows_as_launched(app) is None


async def test_rows_taken_before_a_theme_change_are_not_kept(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Taken after a reply, then the theme changed (and the window closed before a quit
    took them again): kept, they would paint the old theme's colours for the new one."""
    server.queue(StreamReply(deltas=["An answer."]))
    app = ChatApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        chat_screen(pilot)  # (the chat, not the welcome screen)
        await send_and_settle(pilot, "A question")
        await pilot.pause(0.3)  # (the footer rebuilt, the code highlighted)
        taken = rows_as_launched(app)
        assert taken is not None
        keep_rows(settings, taken, app.theme)
        kept = settings.db_path.parent / FILE_NAME
        assert kept.exists()
        kept.unlink()
        app.theme = "nord" if app.theme != "nord" else "gruvbox"
        keep_rows(settings, taken, app.theme)
        assert not kept.exists()


async def test_rows_with_a_notice_of_this_launch_are_not_taken(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """`--resume 999` says atop the log there is no such conversation; the next launch,
    reopening the new one, does not: rows showing the notice would shift under it."""
    server.queue(StreamReply(deltas=["An answer."]))
    app = ChatApp(settings, resume_id=999)
    async with app.run_test(size=SIZE) as pilot:
        await send_and_settle(pilot, "A question")
        await pilot.pause(0.3)
        assert "There is no conversation 999" in screen_text(pilot)
        assert rows_as_launched(app) is None

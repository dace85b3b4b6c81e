"""`tui-chat -i`: the app under the shell prompt in a real pseudo-terminal; after Ctrl+Q
the conversation is left as plain text in the terminal (its scrollback)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pyte
import pytest

from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.pty_helpers import read_for, read_until, start_in_terminal
from tui.chat.conversation import Conversation
from tui.chat.message import Message, MessageStatus, Role
from tui.store import Store
from tui.transcript import transcript


def app_env(server: OpenAIStyleServer, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": TEST_KEY,
        "TUI_CHAT_DB": str(home / "h.sqlite3"),
        "TERM": "xterm-256color",
    }


def test_inline_mode_leaves_the_conversation_in_the_scrollback(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    server.queue(StreamReply(deltas=["Inline ", "answer ", "here."]))
    process, primary = start_in_terminal(["-i", "-m", "test-model"], app_env(server, tmp_path))
    seen = bytearray()
    try:
        read_until(primary, b"Message (Enter", seen)
        os.write(primary, b"Hello from a pty\r")
        read_until(primary, b"here.", seen)
        time.sleep(0.3)
        os.write(primary, b"\x11")  # Ctrl+Q
        read_until(primary, "── test-model".encode(), seen)
        assert process.wait(timeout=20) == 0
        read_until(primary, b"Inline answer here.\n", seen, timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    after_exit = bytes(seen).split("── You".encode())[-1].decode(errors="replace")
    assert "Hello from a pty" in after_exit
    assert "Inline answer here." in after_exit


def test_inline_the_prompt_stays_on_screen_under_a_long_reply(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """The log may grow to fill the app's share of the terminal, not past it: it used to
    grow to 60% of the terminal inside an app of at most 70%, and the app scrolled the
    prompt and the status line out of sight below a long reply."""
    server.queue(StreamReply(deltas=[f"Line {i} of a long answer.\n\n" for i in range(40)]))
    process, primary = start_in_terminal(
        ["-i", "-m", "test-model"], app_env(server, tmp_path), size=(80, 24)
    )
    terminal = pyte.Screen(80, 24)
    stream = pyte.ByteStream(terminal)
    seen = bytearray()

    def shown() -> str:
        stream.feed(bytes(seen[len(fed) :]))
        fed[:] = seen
        return "\n".join(terminal.display)

    fed = bytearray()
    try:
        read_until(primary, b"Message (Enter", seen)
        os.write(primary, b"Long one\r")
        read_until(primary, b"Line 39 of a long answer.", seen)
        deadline = time.monotonic() + 10
        while "done" not in shown() and time.monotonic() < deadline:
            read_for(primary, seen, 0.1)
        read_for(primary, seen, 0.5)
        screen = shown()
        assert "Line 39 of a long answer." in screen
        assert "done" in screen, "the status line is on screen"
        assert "Message (Enter" in screen, "the prompt is on screen"
        os.write(primary, b"\x11")  # Ctrl+Q
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)


def test_the_transcript_is_plain_safe_text_in_order() -> None:
    conversation = Conversation()
    prompt = conversation.add_user_message("What is \x1b[2J this?")
    conversation.attach(Message(Role.ASSISTANT, "An escape.", model="m"), prompt)
    text = transcript(conversation)
    assert text.index("── You") < text.index("What is ␛[2J this?") < text.index("── m")
    assert "\x1b" not in text and text.endswith("An escape.\n\n")
    assert transcript(Conversation()) == ""


def test_the_app_quits_when_its_terminal_goes_away_without_a_hang_up_signal(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """A terminal gone without SIGHUP (the app detached from it, as here) left stdin at end
    of file, and Textual's input thread read nothing in a loop: a full core, for good.
    Found as three orphans of a killed test run, still spinning 50 minutes later."""
    server.queue(StreamReply(deltas=["Kept."]))
    # (No controlling terminal: no SIGHUP when it closes.)
    process, primary = prompt_sent_in_terminal(server, tmp_path, b"Remember this", b"Kept.")
    os.close(primary)  # the terminal window closes
    try:
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    conversation = last_conversation_stored(tmp_path)
    assert [m.content for m in conversation.messages] == ["Remember this", "Kept."]


@pytest.mark.parametrize("mode", [[], ["-i"]], ids=["full screen", "inline"])
def test_the_terminal_closing_mid_reply_quits_and_keeps_the_reply(
    server: OpenAIStyleServer, tmp_path: Path, mode: list[str]
) -> None:
    """A terminal window that closes hangs its session up (SIGHUP, then SIGCONT), whose
    default killed the process where it stood: a reply streaming then was found cut off
    at the next start, and what the app keeps for the next launch was not written. It
    saves and quits instead, and within seconds whatever the dead terminal does to
    Textual (inline, its input thread was left waiting for good), with no crash report
    for the write that fails on its way out."""
    server.queue(StreamReply(deltas=["Partial ", "reply", *[" more"] * 400], delay=0.02))
    process, primary = prompt_sent_in_terminal(
        server, tmp_path, b"Keep this", b"Partial", [*mode, "-m", "test-model"]
    )
    try:
        time.sleep(0.2)
        os.close(primary)  # the terminal window closes
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    prompt, reply = last_conversation_stored(tmp_path).messages
    assert prompt.content == "Keep this"
    assert reply.content.startswith("Partial reply more")
    assert reply.status is MessageStatus.STOPPED
    # Inline, Textual writes to the terminal as it ends: the dead one's error is no crash.
    assert not list(tmp_path.rglob("crash-*.txt"))


async def test_an_os_error_with_no_terminal_to_lose_is_still_a_crash(tmp_path: Path) -> None:
    """Only a write to a terminal that has gone is let pass: headless (tests, a browser),
    stderr was never a terminal, and an OSError there is a bug to report."""
    from tui.config import Settings
    from tui.crash_report import CrashReported
    from tui.ui.app import ChatApp

    app = ChatApp(Settings(model="m", api_key=TEST_KEY, db_path=tmp_path / "h.sqlite3"))

    def fail() -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(CrashReported):
        async with app.run_test() as pilot:
            app.call_later(fail)
            await pilot.pause()
    assert list(tmp_path.glob("crash-*.txt"))


def prompt_sent_in_terminal(
    server: OpenAIStyleServer,
    home: Path,
    prompt: bytes,
    shown: bytes,
    args: list[str] | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """The app in a pseudo-terminal, `prompt` sent and `shown` on its screen; with `args`,
    the terminal is its controlling one (a window that closes hangs it up)."""
    process, primary = start_in_terminal(
        args or ["-m", "test-model"], app_env(server, home), controlling=args is not None
    )
    seen = bytearray()
    try:
        read_until(primary, b"Message (Enter", seen)
        os.write(primary, prompt + b"\r")
        read_until(primary, shown, seen)
    except BaseException:
        process.kill()
        os.close(primary)
        raise
    return process, primary


def last_conversation_stored(home: Path) -> Conversation:
    store = Store.open(home / "h.sqlite3")
    conversation = store.load_conversation(store.latest_conversation_id() or 0)
    assert conversation is not None
    return conversation

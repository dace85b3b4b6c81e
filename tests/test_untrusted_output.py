"""What a model writes is shown, never obeyed; how a reply ended is always said."""

from __future__ import annotations

import os
import select
import time
from dataclasses import replace

from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.pty_helpers import start_in_terminal
from tests.ui_helpers import (
    last_reply_settled,
    replies,
    screen_text,
    send_and_settle,
    type_and_send,
    wait_until,
)
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.ui.app import ChatApp

HOSTILE = ["Clear\x1b[2J", " clip\x1b]52;c;ZXZpbA==\x07", " bell\x07 \u202eevil"]


async def test_control_sequences_in_a_reply_are_shown_as_visible_symbols(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=HOSTILE))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Be hostile")
        text = screen_text(pilot)
        assert "Clear␛[2J" in text and "<U+202E>evil" in text
        assert "\x1b" not in text and "\x07" not in text
        svg = pilot.app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg
        # What was received is kept as received, for export and history.
        assert replies(pilot)[-1].message.content == "".join(HOSTILE)


async def test_reply_cut_by_the_token_limit_says_so(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Partial", " answer"], finish_reason="length"))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Long answer")
        assert "cut off by the token limit" in screen_text(pilot)


async def test_a_stalled_stream_ends_as_a_timeout_and_keeps_the_text(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    settings = replace(settings, idle_timeout=0.5)
    server.queue(StreamReply(deltas=["Before ", "the stall", " never"], delay=3.0))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "Stall please")
        await wait_until(pilot, lambda: last_reply_settled(pilot), timeout=10)
        reply = replies(pilot)[-1]
        assert reply.message.status is MessageStatus.ERROR
        assert reply.message.content == "Before "
        assert "stalled" in screen_text(pilot)


def test_the_app_in_a_real_terminal_writes_none_of_the_models_escapes(
    server: OpenAIStyleServer, tmp_path
) -> None:
    """Runs the full-screen app on a pseudo-terminal and inspects every byte it writes."""
    server.queue(StreamReply(deltas=["Clear\x1b[2J", " clip\x1b]52;c;ZXZpbA==\x07", " FINISHED"]))
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": TEST_KEY,
        "TERM": "xterm-256color",
        "TUI_CHAT_DB": str(tmp_path / "h.sqlite3"),
    }
    process, primary = start_in_terminal(["-m", "m", "hostile"], env)
    written = bytearray()
    deadline = time.monotonic() + 20
    quit_sent = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            written += chunk
        if not quit_sent and b"FINISHED" in written:
            time.sleep(0.3)
            os.write(primary, b"\x11")  # Ctrl+Q
            quit_sent = True
        if process.poll() is not None:
            break
    process.kill()
    process.wait()
    os.close(primary)
    assert quit_sent, "the reply never reached the screen"
    assert b"ZXZpbA==" in written, "the text itself is shown"
    assert b"\x1b]52;c;ZXZpbA==" not in written, "no clipboard write"
    assert "␛]52".encode() in written and "␛[2J".encode() in written
    assert TEST_KEY.encode() not in written

"""The key (whole, a prefix, base64, URL-encoded) and URL credentials never reach the
screen, the store, an export or stderr, wherever a server puts them."""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from tests.cli_helpers import run_cli
from tests.conftest import TEST_KEY
from tests.openai_server import ErrorReply, OpenAIStyleServer, RawStream, chunk_event, sse_body
from tests.ui_helpers import chat_screen, screen_text, send_and_settle
from tui.config import Settings
from tui.redaction import Redactor
from tui.ui.app import ChatApp

LEAKS = [
    TEST_KEY,
    TEST_KEY[:13],
    base64.b64encode(f"user:{TEST_KEY}".encode()).decode(),
    base64.b64encode(TEST_KEY.encode()).decode(),
]


def everything_written(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def assert_no_file_leaks(folder: Path) -> None:
    """No form of the key in any file the app wrote (the database, exports, reports)."""
    written = everything_written(folder)
    for leak in LEAKS:
        assert leak.encode() not in written, leak


def assert_no_leak(text: str) -> None:
    redact = Redactor([TEST_KEY])
    assert redact(text) == text, f"a form of the key got through: {text!r}"


def test_every_form_of_the_key_is_redacted() -> None:
    redact = Redactor([TEST_KEY])
    for leak in LEAKS:
        scrubbed = redact(f"before {leak} after")
        assert TEST_KEY[:8] not in scrubbed and leak not in scrubbed, leak
        assert scrubbed.startswith("before ") and scrubbed.endswith(" after")
    assert redact("no secret here, sk-test alone") == "no secret here, sk-test alone"


async def test_the_key_in_a_mid_stream_error_event_never_reaches_screen_store_or_export(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    error = {"error": {"message": f"bad key {TEST_KEY} (prefix {TEST_KEY[:13]})"}}
    body = sse_body([chunk_event({"content": "Partial"}), error], done=False)
    server.queue(RawStream(body))
    async with ChatApp(settings).run_test(size=(140, 34)) as pilot:
        await send_and_settle(pilot, "Hello")
        text = screen_text(pilot)
        assert "bad key [redacted]" in text and "Partial" in text
        assert TEST_KEY[:8] not in text
        chat_screen(pilot).action_export("json")
        await pilot.pause(0.2)
    assert_no_file_leaks(settings.db_path.parent)


async def test_a_401_body_with_the_key_base64_or_a_prefix_is_scrubbed(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    basic = base64.b64encode(f"user:{TEST_KEY}".encode()).decode()
    body = json.dumps(
        {"error": {"message": f"Bad auth: Basic {basic}; key starts {TEST_KEY[:13]}"}}
    )
    server.queue(ErrorReply(401, body))
    async with ChatApp(settings).run_test(size=(160, 34)) as pilot:
        await send_and_settle(pilot, "Hello")
        text = screen_text(pilot)
        assert "Bad auth" in text
        assert_no_leak(text)
    assert_no_file_leaks(settings.db_path.parent)


async def test_a_password_in_the_base_url_is_never_shown_or_stored(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    url = server.base_url.replace("http://", "http://alice:s3cret-passw0rd@")
    settings = replace(settings, base_url=url)
    server.queue(ErrorReply(500, json.dumps({"error": {"message": f"upstream {url} failed"}})))
    async with ChatApp(settings).run_test(size=(160, 34)) as pilot:
        await send_and_settle(pilot, "Hello")
        text = screen_text(pilot)
        assert "s3cret" not in text and "alice" not in text
        assert "upstream http://127.0.0.1" in text
    with sqlite3.connect(settings.db_path) as db:
        endpoints = [row[0] for row in db.execute("SELECT endpoint FROM conversations")]
    assert endpoints and all("s3cret" not in endpoint for endpoint in endpoints)
    assert b"s3cret" not in everything_written(settings.db_path.parent)


def test_pipe_mode_stderr_never_shows_the_key(server: OpenAIStyleServer) -> None:
    error = {"error": {"message": f"quota for {TEST_KEY} exceeded"}}
    server.queue(RawStream(sse_body([error], done=False)))
    result = run_cli(server.base_url, "-p", "Hello")
    assert result.returncode == 1
    assert "quota for [redacted] exceeded" in result.stderr
    assert TEST_KEY[:8] not in result.stderr + result.stdout

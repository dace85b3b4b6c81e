"""Every shape a server's 200 answer takes, byte for byte from the test server, in the app
and in pipe mode: what is shown, what is stored, the exit status. Nothing is silent: an
error shows the server's own words with the partial text kept, an empty stream is said to
be empty, unreadable events are counted, and a body that is not a stream is read or named."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer, RawStream, chunk_event, sse_body
from tests.test_stream_parsing import ERROR_SHAPES
from tests.ui_helpers import replies, screen_text, send_and_settle
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp

PARTIAL = sse_body([chunk_event({"content": "Half an ans"})], done=False)


def stored_reply(settings: Settings) -> tuple[str, MessageStatus, str | None]:
    store = Store.open(settings.db_path)
    try:
        conversation = store.load_conversation(store.latest_conversation_id() or 0)
        assert conversation is not None
        reply = conversation.messages[-1]
        return reply.content, reply.status, reply.error
    finally:
        store.close()


def flat(pilot_text: str) -> str:
    return " ".join(pilot_text.replace("│", " ").split())


@pytest.mark.parametrize("shape", ERROR_SHAPES)
async def test_an_error_at_200_shows_its_words_and_keeps_the_partial_text(
    server: OpenAIStyleServer, settings: Settings, shape: str
) -> None:
    body = PARTIAL + ERROR_SHAPES[shape] + sse_body([chunk_event({"content": "never"})])
    server.queue(RawStream(body, piece_size=7))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        shown = flat(screen_text(pilot))
        assert "Half an ans" in shown and "never" not in shown
        assert "error mid-reply: overloaded" in shown
    content, status, error = stored_reply(settings)
    assert (content, status) == ("Half an ans", MessageStatus.ERROR)
    assert error is not None and "overloaded" in error and "Ctrl+R" not in error

    server.queue(RawStream(body, piece_size=7))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Go")
    assert result.returncode == 1 and result.stdout == "Half an ans"
    assert "overloaded" in result.stderr and "Ctrl" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "body",
    [b"data: [DONE]\n\n", sse_body([chunk_event({"role": "assistant", "content": ""})])],
    ids=["only DONE", "role chunk then DONE"],
)
async def test_an_empty_stream_is_an_empty_reply_said_as_such(
    server: OpenAIStyleServer, settings: Settings, body: bytes
) -> None:
    server.queue(RawStream(body))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        assert "The server sent an empty reply" in screen_text(pilot)
        assert replies(pilot)[-1].message.status is MessageStatus.ERROR
    server.queue(RawStream(body))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Go")
    assert result.returncode == 1 and result.stdout == ""
    assert "empty reply" in result.stderr


async def test_unreadable_events_are_counted_at_the_end_of_the_reply(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    nested = "[" * 50_000 + "]" * 50_000
    events = [
        chunk_event({"content": "Fine "}),
        "{not json",
        nested,
        chunk_event({"content": "end"}),
    ]
    body = sse_body([*events, chunk_event({}, "stop")])
    server.queue(RawStream(body))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        shown = flat(screen_text(pilot))
        assert "Fine end" in shown and "2 events from the server could not be read" in shown
        assert replies(pilot)[-1].message.status is MessageStatus.DONE
    server.queue(RawStream(body))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Go")
    assert result.returncode == 0 and result.stdout == "Fine end"
    assert "2 events from the server could not be read" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_server_that_ignores_stream_true_is_answered_from_its_json_body(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "All at once."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    body = json.dumps(completion).encode()
    server.queue(RawStream(body, content_type="application/json"))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        assert "All at once." in screen_text(pilot)
        reply = replies(pilot)[-1].message
        assert reply.status is MessageStatus.DONE and reply.usage is not None
    assert stored_reply(settings)[:2] == ("All at once.", MessageStatus.DONE)
    server.queue(RawStream(body, content_type="application/json"))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Go")
    assert result.returncode == 0 and result.stdout == "All at once."


async def test_an_html_page_at_200_says_what_came_back(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    page = b"<!doctype html><html><head><title>Portal login</title></head><body>x</body></html>"
    server.queue(RawStream(page, content_type="text/html"))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        shown = flat(screen_text(pilot))
        assert "not a chat reply" in shown and "Portal login" in shown
    server.queue(RawStream(page, content_type="text/html"))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Go")
    assert result.returncode == 1 and "Portal login" in result.stderr


def test_a_key_in_the_base_url_never_reaches_an_error_message() -> None:
    """Found in review: errors name the endpoint, which was not scrubbed."""
    from tests.conftest import TEST_KEY

    for url in (f"http://127.0.0.1:9/{TEST_KEY}/v1", f"http://127.0.0.1:9/v1?key={TEST_KEY}"):
        result = run_cli(url, "-p", "-m", "test-model", "Go")
        assert result.returncode == 1 and "Nothing is listening" in result.stderr
        assert TEST_KEY not in result.stderr and TEST_KEY[:12] not in result.stderr

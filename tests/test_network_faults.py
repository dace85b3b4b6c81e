"""Network failures and automatic retries, through the real client and the real app.

Every case is produced for real on 127.0.0.1: a closed port, a listener whose backlog is
full (connect timeout), a plain-HTTP server spoken to over https (TLS failure). Only the
DNS case is built from the exception chain the stack raises, because a real lookup would
leave this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import replace

import openai
import pytest

from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    replies,
    screen_text,
    send_and_settle,
    type_and_send,
    wait_until,
)
from tui.backend import ChatBackend
from tui.chat.events import ErrorKind, Failed, Retrying
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.error_words import tell
from tui.ui.app import ChatApp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def saturated_port() -> Iterator[int]:
    """A port that accepts no more connections: the listener never accepts and its backlog
    is full, so a new connection attempt hangs until the client's connect timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


async def test_refused_connection_then_server_starts_and_ctrl_r_recovers(
    settings: Settings,
) -> None:
    port = free_port()
    settings = replace(settings, base_url=f"http://127.0.0.1:{port}/v1")
    async with ChatApp(settings).run_test(size=(120, 34)) as pilot:
        await send_and_settle(pilot, "Are you there?")
        text = screen_text(pilot)
        assert "Nothing is listening at" in text and str(port) in text
        assert "Connection" in text and "Ctrl+R" in text
        late_server = OpenAIStyleServer(port).start()
        try:
            late_server.queue(StreamReply(deltas=["Here ", "now."]))
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
            assert replies(pilot)[-1].message.content == "Here now."
            assert late_server.requests[0]["messages"][-1]["content"] == "Are you there?"
        finally:
            late_server.stop()


async def test_connect_timeout_names_the_wait_and_keeps_the_app_usable(
    settings: Settings, saturated_port: int
) -> None:
    settings = replace(
        settings, base_url=f"http://127.0.0.1:{saturated_port}/v1", connect_timeout=0.3
    )
    async with ChatApp(settings).run_test(size=(120, 34)) as pilot:
        await send_and_settle(pilot, "Hello?")
        text = screen_text(pilot)
        assert "timed out" in text and "no connection within 0.3 s" in text
        assert chat_screen(pilot).prompt.has_focus


async def test_tls_to_a_plain_http_server_suggests_http(settings: Settings) -> None:
    async def answer_in_plain_http(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    plain = await asyncio.start_server(answer_in_plain_http, "127.0.0.1", 0)
    port = plain.sockets[0].getsockname()[1]
    settings = replace(settings, base_url=f"https://127.0.0.1:{port}/v1")
    try:
        async with ChatApp(settings).run_test(size=(120, 34)) as pilot:
            await send_and_settle(pilot, "Hi")
            text = screen_text(pilot)
            assert "The secure connection to" in text and "http://" in text
            assert "SSLError" in text
    finally:
        plain.close()


def test_dns_failure_says_the_host_was_not_found(settings: Settings) -> None:
    import httpx2

    request = httpx2.Request("POST", "http://no-such-host.invalid/v1/chat/completions")
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as lookup:
            raise openai.APIConnectionError(request=request) from lookup
    except openai.APIConnectionError as error:
        described = ChatBackend(settings).describe_connection_error(error)
    assert described.kind is ErrorKind.HOST_NOT_FOUND
    told = tell(described, in_app=True)
    assert told.title.startswith("Cannot find the host")
    assert "Name or service not known" in told.detail and "base URL" in told.hint


async def test_503_is_retried_automatically_and_the_wait_is_shown(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        ErrorReply(503, '{"error": {"message": "warming up"}}', headers={"Retry-After": "1"}),
        StreamReply(deltas=["Second ", "time lucky."]),
    )
    async with ChatApp(replace(settings, max_retries=2)).run_test(size=(120, 34)) as pilot:
        await type_and_send(pilot, "Hi")
        await wait_until(pilot, lambda: "retrying in 1 s (attempt 2 of 3)" in screen_text(pilot))
        assert "Service unavailable (503)" in screen_text(pilot)
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        assert replies(pilot)[-1].message.content == "Second time lucky."
        assert "retrying" not in screen_text(pilot)
        assert len(server.requests) == 2


async def test_a_long_retry_after_is_left_to_the_user(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(ErrorReply(429, headers={"Retry-After": "120"}))
    async with ChatApp(replace(settings, max_retries=2)).run_test(size=(120, 34)) as pilot:
        await send_and_settle(pilot, "Hi")
        assert "wait 120 s" in screen_text(pilot)
        assert len(server.requests) == 1


async def test_a_reply_that_broke_after_text_arrived_is_never_resent(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Partial ", "answer ", "never"], disconnect_after=2))
    async with ChatApp(replace(settings, max_retries=3)).run_test(size=(120, 34)) as pilot:
        await send_and_settle(pilot, "Hi")
        reply = replies(pilot)[-1].message
        assert reply.status is MessageStatus.ERROR and reply.content == "Partial answer "
        assert "dropped mid-reply" in screen_text(pilot)
        assert len(server.requests) == 1


async def test_retries_give_up_after_the_configured_number(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(*[ErrorReply(502, '{"error": {"message": "down"}}') for _ in range(3)])
    events = [
        event
        async for event in ChatBackend(replace(settings, max_retries=2)).stream_reply(
            [{"role": "user", "content": "Hi"}], "test-model"
        )
    ]
    assert [type(event) for event in events] == [Retrying, Retrying, Failed]
    assert [event.attempt for event in events if isinstance(event, Retrying)] == [2, 3]
    assert len(server.requests) == 3

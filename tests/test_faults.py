"""Odd servers and failures: each ends in a readable message and keeps what arrived."""

from __future__ import annotations

import pytest

from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.ui_helpers import replies, screen_text, send_and_settle, wait_until
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.context_full_screen import ContextFullScreen


async def test_rate_limit_quotes_retry_after(server: OpenAIStyleServer, settings: Settings):
    server.queue(
        ErrorReply(429, '{"error": {"message": "slow down"}}', headers={"Retry-After": "7"})
    )
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await send_and_settle(pilot, "Hi")
        text = screen_text(pilot)
        assert "Rate limited (429)" in text and "wait 7 s" in text and "slow down" in text


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            '{"error": {"message": "This model\'s maximum context length is 8192 tokens",'
            ' "code": "context_length_exceeded"}}',
            ["too long for the model (400)", "maximum context length", "Ctrl+N"],
        ),
        (401, '{"error": {"message": "Incorrect API key"}}', ["rejected the API key (401)"]),
        (403, '{"error": {"message": "no access"}}', ["Access denied (403)", "no access"]),
        (404, '{"error": {"message": "model missing"}}', ["Not found (404)", "'test-model'"]),
        (413, "payload too large", ["too large (413)", "payload too large"]),
        (500, '{"error": {"message": "boom"}}', ["Server error (500)", "boom"]),
        (502, '{"error": {"message": "upstream"}}', ["Bad gateway (502)", "proxy"]),
        (503, '{"error": {"message": "loading"}}', ["Service unavailable (503)", "loading"]),
        (504, '{"error": {"message": "slow upstream"}}', ["Gateway timeout (504)"]),
    ],
)
async def test_each_http_error_is_explained_and_ctrl_r_recovers(
    server: OpenAIStyleServer, settings: Settings, status: int, body: str, expected: list[str]
) -> None:
    server.queue(ErrorReply(status, body), StreamReply(deltas=["Recovered."]))
    async with ChatApp(settings).run_test(size=(120, 34)) as pilot:
        await send_and_settle(pilot, "Question")
        if "context length" in body:  # the ways on are offered; Esc keeps to the error
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContextFullScreen))
            await pilot.press("escape")
            await pilot.pause()
        text = screen_text(pilot)
        for fragment in expected:
            assert fragment in text
        assert replies(pilot)[-1].message.status is MessageStatus.ERROR
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        assert replies(pilot)[-1].message.content == "Recovered."
        assert server.requests[-1]["messages"][-1] == {"role": "user", "content": "Question"}


async def test_html_error_page_from_a_proxy_is_named_as_such(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    server.queue(ErrorReply(502, page, content_type="text/html"))
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await send_and_settle(pilot, "Hi")
        text = screen_text(pilot)
        assert "Bad gateway (502)" in text and "HTML page instead of JSON" in text
        assert "<html>" not in text


async def test_mid_stream_error_event_keeps_the_partial_reply(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Kept ", "text ", "lost"], error_event_after=2))
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await send_and_settle(pilot, "Hi")
        reply = replies(pilot)[-1].message
        assert reply.status is MessageStatus.ERROR and reply.content == "Kept text "
        assert "model overloaded mid-stream" in screen_text(pilot)


async def test_stream_without_done_or_finish_reason_is_marked_incomplete(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Half"], finish_reason=None, usage=None, send_done=False))
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await send_and_settle(pilot, "Hi")
        assert replies(pilot)[-1].message.status is MessageStatus.ERROR
        assert "ended early" in screen_text(pilot)


async def test_keep_alive_comments_and_junk_frames_are_survived(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    junk = [": keep-alive\n\n", "data: not json\n\n", 'data: {"choices": []}\n\n', "data:\n\n"]
    server.queue(StreamReply(deltas=["Fine", " anyway."], raw_lines_before=junk))
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await send_and_settle(pilot, "Hi")
        reply = replies(pilot)[-1].message
        assert reply.status is MessageStatus.DONE and reply.content == "Fine anyway."

"""The ways "OpenAI-compatible" servers differ on the wire, each of which must just work.

Every body here is sent byte for byte by the test server, several of them split into
one-byte HTTP chunks, so an event (and a UTF-8 character) arrives in many pieces.
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer, RawStream, chunk_event, sse_body
from tests.ui_helpers import replies, screen_text, send_and_settle
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp

USAGE = chunk_event(None, usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})
UNICODE_TEXT = "Grüße — naïve café ✓ 日本語 🎉 done."


def content_events(text: str, size: int = 1) -> list[dict]:
    return [chunk_event({"content": text[i : i + size]}) for i in range(0, len(text), size)]


QUIRKS: dict[str, tuple[RawStream, str]] = {
    "no role chunk, Azure filter chunk first, usage chunk": (
        RawStream(
            sse_body(
                [
                    chunk_event(choices=[], prompt_filter_results=[{"prompt_index": 0}]),
                    chunk_event({"content": "Filtered "}),
                    chunk_event({"content": "fine."}, "stop"),
                    USAGE,
                ]
            )
        ),
        "Filtered fine.",
    ),
    "CRLF line endings": (
        RawStream(
            sse_body(
                [chunk_event({"role": "assistant"}), *content_events("CRLF ok", 3), USAGE],
                line_end="\r\n",
            )
        ),
        "CRLF ok",
    ),
    "every byte its own packet, inside multi-byte characters": (
        RawStream(sse_body(content_events(UNICODE_TEXT, 4)), piece_size=1),
        UNICODE_TEXT,
    ),
    "odd chunks: delta null, unknown fields, missing choices, tool_calls": (
        RawStream(
            sse_body(
                [
                    {"id": "x", "object": "chat.completion.chunk"},
                    chunk_event(choices=[{"index": 0, "delta": None}]),
                    chunk_event({"content": "Kept", "future_field": {"x": 1}}, extra_top=1),
                    chunk_event(
                        {
                            "tool_calls": [
                                {"index": 0, "id": "c1", "function": {"name": "f", "arguments": ""}}
                            ]
                        }
                    ),
                    chunk_event({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
                    chunk_event({"content": " going."}, "stop"),
                ]
            )
        ),
        "Kept going.",
    ),
    "refusal deltas are the reply": (
        RawStream(
            sse_body(
                [chunk_event({"refusal": "I can't "}), chunk_event({"refusal": "help with that."})]
            )
        ),
        "I can't help with that.",
    ),
    "thousands of one-character deltas": (
        RawStream(sse_body(content_events("abcdefghij" * 400))),
        "abcdefghij" * 400,
    ),
}


@pytest.mark.parametrize("case", list(QUIRKS))
async def test_quirky_streams_render_and_store_the_exact_text(
    server: OpenAIStyleServer, settings: Settings, case: str
) -> None:
    body, expected = QUIRKS[case]
    server.queue(body)
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go", timeout=20)
        reply = replies(pilot)[-1]
        assert reply.message.status is MessageStatus.DONE
        assert reply.message.content == expected
        assert expected[:40] in " ".join(reply.body.rendered_text.split())
    stored = Store.open(settings.db_path).load_conversation(1)
    assert stored is not None and stored.messages[-1].content == expected


@pytest.mark.parametrize("case", list(QUIRKS))
def test_quirky_streams_in_pipe_mode_print_the_exact_text(
    server: OpenAIStyleServer, case: str
) -> None:
    body, expected = QUIRKS[case]
    server.queue(body)
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Go")
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


async def test_reasoning_content_and_reasoning_fields_are_kept_apart_from_the_answer(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        RawStream(
            sse_body(
                [
                    chunk_event({"reasoning_content": "Think (DeepSeek). "}),
                    chunk_event({"reasoning": "Think (OpenRouter)."}),
                    chunk_event({"content": "Answer."}, "stop"),
                ]
            )
        )
    )
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        reply = replies(pilot)[-1].message
        assert reply.content == "Answer."
        assert reply.reasoning == "Think (DeepSeek). Think (OpenRouter)."


@pytest.mark.parametrize(
    ("reason", "notice"),
    [("length", "cut off by the token limit"), ("content_filter", "content filter")],
)
async def test_finish_reasons_that_cut_a_reply_are_said(
    server: OpenAIStyleServer, settings: Settings, reason: str, notice: str
) -> None:
    server.queue(RawStream(sse_body([chunk_event({"content": "Trunc"}, reason)])))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        assert notice in screen_text(pilot)
        assert replies(pilot)[-1].message.finish_reason == reason
    server.queue(RawStream(sse_body([chunk_event({"content": "Trunc"}, reason)])))
    result = run_cli(server.base_url, "-p", "-m", "test-model", "Go")
    assert result.stdout == "Trunc" and notice.split()[-1] in result.stderr


async def test_a_single_one_megabyte_delta(server: OpenAIStyleServer, settings: Settings) -> None:
    paragraph = "A long paragraph of model output that keeps going. " * 200
    text = "\n\n".join(f"{index}. {paragraph}" for index in range(100))
    assert len(text) > 1_000_000
    server.queue(RawStream(sse_body([chunk_event({"content": text}, "stop")])))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Go", timeout=60)
        reply = replies(pilot)[-1]
        assert reply.message.content == text
        assert "99. A long paragraph" in reply.body.rendered_text
    server.queue(RawStream(sse_body([chunk_event({"content": text}, "stop")])))
    assert run_cli(server.base_url, "-p", "-m", "test-model", "Go").stdout == text

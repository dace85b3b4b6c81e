"""A reply's body becomes typed events that always end with `Finished` or `Failed`: every
shape of error real servers send at HTTP 200, bodies that are not streams, unreadable
events counted, and an empty stream said to be empty."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tui.chat.events import (
    ChatError,
    ContentDelta,
    ErrorKind,
    Failed,
    Finished,
    ReasoningDelta,
    SkippedEvents,
    UsageReport,
)
from tui.chat.message import Usage
from tui.completions_events import CompletionsEvents
from tui.responses_events import ResponsesEvents
from tui.stream_reading import ReplyReader, Unreadable, parse_object


async def read_all(*pieces: bytes) -> list:
    async def arriving() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    return [event async for event in ReplyReader(CompletionsEvents()).events(arriving())]


def data(delta: str) -> bytes:
    return f"data: {json.dumps({'choices': [{'delta': {'content': delta}}]})}\n\n".encode()


def event(payload: dict | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {text}\n\n".encode()


DONE = b"data: [DONE]\n\n"
STOP = event({"choices": [{"delta": {}, "finish_reason": "stop"}]})


async def test_content_reasoning_finish_and_usage() -> None:
    usage = event({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5}})
    thinking = event({"choices": [{"delta": {"reasoning_content": "hmm"}}]})
    assert await read_all(thinking + data("Hi"), STOP + usage + DONE) == [
        ReasoningDelta("hmm"),
        ContentDelta("Hi"),
        UsageReport(Usage(3, 5)),
        Finished("stop"),
    ]


async def test_deltas_that_arrive_together_become_one_event_that_counts_them() -> None:
    burst = data("He") + data("llo") + event({"choices": [{"delta": {"reasoning": "r"}}]})
    assert await read_all(burst + data(" you"), data("!"), DONE) == [
        ContentDelta("Hello", chunks=2),
        ReasoningDelta("r"),
        ContentDelta(" you"),
        ContentDelta("!"),
        Finished("stop"),
    ]


async def test_done_ends_the_stream_after_the_events_before_it_in_the_same_read() -> None:
    assert await read_all(data("last") + DONE + data("never")) == [
        ContentDelta("last"),
        Finished("stop"),
    ]


async def test_a_last_event_without_its_blank_line_is_discarded_as_the_spec_says() -> None:
    events = await read_all(data("a"), b"data: [DONE]")
    assert events[0] == ContentDelta("a")
    assert isinstance(events[-1], Failed) and events[-1].error.kind is ErrorKind.ENDED_EARLY


ERROR_SHAPES = {
    "nested error object": event({"error": {"message": "overloaded", "type": "server_error"}}),
    "error as text": event({"error": "overloaded"}),
    "flat object: error (older vLLM)": event(
        {"object": "error", "message": "overloaded", "type": "BadRequestError", "code": 400}
    ),
    "event of type error": b'event: error\ndata: {"message": "overloaded"}\n\n',
    "event of type error, plain text": b"event: error\ndata: overloaded\n\n",
    "error: field (older llama.cpp)": b'error: {"code": 500, "message": "overloaded"}\n\n',
    "error and finish_reason in one chunk (OpenRouter)": event(
        {
            "choices": [{"delta": {"content": ""}, "finish_reason": "error"}],
            "error": {"code": 502, "message": "overloaded"},
        }
    ),
}


@pytest.mark.parametrize("shape", ERROR_SHAPES)
async def test_every_shape_of_error_at_200_is_told_with_its_own_words(shape: str) -> None:
    events = await read_all(data("partial "), ERROR_SHAPES[shape] + data("never") + DONE)
    assert events == [
        ContentDelta("partial "),
        Failed(ChatError(ErrorKind.STREAM_ERROR, "overloaded")),
    ]


async def test_a_context_length_error_mid_stream_is_its_own_kind() -> None:
    message = "This model's maximum context length is 8192 tokens"
    (failed,) = await read_all(event({"error": {"message": message}}))
    assert failed == Failed(ChatError(ErrorKind.CONTEXT_LENGTH, message))


@pytest.mark.parametrize("body", [DONE, b"", b": keep-alive\n\n" + DONE, event({"choices": []})])
async def test_a_stream_with_no_text_no_finish_and_no_error_is_an_empty_reply(body: bytes) -> None:
    assert await read_all(body) == [Failed(ChatError(ErrorKind.EMPTY_REPLY))]


async def test_a_finish_reason_without_text_is_not_an_empty_reply() -> None:
    assert await read_all(STOP + DONE) == [Finished("stop")]


async def test_unreadable_events_are_counted_and_said_before_the_end() -> None:
    nested = "[" * 100_000 + "]" * 100_000
    body = data("a") + event("not json") + event(nested) + event("[1, 2]") + data("b") + DONE
    assert await read_all(body) == [
        ContentDelta("ab", chunks=2),
        SkippedEvents(3),
        Finished("stop"),
    ]


async def test_a_server_that_ignores_stream_true_sends_one_completion_body() -> None:
    body = {
        "object": "chat.completion",
        "choices": [
            {
                "message": {"role": "assistant", "content": "Whole answer."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2},
    }
    text = json.dumps(body).encode()
    assert await read_all(b"\n", text[:10], text[10:]) == [
        ContentDelta("Whole answer."),
        UsageReport(Usage(4, 2)),
        Finished("stop"),
    ]


async def test_an_error_body_at_200_is_told() -> None:
    body = json.dumps({"error": {"message": "model not loaded"}}).encode()
    assert await read_all(body) == [Failed(ChatError(ErrorKind.STREAM_ERROR, "model not loaded"))]


async def test_an_html_page_at_200_says_what_came_back() -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in \xe2\x80\x93 Wi-Fi</title></head></html>"
    assert await read_all(page) == [
        Failed(ChatError(ErrorKind.NOT_A_STREAM, 'an HTML page ("Sign in \u2013 Wi-Fi")'))
    ]


async def read_responses(*pieces: bytes) -> list:
    async def arriving() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    return [event async for event in ReplyReader(ResponsesEvents()).events(arriving())]


def typed(kind: str, **fields: object) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n".encode()


async def test_responses_summary_paragraphs_refusals_and_the_end() -> None:
    usage = {"input_tokens": 9, "output_tokens": 2}
    in_one_read = b"".join(
        [
            typed("response.reasoning_summary_part.added", summary_index=0),
            typed("response.reasoning_summary_text.delta", delta="First."),
            typed("response.reasoning_summary_part.added", summary_index=1),
            typed("response.reasoning_summary_text.delta", delta="Second."),
            typed("response.refusal.delta", delta="I can't help with that."),
            typed("response.completed", response={"status": "completed", "usage": usage}),
            typed("response.output_text.delta", delta="never"),
        ]
    )
    assert await read_responses(in_one_read) == [
        ReasoningDelta("First.\n\nSecond.", chunks=3),
        ContentDelta("I can't help with that."),
        UsageReport(Usage(9, 2)),
        Finished("stop"),
    ]


async def test_a_whole_response_body_from_a_server_that_did_not_stream() -> None:
    body = {
        "object": "response",
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Thought."}]},
            {"type": "message", "content": [{"type": "output_text", "text": "Cut sh"}]},
        ],
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    assert await read_responses(json.dumps(body).encode()) == [
        ReasoningDelta("Thought."),
        ContentDelta("Cut sh"),
        UsageReport(Usage(3, 4)),
        Finished("length"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'event: error\ndata: {"type": "server_error", "message": "overloaded"}\n\n',
        b'data: {"error": {"message": "overloaded"}}\n\n',
        b'data: {"object": "error", "message": "overloaded", "code": 500}\n\n',
    ],
    ids=["event: error with its own type", "a proxy's error object", "older vLLM's flat error"],
)
async def test_responses_errors_in_other_shapes_keep_the_servers_words(body: bytes) -> None:
    """Found in review: these ended as "ended early" with no words."""
    delta = typed("response.output_text.delta", delta="Part")
    assert await read_responses(delta + body) == [
        ContentDelta("Part"),
        Failed(ChatError(ErrorKind.STREAM_ERROR, "overloaded")),
    ]


async def test_responses_events_of_absurd_shapes_are_skipped_not_a_crash() -> None:
    odd = b'data: {"type": ["x"]}\n\n' + typed("response.output_text.delta", delta=5)
    events = await read_responses(odd + typed("response.output_text.delta", delta="ok"))
    assert events == [
        ContentDelta("ok"),
        SkippedEvents(1),
        Failed(ChatError(ErrorKind.ENDED_EARLY)),
    ]
    assert await read_responses(b'{"output": 5, "status": "completed"}') == [Finished("stop")]


async def test_usage_counts_that_are_not_integers_are_ignored() -> None:
    usage = event({"choices": [], "usage": {"prompt_tokens": True, "completion_tokens": 1.5}})
    assert await read_all(data("a") + usage + DONE) == [ContentDelta("a"), Finished("stop")]


@pytest.mark.parametrize(
    "data",
    [
        '{"a": 1}',
        ' {"a": 1}',
        '{"a": 1}\n',
        '{"a": 1} x',
        '{"a": 1}{"b": 2}',
        "[1]",
        "null",
        "\ufeff{}",
        "",
        "{",
        '{"a": NaN}',
        '{"a": 1e999}',
        "[" * 100_000,
        '{"a": "\\ud800"}',
    ],
)
def test_an_event_is_read_as_json_loads_reads_it(data: str) -> None:
    """Events are read by the JSON decoder's scanner (twice the speed of `json.loads`);
    what it reads must be what `json.loads` reads, and what it refuses still refused."""
    try:
        expected: object = json.loads(data)
    except (ValueError, RecursionError):
        expected = Unreadable
    if not isinstance(expected, dict):
        expected = Unreadable
    try:
        read: object = parse_object(data)
    except Unreadable:
        read = Unreadable
    assert repr(read) == repr(expected)

"""Raw SSE lines become typed events; odd frames are survived, not fatal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tui.chat.events import ContentDelta, Failed, Finished, ReasoningDelta, UsageReport
from tui.chat.message import Usage
from tui.sse import EndOfStream, StreamDone, events_from_line, read_events


def events(line: str) -> list:
    return list(events_from_line(line))


def test_content_reasoning_finish_and_usage_chunks() -> None:
    assert events('data: {"choices":[{"delta":{"content":"Hi"}}]}') == [ContentDelta("Hi")]
    assert events('data: {"choices":[{"delta":{"reasoning_content":"hmm"}}]}') == [
        ReasoningDelta("hmm")
    ]
    assert events('data: {"choices":[{"delta":{"reasoning":"hm"}}]}') == [ReasoningDelta("hm")]
    assert events('data: {"choices":[{"delta":{},"finish_reason":"length"}]}') == [
        Finished("length")
    ]
    usage_chunk = 'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}'
    assert events(usage_chunk) == [UsageReport(Usage(3, 5))]


@pytest.mark.parametrize(
    "line",
    [
        ": keep-alive",
        "data:",
        "data: not json",
        'data: {"choices": null}',
        'data: {"choices":[{"delta":null}]}',
        'data: {"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}',
        'data: {"choices":[], "prompt_filter_results": []}',
        "event: ping",
        "data: [1, 2]",
    ],
)
def test_odd_frames_are_ignored(line: str) -> None:
    assert events(line) == []


def test_done_sentinel_ends_the_stream() -> None:
    with pytest.raises(StreamDone):
        events("data: [DONE]")


def test_mid_stream_error_event_is_reported_with_the_servers_words() -> None:
    (event,) = events('data: {"error": {"message": "overloaded", "type": "server_error"}}')
    assert isinstance(event, Failed)
    assert "overloaded" in event.error.one_line()


async def read_all(*pieces: bytes) -> list:
    async def arriving() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    return [event async for event in read_events(arriving())]


def data(delta: str) -> bytes:
    return f'data: {{"choices":[{{"delta":{{"content":"{delta}"}}}}]}}\n\n'.encode()


async def test_deltas_that_arrive_together_become_one_event_that_counts_them() -> None:
    burst = data("He") + data("llo") + b'data: {"choices":[{"delta":{"reasoning":"r"}}]}\n\n'
    assert await read_all(burst + data(" you"), data("!")) == [
        ContentDelta("Hello", chunks=2),
        ReasoningDelta("r"),
        ContentDelta(" you"),
        ContentDelta("!"),
    ]


async def test_lines_split_anywhere_with_any_line_ending_and_split_characters() -> None:
    body = data("é→😀").replace(b"\n", b"\r\n") + data("b").replace(b"\n", b"\r") + data("c")
    pieces = [body[i : i + 1] for i in range(len(body))]  # one byte at a time
    texts = [event.text for event in await read_all(*pieces)]
    assert "".join(texts) == "é→😀bc"


async def test_done_ends_the_stream_after_the_events_before_it_in_the_same_read() -> None:
    events = await read_all(data("last") + b"data: [DONE]\n\n" + data("never"))
    assert events == [ContentDelta("last"), EndOfStream()]


async def test_a_final_line_without_a_newline_still_counts() -> None:
    assert await read_all(data("a"), b"data: [DONE]") == [ContentDelta("a"), EndOfStream()]
    assert await read_all(data("a")[:-2]) == [ContentDelta("a")]

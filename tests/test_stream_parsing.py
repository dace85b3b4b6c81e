"""Raw SSE lines become typed events; odd frames are survived, not fatal."""

from __future__ import annotations

import pytest

from tui.chat.events import ContentDelta, Failed, Finished, ReasoningDelta, UsageReport
from tui.chat.message import Usage
from tui.sse import StreamDone, events_from_line


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

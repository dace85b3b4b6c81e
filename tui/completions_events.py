"""What the Chat Completions API's events and bodies say, as typed stream events.

Read from the raw JSON, not through the SDK's pydantic models (they cost most of a core
at 2,000 tok/s), so odd chunks (missing fields, keep-alives) are skipped, not fatal. Every
shape of error that real servers put inside a 200 stream is recognised: a nested
`{"error": {...}}`, `{"error": "text"}`, a flat `{"object": "error", ...}` (older vLLM),
an event of type `error`, an `error:` field (older llama.cpp, see `tui.event_stream`),
and a chunk carrying both an error and a finish reason (OpenRouter): the error wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tui.chat.events import (
    ChatError,
    ContentDelta,
    ErrorKind,
    Failed,
    Finished,
    ReasoningDelta,
    StreamEvent,
    UsageReport,
)
from tui.chat.message import Usage
from tui.event_stream import ServerEvent
from tui.stream_reading import EndOfStream, Unreadable, parse_object

DONE_SENTINEL = "[DONE]"
LARGEST_COUNT = 2**63 - 1


def events_from_chunk(chunk: dict[str, Any]) -> Iterator[StreamEvent]:
    """The events of one `chat.completion.chunk` (or of an error in its place)."""
    if (error := error_in(chunk)) is not None:
        yield Failed(error)
        return
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices:
        choice = choices[0]
        if isinstance(choice, dict):
            yield from _events_from_choice(choice, choice.get("delta"))
    yield from _usage(chunk)


def events_from_completion(body: dict[str, Any]) -> Iterator[StreamEvent]:
    """A whole `chat.completion`, from a server that ignored `stream: true`."""
    if (error := error_in(body)) is not None:
        yield Failed(error)
        return
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        yield from _events_from_choice(choices[0], choices[0].get("message"))
    yield from _usage(body)


def error_in(chunk: dict[str, Any]) -> ChatError | None:
    """The error a chunk carries, in any of the shapes servers use; None if it has none."""
    error = chunk.get("error")
    if error:
        return stream_error(error)
    if chunk.get("object") == "error" or chunk.get("type") == "error":
        return stream_error(chunk)
    return None


def stream_error(error: object) -> ChatError:
    """An error sent inside a stream, told with the server's own words."""
    message = ""
    if isinstance(error, dict):
        inner = error.get("error")
        if isinstance(inner, dict | str) and inner:
            return stream_error(inner)
        message = str(error.get("message") or error.get("type") or error.get("code") or "")
    elif isinstance(error, str):
        message = error
    kind = ErrorKind.CONTEXT_LENGTH if is_about_context_length(message) else ErrorKind.STREAM_ERROR
    return ChatError(kind, message)


def error_event(data: str) -> ChatError:
    """An event of type `error` (or an `error:` field): JSON in any shape, or plain text."""
    try:
        return stream_error(parse_object(data))
    except Unreadable:
        return stream_error(data.strip())


_CONTEXT_WORDS = (
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "too many tokens",
    "prompt is too long",
)


def is_about_context_length(message: str) -> bool:
    lowered = message.lower()
    return any(words in lowered for words in _CONTEXT_WORDS)


def bounded_count(number: int) -> int:
    """A count from a server, kept within what SQLite and arithmetic can hold: numbers from
    servers are untrusted (2**70 made a reply unsavable)."""
    return max(0, min(number, LARGEST_COUNT))


def _usage(chunk: dict[str, Any]) -> Iterator[StreamEvent]:
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        prompt = usage.get("prompt_tokens")
        completion = usage.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            yield UsageReport(Usage(bounded_count(prompt), bounded_count(completion)))


def _events_from_choice(choice: dict[str, Any], delta: object) -> Iterator[StreamEvent]:
    if isinstance(delta, dict):
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            yield ReasoningDelta(reasoning)
        content = delta.get("content")
        if isinstance(content, str) and content:
            yield ContentDelta(content)
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            yield ContentDelta(refusal)
    finish_reason = choice.get("finish_reason")
    if isinstance(finish_reason, str) and finish_reason:
        yield Finished(finish_reason)


class CompletionsEvents:
    """Reads the events of a Chat Completions stream (see `tui.stream_reading`)."""

    def read(self, event: ServerEvent) -> list[StreamEvent | EndOfStream]:
        if event.type == "error":
            return [Failed(error_event(event.data))]
        if event.data.strip() == DONE_SENTINEL:
            return [EndOfStream()]
        return list(events_from_chunk(parse_object(event.data)))

    def read_body(self, body: dict[str, Any]) -> list[StreamEvent | EndOfStream]:
        return [*events_from_completion(body), EndOfStream()]

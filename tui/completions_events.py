"""What the Chat Completions API's events and bodies say, as typed stream events.

Read from the raw JSON, not through the SDK's pydantic models (they cost most of a core
at 2,000 tok/s), so odd chunks (missing fields, keep-alives) are skipped, not fatal. Every
shape of error that real servers put inside a 200 stream is recognised: a nested
`{"error": {...}}`, `{"error": "text"}`, a flat `{"object": "error", ...}` (older vLLM),
an event of type `error`, an `error:` field (older llama.cpp, see `tui.event_stream`),
and a chunk carrying both an error and a finish reason (OpenRouter): the error wins.
"""

from __future__ import annotations

import json
from typing import Any

from tui.chat.events import (
    ChatError,
    ContentDelta,
    ErrorKind,
    Failed,
    Finished,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UsageReport,
)
from tui.chat.message import Usage
from tui.event_stream import ServerEvent
from tui.stream_reading import EndOfStream, Unreadable, parse_object

DONE_SENTINEL = "[DONE]"
LARGEST_COUNT = 2**63 - 1


def events_from_chunk(chunk: dict[str, Any]) -> list[StreamEvent]:
    """The events of one `chat.completion.chunk` (or of an error in its place). Lists, not
    generators: this runs once per token."""
    if (error := error_in(chunk)) is not None:
        return [Failed(error)]
    events: list[StreamEvent] = []
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices:
        choice = choices[0]
        if isinstance(choice, dict):
            _add_choice(events, choice, choice.get("delta"))
    if "usage" in chunk:
        _add_usage(events, chunk)
    return events


def events_from_completion(body: dict[str, Any]) -> list[StreamEvent]:
    """A whole `chat.completion`, from a server that ignored `stream: true`."""
    if (error := error_in(body)) is not None:
        return [Failed(error)]
    events: list[StreamEvent] = []
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        _add_choice(events, choices[0], choices[0].get("message"))
    _add_usage(events, body)
    return events


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


def _add_usage(events: list[StreamEvent], chunk: dict[str, Any]) -> None:
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        prompt = usage.get("prompt_tokens")
        completion = usage.get("completion_tokens")
        if type(prompt) is int and type(completion) is int:  # not True, not 1.5
            events.append(UsageReport(Usage(bounded_count(prompt), bounded_count(completion))))


def _add_choice(events: list[StreamEvent], choice: dict[str, Any], delta: object) -> None:
    if isinstance(delta, dict):
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning and isinstance(reasoning, str):
            events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if content and isinstance(content, str):
            events.append(ContentDelta(content))
        refusal = delta.get("refusal")
        if refusal and isinstance(refusal, str):
            events.append(ContentDelta(refusal))
        tool_calls = delta.get("tool_calls")
        if tool_calls and isinstance(tool_calls, list):
            _add_tool_calls(events, tool_calls)
    finish_reason = choice.get("finish_reason")
    if finish_reason and isinstance(finish_reason, str):
        events.append(Finished(finish_reason))


def _add_tool_calls(events: list[StreamEvent], tool_calls: list[Any]) -> None:
    """`delta.tool_calls` (or a whole message's `tool_calls`): pieces by `index`; a server
    that leaves the index out sends one call at a time, or numbers them by position."""
    for position, call in enumerate(tool_calls):
        if not isinstance(call, dict):
            continue
        index = call.get("index")
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # some servers send an object, not its JSON text
            arguments = json.dumps(arguments)
        events.append(
            ToolCallDelta(
                index if type(index) is int else position,
                _text(call.get("id")),
                _text(function.get("name")),
                arguments if isinstance(arguments, str) else "",
            )
        )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class CompletionsEvents:
    """Reads the events of a Chat Completions stream (see `tui.stream_reading`)."""

    def read(self, event: ServerEvent) -> list[StreamEvent | EndOfStream]:
        if event.type == "error":
            return [Failed(error_event(event.data))]
        if event.data.strip() == DONE_SENTINEL:
            return [EndOfStream()]
        return events_from_chunk(parse_object(event.data))  # type: ignore[return-value]

    def read_body(self, body: dict[str, Any]) -> list[StreamEvent | EndOfStream]:
        return [*events_from_completion(body), EndOfStream()]

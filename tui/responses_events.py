"""What the Responses API's streaming events say, as typed stream events.

OpenAI's reasoning models show nothing of their thinking through Chat Completions; the
Responses API streams a summary of it (`response.reasoning_summary_text.delta`, when the
request asks for `reasoning.summary`), shown in the Thinking block like any server's
reasoning. Read from the raw JSON, like Chat Completions (see `tui.completions_events`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tui.chat.events import (
    ContentDelta,
    Failed,
    Finished,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UsageReport,
)
from tui.chat.message import Usage
from tui.completions_events import bounded_count, error_event, error_in, stream_error
from tui.event_stream import ServerEvent
from tui.stream_reading import EndOfStream, Unreadable, parse_object

_TEXT = {"response.output_text.delta", "response.refusal.delta"}
_THINKING = {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


class ResponsesEvents:
    """Reads the events of a Responses API stream (see `tui.stream_reading`)."""

    def read(self, event: ServerEvent) -> list[StreamEvent | EndOfStream]:
        if event.type == "error":
            return [Failed(error_event(event.data))]
        data = parse_object(event.data)
        kind = data.get("type") or event.type
        if not isinstance(kind, str):
            raise Unreadable
        if kind in _TEXT or kind in _THINKING:
            delta = data.get("delta")
            if not isinstance(delta, str) or not delta:
                return []
            return [ContentDelta(delta) if kind in _TEXT else ReasoningDelta(delta)]
        if kind == "response.function_call_arguments.delta":
            index, delta = data.get("output_index"), data.get("delta")
            if type(index) is int and isinstance(delta, str) and delta:
                return [ToolCallDelta(index, arguments=delta)]
            return []
        if kind == "response.output_item.added":
            item, index = data.get("item"), data.get("output_index")
            if (
                isinstance(item, dict)
                and item.get("type") == "function_call"
                and type(index) is int
            ):
                return [_function_call(index, item)]
            return []
        if kind == "response.reasoning_summary_part.added" and data.get("summary_index"):
            return [ReasoningDelta("\n\n")]  # the summary's next paragraph
        if kind in ("response.completed", "response.incomplete"):
            return [*_ending(data.get("response")), EndOfStream()]
        if kind == "response.failed":
            response = data.get("response")
            error = response.get("error") if isinstance(response, dict) else None
            return [Failed(stream_error(error or "the response failed"))]
        if kind == "error" or (error := error_in(data)) is not None:
            return [Failed(stream_error(data))]  # also a proxy's {"error": ...}, older vLLM's
        return []

    def read_body(self, body: dict[str, Any]) -> list[StreamEvent | EndOfStream]:
        """A whole `response` object, from a server that ignored `stream: true`."""
        if body.get("error"):
            return [Failed(stream_error(body["error"]))]
        events: list[StreamEvent | EndOfStream] = []
        output = body.get("output")
        for item in output if isinstance(output, list) else []:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "reasoning":
                events.extend(ReasoningDelta(text) for text in _texts(item.get("summary")))
            elif item.get("type") == "message":
                events.extend(ContentDelta(text) for text in _texts(item.get("content")))
            elif item.get("type") == "function_call":
                events.append(_function_call(len(events), item))
        if body.get("status") in ("completed", "incomplete"):
            events.extend(_ending(body))
        else:
            events.extend(_usage(body))
        return [*events, EndOfStream()]


def _ending(response: object) -> Iterator[StreamEvent]:
    if not isinstance(response, dict):
        yield Finished("stop")
        return
    yield from _usage(response)
    details = response.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    if response.get("status") == "incomplete":
        yield Finished(_INCOMPLETE_REASONS.get(str(reason), str(reason or "length")))
    else:
        yield Finished("stop")


def _usage(response: dict[str, Any]) -> Iterator[StreamEvent]:
    usage = response.get("usage")
    if isinstance(usage, dict):
        prompt, completion = usage.get("input_tokens"), usage.get("output_tokens")
        if type(prompt) is int and type(completion) is int:  # not True, not 1.5
            yield UsageReport(Usage(bounded_count(prompt), bounded_count(completion)))


def _texts(parts: object) -> Iterator[str]:
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, dict):
            text = part.get("text") or part.get("refusal")
            if isinstance(text, str) and text:
                yield text


def _function_call(index: int, item: dict[str, Any]) -> ToolCallDelta:
    call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments")
    return ToolCallDelta(
        index,
        call_id if isinstance(call_id, str) else "",
        name if isinstance(name, str) else "",
        arguments if isinstance(arguments, str) else "",
    )


def responses_input(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions history (see `tui.chat.wire`) as Responses API input: an assistant
    turn's tool calls become `function_call` items, a `tool` message its
    `function_call_output`."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id", ""),
                    "output": message.get("content") or "",
                }
            )
            continue
        calls = message.get("tool_calls")
        if role == "assistant" and calls:
            if message.get("content"):
                items.append({"role": "assistant", "content": message["content"]})
            for call in calls:
                function = call.get("function", {})
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call.get("id", ""),
                        "name": function.get("name", ""),
                        "arguments": function.get("arguments", "{}"),
                    }
                )
            continue
        content = message.get("content")
        if isinstance(content, list):  # text and images
            message = {**message, "content": [_input_part(part) for part in content]}
        items.append(message)
    return items


def _input_part(part: dict[str, Any]) -> dict[str, Any]:
    if part.get("type") == "image_url":
        return {"type": "input_image", "image_url": part["image_url"]["url"]}
    return {"type": "input_text", "text": part.get("text", "")}


def responses_tools(tools: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions tool definitions in the Responses API's flat shape."""
    return [{"type": "function", **tool.get("function", {})} for tool in tools]

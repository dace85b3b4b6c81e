"""A conversation's history in the Chat Completions wire format, tool rounds included.

A reply that used tools is one message of rounds (see `tui.chat.parts`); on the wire each
round is an assistant turn carrying its `tool_calls`, then one `tool` message per call with
the matching id. Every call gets a result on the wire, even one that never finished: the
API refuses a history with an unanswered call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tui.chat.message import Message, Role
from tui.chat.parts import TextPart, ToolCallPart, ToolOutcome, ToolResultPart

RESULT_LIMIT = 50_000
"""Characters of a tool's output the model is sent; the store keeps all of it."""

_SAID_INSTEAD = {
    ToolOutcome.DENIED: "The user denied this call; it did not run.",
    ToolOutcome.STOPPED: "The user stopped this call before it finished.",
    ToolOutcome.INTERRUPTED: "The call did not finish: the app was closed while it ran.",
}


def wire_messages(
    system_prompt: str | None, history: Iterable[Message], result_limit: int = RESULT_LIMIT
) -> list[dict[str, Any]]:
    """The history as the API takes it. Partial replies are sent as they stand (the user
    saw them); reasoning is never sent back, and replies with nothing in them (a failed
    request) are left out because empty assistant turns confuse many servers."""
    wire: list[dict[str, Any]] = []
    if system_prompt:
        wire.append({"role": Role.SYSTEM.value, "content": system_prompt})
    for message in history:
        if message.role is not Role.ASSISTANT:
            wire.append({"role": message.role.value, "content": _content(message)})
        elif any(isinstance(part, ToolCallPart) for part in message.parts):
            wire.extend(_rounds(message, result_limit))
        elif content := message.content:
            wire.append({"role": Role.ASSISTANT.value, "content": content})
    return wire


def _content(message: Message) -> str | list[dict[str, Any]]:
    """A prompt's text, or its text and images as content parts (data URLs)."""
    images = message.images
    if not images:
        return message.content
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "text": message.content})
    for image in images:
        parts.append({"type": "image_url", "image_url": {"url": image.data_url()}})
    return parts


def _rounds(message: Message, result_limit: int) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[ToolCallPart] = []
    results: dict[str, ToolResultPart] = {}
    after_results = False

    def close_round() -> None:
        text = "\n\n".join(t for t in texts if t)
        if calls:
            wire.append(
                {
                    "role": Role.ASSISTANT.value,
                    "content": text or None,
                    "tool_calls": [_call(call) for call in calls],
                }
            )
            for call in calls:
                output = model_copy(results.get(call.call_id), result_limit)
                wire.append({"role": "tool", "tool_call_id": call.call_id, "content": output})
        elif text:
            wire.append({"role": Role.ASSISTANT.value, "content": text})
        texts.clear()
        calls.clear()
        results.clear()

    for part in message.parts:
        if isinstance(part, ToolResultPart):
            results[part.call_id] = part
            after_results = True
            continue
        if after_results and isinstance(part, TextPart | ToolCallPart):
            close_round()
            after_results = False
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ToolCallPart):
            calls.append(part)
    close_round()
    return wire


def _call(call: ToolCallPart) -> dict[str, Any]:
    return {
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments_or_empty(call.arguments)},
    }


def arguments_or_empty(arguments: str) -> str:
    """The arguments as sent back: the model's own text when it is a JSON object, else
    `{}` (strict servers refuse a history with broken JSON in it; the result says why the
    call failed)."""
    try:
        return arguments if isinstance(json.loads(arguments), dict) else "{}"
    except ValueError:
        return "{}"


def model_copy(result: ToolResultPart | None, limit: int = RESULT_LIMIT) -> str:
    """What the model is told a call gave: the output (cut to `limit` characters, with a
    note saying so), or what happened instead."""
    if result is None:
        return _SAID_INSTEAD[ToolOutcome.INTERRUPTED]
    if result.outcome in _SAID_INSTEAD:
        return _SAID_INSTEAD[result.outcome]
    output = result.output
    if len(output) > limit:
        output = (
            f"{output[:limit]}\n[Output cut: {len(result.output):,} characters in all, the "
            f"first {limit:,} shown.]"
        )
    if result.outcome is ToolOutcome.TOOL_ERROR:
        return f"The tool reported an error: {output}"
    if result.outcome is ToolOutcome.FAILED:
        return f"The call failed: {output}"
    return output

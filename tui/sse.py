"""Decodes the `data:` lines of an OpenAI-style server-sent event stream.

Parsing the raw lines ourselves, instead of letting the SDK build a pydantic model per
chunk, keeps per-token cost low (the SDK's models cost most of a core at 2,000 tok/s)
and lets odd frames (empty keep-alives, bad JSON, missing fields) be skipped, not fatal.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from tui.chat.events import (
    ChatError,
    ContentDelta,
    Failed,
    Finished,
    ReasoningDelta,
    StreamEvent,
    UsageReport,
)
from tui.chat.message import Usage

DONE_SENTINEL = "[DONE]"


class StreamDone(Exception):
    """Raised by `events_from_line` on `data: [DONE]`: the server says the stream ended."""


@dataclass(frozen=True, slots=True)
class EndOfStream:
    """`data: [DONE]` arrived: everything before it was the whole reply."""


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # SSE allows all three


async def read_events(
    byte_chunks: AsyncIterator[bytes],
) -> AsyncIterator[StreamEvent | EndOfStream]:
    """The events of a response body, read as it arrives, ending at `[DONE]` if it comes.

    Consecutive deltas of one network read become one event (their `chunks` say how many
    were merged). A fast server puts hundreds of chunks in a read, and every event costs
    a trip through the backend's and the screen's generators and bookkeeping: 8,000
    one-token chunks took 0.2 s to read one by one."""
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")
    partial = ""
    async for data in byte_chunks:
        lines = _LINE_BREAK.split(partial + utf8.decode(data))
        partial = lines.pop()
        events, done = _events_from_lines(lines)
        for event in events:
            yield event
        if done:
            yield EndOfStream()
            return
    events, done = _events_from_lines([partial + utf8.decode(b"", final=True)])
    for event in events:
        yield event
    if done:
        yield EndOfStream()


def _events_from_lines(lines: list[str]) -> tuple[list[StreamEvent], bool]:
    """The events of complete lines, deltas merged, and whether `[DONE]` was among them."""
    events: list[StreamEvent] = []
    texts: list[str] = []  # of the delta run at the end of `events`
    chunks = 0
    done = False

    def close_run() -> None:
        nonlocal chunks
        if texts:
            kind = type(events[-1])
            events[-1] = kind("".join(texts), chunks)  # type: ignore[call-arg, arg-type]
            texts.clear()
            chunks = 0

    for line in lines:
        try:
            for event in events_from_line(line):
                if isinstance(event, ContentDelta | ReasoningDelta):
                    if texts and type(event) is type(events[-1]):
                        texts.append(event.text)
                        chunks += 1
                        continue
                    close_run()
                    texts.append(event.text)
                    chunks = 1
                else:
                    close_run()
                events.append(event)
        except StreamDone:
            done = True
            break
    close_run()
    return events, done


def events_from_line(line: str) -> Iterator[StreamEvent]:
    """Turns one SSE line into the events it carries; anything unusable is ignored."""
    if not line.startswith("data:"):
        return  # comments (": keep-alive"), "event:", "id:", blank separators
    payload = line[5:].strip()
    if not payload:
        return
    if payload == DONE_SENTINEL:
        raise StreamDone
    try:
        chunk = json.loads(payload)
    except ValueError:
        return
    if not isinstance(chunk, dict):
        return
    yield from events_from_chunk(chunk)


def events_from_chunk(chunk: dict[str, Any]) -> Iterator[StreamEvent]:
    error = chunk.get("error")
    if error:
        yield Failed(error_from_stream_payload(error))
        return
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices:
        choice = choices[0]
        if isinstance(choice, dict):
            yield from _events_from_choice(choice)
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        prompt = usage.get("prompt_tokens")
        completion = usage.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            yield UsageReport(Usage(bounded_count(prompt), bounded_count(completion)))


LARGEST_COUNT = 2**63 - 1


def bounded_count(number: int) -> int:
    """A count from a server, kept within what SQLite and arithmetic can hold: numbers from
    servers are untrusted (2**70 made a reply unsavable)."""
    return max(0, min(number, LARGEST_COUNT))


def _events_from_choice(choice: dict[str, Any]) -> Iterator[StreamEvent]:
    delta = choice.get("delta")
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


def error_from_stream_payload(error: object) -> ChatError:
    """A mid-stream `{"error": ...}` event, told with the server's own words."""
    message = ""
    if isinstance(error, dict):
        message = str(error.get("message") or error.get("type") or "")
    elif isinstance(error, str):
        message = error
    return ChatError(
        title="The server reported an error mid-reply",
        detail=message or "no details given",
        hint="Press Ctrl+R to try again.",
    )

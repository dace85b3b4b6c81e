"""Reads one request's stream into a reply: text, thinking, tool calls, usage, the end.

The session's hot path: every delta passes here, so the text is gathered in lists and
moved into the reply's parts at most every `SAVE_INTERVAL`, or sooner once `SAVE_CHARS`
have come (when it is also stored).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Callable

from tui.chat.events import (
    ChatError,
    ContentDelta,
    Failed,
    Finished,
    ReasoningDelta,
    SkippedEvents,
    StreamEvent,
    ToolCallDelta,
    UsageReport,
)
from tui.chat.message import Message, MessageStatus, Usage
from tui.chat.session_events import ReplyProgress, SessionEvent, ToolsChanged
from tui.error_words import summary
from tui.tool_calls import StreamedCalls

SAVE_INTERVAL = 0.5
"""A streaming reply reaches the database at most this often: a crash loses at most this."""
SAVE_CHARS = 1 << 20
"""...and once this many characters have come since the last save (checked at each event,
so a save holds at most this and one event's worth more): a save indexes what came for
search, on the event loop, and a server pouring 30 MB/s put 15 MB in one save (150-170 ms
held; 1 MB takes 10-30 ms). It also bounds what a crash loses of a reply that pours in."""


async def read_round(
    events: AsyncGenerator[StreamEvent, None],
    reply: Message,
    started: float,
    emit: Callable[[SessionEvent], None],
    save: Callable[[Message], None],
) -> ChatError | None:
    """Reads `events` into `reply`, telling observers each event; returns the error the
    stream ended with, if any."""
    text: list[str] = []
    thinking: list[str] = []
    calls = StreamedCalls(reply)
    error: ChatError | None = None
    next_save = time.monotonic() + SAVE_INTERVAL
    unsaved = 0
    try:
        # Closed on every way out: an observer's error (a closed stdout in pipe mode) left
        # the request open, to be finalized by the garbage collector (with a traceback).
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, ContentDelta | ReasoningDelta):
                    if reply.time_to_first_token is None:
                        reply.time_to_first_token = time.monotonic() - started
                    (text if isinstance(event, ContentDelta) else thinking).append(event.text)
                    unsaved += len(event.text)
                elif isinstance(event, ToolCallDelta):
                    take_pieces(reply, text, thinking)  # the text before the call first
                    calls.add(event)
                    emit(ToolsChanged(reply))
                elif isinstance(event, UsageReport):
                    reply.usage = _added(reply.usage, event.usage)
                elif isinstance(event, Finished):
                    reply.finish_reason = event.reason
                    reply.status = MessageStatus.DONE
                elif isinstance(event, Failed):
                    error = event.error
                    reply.status = MessageStatus.ERROR
                    reply.error = summary(error)
                elif isinstance(event, SkippedEvents):
                    reply.skipped_events += event.count
                emit(ReplyProgress(reply, event))
                now = time.monotonic()
                if now >= next_save or unsaved >= SAVE_CHARS:
                    next_save = now + SAVE_INTERVAL
                    unsaved = 0
                    take_pieces(reply, text, thinking)
                    save(reply)
    finally:
        take_pieces(reply, text, thinking)
    return error


def take_pieces(reply: Message, text: list[str], thinking: list[str]) -> None:
    """Moves what streamed in since the last call into the reply's parts, in one append
    per part (joining the whole reply at every save would cost its length each time)."""
    if thinking:
        reply.add_reasoning("".join(thinking))
        thinking.clear()
    if text:
        reply.add_text("".join(text))
        text.clear()


def _added(before: Usage | None, usage: Usage) -> Usage:
    """A reply of several rounds costs what all its requests cost."""
    if before is None:
        return usage
    return Usage(
        before.prompt_tokens + usage.prompt_tokens,
        before.completion_tokens + usage.completion_tokens,
    )

"""Reads a reply's response body, whatever the server sent, into stream events that always
end with `Finished` or `Failed`.

Most servers send an event stream; some ignore `stream: true` and send one JSON body, and
a proxy or a wrong base URL sends an HTML page. The first bytes tell which. Each API
(`tui.completions_events`, `tui.responses_events`) says what its events mean; what is
common is here: deltas that arrive in one read become one event (a fast server puts
hundreds in a read, and each event costs a trip through the session and the screen),
events that cannot be read are counted and said at the end, and the end is judged: a
finish reason, an error, an end with text but no finish (cut short), or nothing at all
(an empty reply, said as such).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, Protocol

from tui.chat.events import (
    ChatError,
    ContentDelta,
    ErrorKind,
    Failed,
    Finished,
    ReasoningDelta,
    SkippedEvents,
    StreamEvent,
    ToolCallDelta,
)
from tui.event_stream import EventStreamDecoder, ServerEvent
from tui.frozen import frozen

LARGEST_BODY = 64_000_000
"""Bytes of a whole JSON body read before giving up on it."""
HTML_SNIFFED = 65_536


@frozen(slots=True)
class EndOfStream:
    """The server said the reply is complete (`[DONE]`, `response.completed`)."""


class Unreadable(Exception):
    """An event's data is not what its API sends (not JSON, too deeply nested, a list)."""


class EventsOfAnApi(Protocol):
    def read(self, event: ServerEvent) -> list[StreamEvent | EndOfStream]:
        """The events one server event carries; raises `Unreadable`."""
        ...

    def read_body(self, body: dict[str, Any]) -> list[StreamEvent | EndOfStream]:
        """The events of a whole (non-streamed) response body."""
        ...


_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The decoder's own scanner, which `json.loads` calls after two regex searches for
whitespace and three Python calls: 2.3 µs a chunk against 4.1, and there is one per
token. Anything it does not read whole is read again by `json.loads`."""


def parse_object(data: str | bytes) -> dict[str, Any]:
    value: Any = None
    if type(data) is str:
        try:  # not contextlib.suppress: it costs a microsecond a call
            value, end = _scan_json(data, 0)
            if end != len(data):  # whitespace around it, or more after it
                value = None
        except (StopIteration, ValueError, RecursionError):
            pass
    if value is None:
        try:
            value = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise Unreadable from error
    if not isinstance(value, dict):
        raise Unreadable
    return value


class ReplyReader:
    """One body's reading: what it carried so far, to judge how it ended."""

    def __init__(self, api: EventsOfAnApi) -> None:
        self.api = api
        self.received_text = False
        self.finish_reason: str | None = None
        self.said_complete = False
        self.skipped = 0

    async def events(self, body: AsyncIterator[bytes]) -> AsyncIterator[StreamEvent]:
        first = b""
        async for data in body:
            first += data
            if first.lstrip(b"\xef\xbb\xbf \t\r\n"):
                break
        head = first.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if head in (b"{", b"["):
            source = self._whole_body(first, body)
        elif head == b"<":
            source = self._html(first, body)
        else:
            source = self._stream(first, body)
        end: StreamEvent | None = None
        async for event in source:
            if isinstance(event, Failed):
                end = event
                break
            yield event
        await source.aclose()
        if self.skipped:
            yield SkippedEvents(self.skipped)
        yield end or from_end(self)

    async def _stream(
        self, first: bytes, body: AsyncIterator[bytes]
    ) -> AsyncGenerator[StreamEvent]:
        decoder = EventStreamDecoder()
        try:
            pieces = decoder.feed(first)
            while True:
                for event in self._read(pieces):
                    yield event
                if self.said_complete:
                    break
                try:
                    pieces = decoder.feed(await anext(body))
                except StopAsyncIteration:
                    for event in self._read(decoder.end()):
                        yield event
                    break
        finally:  # also when closed after an error: the count is said before it
            self.skipped += decoder.oversized

    def _read(self, pieces: list[ServerEvent]) -> list[StreamEvent]:
        """The events of one read, consecutive deltas of a kind merged; stops at the end
        the server announces (and at an error)."""
        events: list[StreamEvent] = []
        for piece in pieces:
            try:
                read = self.api.read(piece)
            except (Unreadable, TypeError, AttributeError, ValueError):
                # A shape no server should send ({"type": [1]}): left out, never a crash.
                self.skipped += 1
                continue
            for event in read:
                if type(event) is ContentDelta or type(event) is ReasoningDelta:
                    self.received_text = True  # the common case, first
                    events.append(event)
                elif isinstance(event, EndOfStream):
                    self.said_complete = True
                    return merged(events)
                elif self._note(event):
                    events.append(event)
                    if isinstance(event, Failed):
                        return merged(events)
        return merged(events)

    def _note(self, event: StreamEvent) -> bool:
        """Keeps what judging the end needs; False for events held until the end."""
        if isinstance(event, ContentDelta | ReasoningDelta | ToolCallDelta):
            self.received_text = True
        elif isinstance(event, Finished):
            self.finish_reason = event.reason
            return False
        return True

    async def _whole_body(
        self, first: bytes, body: AsyncIterator[bytes]
    ) -> AsyncGenerator[StreamEvent]:
        data = bytearray(first)
        async for piece in body:
            data += piece
            if len(data) > LARGEST_BODY:
                yield Failed(
                    ChatError(ErrorKind.NOT_A_STREAM, f"a JSON body over {LARGEST_BODY:,} bytes")
                )
                return
        try:
            value = parse_object(bytes(data).lstrip(b"\xef\xbb\xbf \t\r\n"))
            read = self.api.read_body(value)
        except (Unreadable, TypeError, AttributeError, ValueError):
            start = bytes(data[:200]).decode("utf-8", "replace")
            yield Failed(ChatError(ErrorKind.NOT_A_STREAM, f"a body that is not a reply: {start}"))
            return
        for event in read:
            if isinstance(event, EndOfStream):
                self.said_complete = True
            elif self._note(event):
                yield event

    async def _html(self, first: bytes, body: AsyncIterator[bytes]) -> AsyncGenerator[StreamEvent]:
        data = bytearray(first)
        async for piece in body:
            data += piece
            if len(data) > HTML_SNIFFED:
                break
        text = bytes(data[:HTML_SNIFFED]).decode("utf-8", "replace")
        title = _HTML_TITLE.search(text)
        named = f' ("{" ".join(title.group(1).split())[:120]}")' if title else ""
        yield Failed(ChatError(ErrorKind.NOT_A_STREAM, f"an HTML page{named}"))


_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def from_end(reader: ReplyReader) -> StreamEvent:
    """How the stream ended, judged on what it carried. A stream with nothing in it is an
    empty reply, even after `[DONE]`."""
    if reader.finish_reason is not None:
        return Finished(reader.finish_reason)
    if not reader.received_text:
        return Failed(ChatError(ErrorKind.EMPTY_REPLY))
    if reader.said_complete:
        return Finished("stop")
    return Failed(ChatError(ErrorKind.ENDED_EARLY))


def merged(events: list[StreamEvent]) -> list[StreamEvent]:
    """Consecutive deltas of one kind as one event that counts them (joined once per run:
    a fast server puts hundreds of one-token chunks in a read)."""
    out: list[StreamEvent] = []
    run: list[ContentDelta | ReasoningDelta] = []

    def close_run() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            kind = type(run[0])
            out.append(kind("".join(d.text for d in run), sum(d.chunks for d in run)))
        run.clear()

    for event in events:
        if isinstance(event, ContentDelta | ReasoningDelta):
            if run and type(run[0]) is not type(event):
                close_run()
            run.append(event)
        else:
            close_run()
            out.append(event)
    close_run()
    return out

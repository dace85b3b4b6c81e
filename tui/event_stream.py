"""Server-sent events, decoded exactly as the WHATWG HTML standard defines them.

Written here rather than taken from `httpx2.EventSource` (which follows the same algorithm)
for three reasons, measured in `benchmarks/sse_reader.py`: it is faster per event on the
path every token takes; it reads bodies whatever their content type says (servers label
event streams `text/plain` or `application/json`); and it keeps the one non-standard
field real servers send, `error:` (older llama.cpp builds), which a spec reader drops.

What the spec says, and this does:
- an event is dispatched at the blank line that ends it, not per line; its `data:` lines
  are joined with a newline; a block with no `data:` line dispatches nothing;
- after a field's colon exactly one space is removed; a line with no colon is a field
  with an empty value; `event:` sets the type (default "message"), `id:` the last event
  id (unless it holds a NUL), `retry:` the reconnection time (digits only); any other
  field is ignored;
- a line starting with `:` is a comment (counted: it shows the server is alive);
- CR, LF and CRLF all end a line, also when a CRLF is split across two reads; one
  byte-order mark at the very start is dropped; bytes that are not UTF-8 become U+FFFD;
- at the end of the body an event without its blank line is discarded.

Beyond the spec: an `error:` field is read as `event: error` with that value as its data;
an event larger than `LARGEST_EVENT` characters is dropped and counted in `oversized`,
so a hostile server cannot make it hold unbounded memory.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

LARGEST_EVENT = 32_000_000
"""Characters of one event's data (a real 1 MB delta is far below; 32 MB is not a reply)."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"


class ServerEvent(NamedTuple):
    """A named tuple, not a frozen dataclass: one is made per token, and a frozen
    dataclass's `__init__` costs several times a tuple's."""

    type: str
    data: str


class EventStreamDecoder:
    """Fed a body's bytes as they arrive; returns the events each read completes."""

    def __init__(self, largest_event: int = LARGEST_EVENT) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._largest = largest_event
        self._at_start = True
        self._partial: list[str] = []
        """The pieces of the line being read, not ended yet: joined once it ends (joining
        and splitting it again at every read made a long line cost its square)."""
        self._partial_size = 0
        self._skipping_line = False
        """The line being read grew past `largest_event`: the rest of it is dropped."""
        self._after_cr = False
        """The last read ended with CR: an LF starting the next one belongs to it."""
        self._data: list[str] = []
        self._size = 0
        self._type = ""
        self._too_big = False
        self.last_event_id = ""
        self.retry: int | None = None
        self.comments = 0
        self.oversized = 0

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        return self._lines(self._utf8.decode(chunk))

    def end(self) -> list[ServerEvent]:
        """The body ended: a last line without its line break still counts as a line, but
        an event without its blank line is discarded, as the spec says."""
        events = self._lines(self._utf8.decode(b"", final=True))
        if self._partial or self._skipping_line:
            events += self._lines("\n")
        self._data, self._size, self._type, self._too_big = [], 0, "", False
        return events

    def _lines(self, text: str) -> list[ServerEvent]:
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            if text.startswith(_BOM):
                text = text[1:]
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
            if not text:
                return []
        self._after_cr = text.endswith("\r")
        # Servers end lines with LF: str.split is ten times the regex's speed.
        lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
        rest = lines.pop()
        if lines:  # the line being read ended in this text
            if self._skipping_line:
                self._skipping_line = False
                lines.pop(0)  # the end of the dropped line
            elif self._partial:
                lines[0] = "".join(self._partial) + lines[0]
            self._partial, self._partial_size = [], 0
        if rest and not self._skipping_line:
            self._partial.append(rest)
            self._partial_size += len(rest)
            if self._partial_size > self._largest:
                self._partial, self._partial_size = [], 0
                self._skipping_line = True  # the rest of this line is dropped with its event
                self._too_big = True
        events: list[ServerEvent] = []
        for line in lines:
            if line.startswith("data:"):  # the line nearly every event has: first
                value = line[6:] if line.startswith(" ", 5) else line[5:]
                self._add_data(value)
            elif not line:
                if self._too_big:
                    self.oversized += 1
                elif self._data:
                    events.append(ServerEvent(self._type or "message", "\n".join(self._data)))
                self._data, self._size, self._type, self._too_big = [], 0, "", False
            elif line.startswith(":"):
                self.comments += 1
            else:
                self._field(line)
        return events

    def _add_data(self, value: str) -> None:
        self._size += len(value) + 1
        if self._size > self._largest:
            self._too_big = True
            self._data = []
        elif not self._too_big:
            self._data.append(value)

    def _field(self, line: str) -> None:
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":  # "data" with no colon: an empty data line
            self._add_data(value)
        elif name == "event":
            self._type = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.retry = int(value)
        elif name == "error":
            self._type = "error"
            self._add_data(value)

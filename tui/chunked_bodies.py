"""A chunked HTTP body handed over a read at a time, not a chunk at a time.

Servers stream a reply one HTTP chunk per token, and the official client's stack (h11,
httpcore2, httpx2, openai) passes each chunk up as its own event: h11's state machine and
some ten async generators, about 25 µs a chunk. When a fast server has sent
thousands of them, a 64 KB read holds some 400 chunks, and reading 8,000 tokens cost
0.2 CPU-s before tui-chat saw a byte of them (`benchmarks/README.md`).

`CoalescingChunkedReader` is h11's own chunked reader, which reads the first chunk as
always; then it takes every further chunk whose data is all in the buffer at once and
hands the lot over as one `Data` event. It accepts exactly what h11 accepts: anything
else (a chunk not all there yet, the last chunk and its trailer, a malformed line) is left
in the buffer for h11's reader at the next call, so the bytes delivered, and the error
raised after them, are h11's (the event's `chunk_start` and `chunk_end` then span several
chunks; httpcore2 reads neither). It is installed for the whole process, and only on the h11
versions its test has seen (`h11._readers` is private); on any other, h11 reads as it does.
"""

from __future__ import annotations

from typing import Any

import h11
from h11._events import Data
from h11._readers import READERS, ChunkedReader, chunk_header_re
from h11._receivebuffer import ReceiveBuffer
from h11._state import SEND_BODY

TESTED_H11 = ("0.16.",)
"""h11 versions whose private reader this subclass has been checked against."""


def read_chunked_bodies_a_read_at_a_time() -> bool:
    """Installs the coalescing reader for every h11 connection made from now on (import
    this module when the client library loads: h11 comes with it); False, and nothing
    changed, on an h11 version not tested with it."""
    if not h11.__version__.startswith(TESTED_H11):
        return False
    readers: Any = READERS[SEND_BODY]
    readers["chunked"] = CoalescingChunkedReader
    return True


class CoalescingChunkedReader(ChunkedReader):
    def __call__(self, buf: ReceiveBuffer) -> Any:
        event = super().__call__(buf)
        if type(event) is not Data or not event.chunk_end or not buf:
            return event
        more = _complete_chunks(buf)
        if not more:
            return event
        more.insert(0, event.data)
        return Data(data=b"".join(more), chunk_start=event.chunk_start, chunk_end=True)


def _complete_chunks(buf: ReceiveBuffer) -> list[bytes]:
    """Takes from `buf` every chunk whose data is all there, from just after a chunk's
    data (its CRLF not yet read, as h11 leaves it); the last one's CRLF stays, as h11
    would leave it. The last chunk (size 0) is left to h11, with its trailer."""
    data = bytes(buf)
    end = len(data)
    pieces: list[bytes] = []
    at = 0  # where the CRLF after the last chunk taken starts
    while data[at : at + 2] == b"\r\n":
        line_end = data.find(b"\r\n", at + 2)
        if line_end < 0:
            break
        header = chunk_header_re.fullmatch(data, at + 2, line_end + 2)
        if header is None:
            break
        size = int(header["chunk_size"], 16)
        start = line_end + 2
        if size == 0 or start + size > end:
            break
        pieces.append(data[start : start + size])
        at = start + size
    if at:
        buf.maybe_extract_at_most(at)
    return pieces

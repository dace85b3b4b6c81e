"""A chunked body comes a read at a time, with exactly the bytes and errors h11 gives."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import h11
import pytest
from h11._readers import READERS, ChunkedReader
from h11._state import SEND_BODY

from tests.openai_server import OpenAIStyleServer, StreamReply
from tui.backend import ChatBackend
from tui.chunked_bodies import CoalescingChunkedReader, read_chunked_bodies_a_read_at_a_time
from tui.config import Settings

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@contextmanager
def chunked_reader(reader: type) -> Iterator[None]:
    readers: Any = READERS[SEND_BODY]
    before = readers["chunked"]
    readers["chunked"] = reader
    try:
        yield
    finally:
        readers["chunked"] = before


def receive(body: bytes, reads: list[int], *, closed: bool = True) -> tuple[list[bytes], str]:
    """The body's Data events as a client's h11 connection gives them, the body fed in
    reads of the sizes given (the rest in one), and how it ended."""
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(HEAD)
    assert isinstance(connection.next_event(), h11.Response)
    fed = 0
    splits = [*reads, len(body)]
    data: list[bytes] = []
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as error:
            return data, f"error: {error}"
        if event is h11.NEED_DATA:
            if fed >= len(body):
                if not closed:
                    return data, "waiting"
                connection.receive_data(b"")
                continue
            size = splits.pop(0) if splits else len(body)
            connection.receive_data(body[fed : fed + size])
            fed += size
        elif isinstance(event, h11.Data):
            data.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return data, f"end: {event.headers}"
        else:
            return data, f"other: {event!r}"


def random_body(rng: random.Random) -> bytes:
    """A chunked body as servers write them, or as a broken one does."""
    parts = []
    for _ in range(rng.randint(0, 40)):
        payload = rng.randbytes(rng.randint(1, 60)) + rng.choice([b"", b"\r\n", b"\n", b"\r"])
        size = rng.choice(["%x", "%X", "%04x"]) % len(payload)
        extension = rng.choice(["", "", ";name=value", ";x", "  ", "\t"])
        footer = rng.choice([b"\r\n"] * 12 + [b"\n", b"\r", b"\r\r\n", b"x\r\n", b""])
        parts.append(f"{size}{extension}\r\n".encode() + payload + footer)
    ending = rng.choice(
        [
            "0\r\n\r\n",
            "0\r\n\r\n",
            "0\r\nTrailer: yes\r\n\r\n",
            "",
            "0\r\n",
            "00\r\n\r\n",
            "0\r\nbad\r\n\r\n",
        ]
    )
    body = b"".join(parts) + ending.encode()
    damage = rng.random()
    if damage < 0.15 and body:  # a byte of it broken
        at = rng.randrange(len(body))
        body = body[:at] + rng.choice([b"Z", b"\n", b";", b"\r"]) + body[at + 1 :]
    elif damage < 0.25 and body:  # cut short
        body = body[: rng.randrange(len(body))]
    return body


def test_every_body_comes_as_h11_delivers_it_in_fewer_events() -> None:
    rng = random.Random(1234)
    for _ in range(1000):
        body = random_body(rng)
        reads = [rng.randint(1, 200) for _ in range(rng.randint(0, 8))]
        with chunked_reader(ChunkedReader):
            plain_data, plain_end = receive(body, reads)
        with chunked_reader(CoalescingChunkedReader):
            data, end = receive(body, reads)
        assert b"".join(data) == b"".join(plain_data), body
        assert end == plain_end, body
        assert len(data) <= len(plain_data)


def test_chunks_that_arrived_in_one_read_come_as_one_event() -> None:
    """A fast server's 64 KB read holds hundreds of one-token chunks; h11 handed them over
    one by one, each then going through the whole HTTP stack on its own."""
    tokens = [b'data: {"token": %d}\n\n' % index for index in range(400)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(token), token) for token in tokens)
    with chunked_reader(CoalescingChunkedReader):
        data, end = receive(body, [], closed=False)
    assert b"".join(data) == b"".join(tokens)
    assert end == "waiting"
    assert len(data) == 1


def test_a_chunk_still_arriving_ends_the_event_and_comes_as_it_completes() -> None:
    body = b"3\r\nabc\r\n5\r\nde"
    with chunked_reader(CoalescingChunkedReader):
        data, end = receive(body, [], closed=False)
    assert data == [b"abc", b"de"]
    assert end == "waiting"


async def test_a_stream_sent_at_once_reaches_the_reader_in_a_few_reads(
    server: OpenAIStyleServer,
) -> None:
    """Through the official client against a real server: 3,000 one-token chunks already
    in the socket come as a few pieces, not 3,000."""
    words = [f"w{index} " for index in range(3000)]
    server.queue(StreamReply(deltas=words))
    backend = ChatBackend(Settings(model="test-model", base_url=server.base_url, api_key="k"))
    client = backend._get_client()
    async with backend._request(client, [{"role": "user", "content": "Go"}], "test-model", ()) as (
        response
    ):
        for _ in range(200):
            if server.completed_streams:
                break
            await asyncio.sleep(0.01)
        assert server.completed_streams == 1
        pieces = [piece async for piece in response.aiter_bytes()]
    await backend.aclose()
    body = b"".join(pieces).decode()
    assert all(f'"w{index} "' in body for index in (0, 1500, 2999))
    assert len(pieces) < 50, f"{len(pieces)} pieces for 3,000 chunks"


def test_an_h11_it_was_not_checked_against_reads_as_h11_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(h11, "__version__", "0.17.0")
    with chunked_reader(ChunkedReader):
        assert not read_chunked_bodies_a_read_at_a_time()
        assert READERS[SEND_BODY]["chunked"] is ChunkedReader  # type: ignore[index]

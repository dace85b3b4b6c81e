"""Reading a body ahead: what has arrived comes at once, errors come after the data before
them, and nothing keeps reading once the reader stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from tui.read_ahead import HOLD, LARGEST_BACKLOG, PACE, TRICKLE_WINDOW, read_ahead


async def chunks_of(sent: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    """A body read from `sent` (what the socket holds) one HTTP chunk at a time, as httpx2
    hands them over; None ends it."""
    while (piece := await sent.get()) is not None:
        yield piece


async def trickle(sent: asyncio.Queue[bytes | None], pieces: int) -> None:
    """A server at 200 tok/s: a numbered piece every 5 ms."""
    for index in range(pieces):
        await asyncio.sleep(0.005)
        sent.put_nowait(b"%d " % index)


def numbered(pieces: int) -> bytes:
    return b"".join(b"%d " % index for index in range(pieces))


async def test_pieces_that_arrive_together_come_as_one_and_a_pause_splits_them() -> None:
    async def body() -> AsyncIterator[bytes]:
        for piece in (b"a", b"b", b"c"):
            yield piece
        await asyncio.sleep(0.01)
        yield b"d"

    received = [data async for data in read_ahead(body())]
    assert received == [b"abc", b"d"]


async def test_a_trickling_body_is_taken_a_few_pieces_at_a_time() -> None:
    """A server at 100-200 tok/s sends a piece every 5-10 ms; each one read and passed on
    alone woke the socket, the HTTP stack, the session and the screen for one token.
    Once the reading has caught up with the server, it waits a moment before reading
    again, and takes what came meanwhile at once."""

    sent: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def server() -> None:
        await trickle(sent, 60)
        sent.put_nowait(None)

    sending = asyncio.create_task(server())
    received = [data async for data in read_ahead(chunks_of(sent))]
    await sending
    assert b"".join(received) == numbered(60)
    assert len(received) <= 45, f"{len(received)} pieces for 60 that trickled in"


async def test_a_trickle_wakes_the_reader_once_per_pacing_wait() -> None:
    """The pieces read at once after a pacing wait go with the next piece that is waited
    for, in one take: handed over as they came, they woke the reader, the session and the
    screen twice per wait (2,000 tokens at 100 tok/s: 700 takes for 400 waits)."""
    sent: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def server() -> None:
        await trickle(sent, 100)
        sent.put_nowait(None)

    sending = asyncio.create_task(server())
    clock = asyncio.get_running_loop().time
    started = clock()
    received = [data async for data in read_ahead(chunks_of(sent))]
    took = clock() - started
    await sending
    assert b"".join(received) == numbered(100)
    waits = (took - TRICKLE_WINDOW) / PACE
    unknown_rate = TRICKLE_WINDOW / 0.005  # the first window's pieces go as they come
    assert len(received) <= unknown_rate + waits + 3, (
        f"{len(received)} takes: {waits:.0f} pacing waits after the first window"
    )


async def test_a_trickle_read_in_gathered_pieces_is_read_once_per_pacing_wait() -> None:
    """The HTTP body hands over every event buffered as one piece (`tui.chunked_bodies`):
    after a pacing wait, one read brings what came meanwhile. Reading again at once only
    waited for the next token, two more trips through the HTTP stack per wait (2,000
    tokens at 100 tok/s: 1,110 turns of the reading task, 790 without them)."""
    sent: asyncio.Queue[bytes | None] = asyncio.Queue()
    reads = 0

    async def gathered() -> AsyncIterator[bytes]:
        nonlocal reads
        while True:
            reads += 1
            queued = [await sent.get()]
            while not sent.empty():
                queued.append(sent.get_nowait())
            yield b"".join(piece for piece in queued if piece is not None)
            if None in queued:
                return

    async def server() -> None:
        # 100 tok/s, each event a line and a blank one, sent on the clock: a slow host
        # makes bigger gathered pieces, not a slower stream (read once per token).
        start = clock()
        for index in range(100):
            await asyncio.sleep(max(0.0, start + (index + 1) * 0.01 - clock()))
            sent.put_nowait(b"data: %d\n\n" % index)
        sent.put_nowait(None)

    clock = asyncio.get_running_loop().time
    sending = asyncio.create_task(server())
    started = clock()
    received = b"".join([data async for data in read_ahead(gathered())])
    took = clock() - started
    await sending
    assert received == b"".join(b"data: %d\n\n" % index for index in range(100))
    waits = (took - TRICKLE_WINDOW) / PACE
    unknown_rate = TRICKLE_WINDOW / 0.01  # the first window's pieces are read as they come
    assert reads <= unknown_rate + waits + 3, f"{reads} reads for {waits:.0f} pacing waits"


async def test_pieces_held_for_a_trickle_are_handed_over_though_nothing_follows() -> None:
    """A trickle's pieces read at once wait for the next piece; when it does not come (the
    model thinks, calls a tool, the server stalls) they go after a short hold anyway."""
    sent: asyncio.Queue[bytes | None] = asyncio.Queue()
    clock = asyncio.get_running_loop().time
    burst_sent = 0.0

    async def server() -> None:
        nonlocal burst_sent
        await trickle(sent, 30)  # long enough to be known as one
        await asyncio.sleep(0.005)
        burst_sent = clock()
        for piece in (b"x", b"y", b"z"):
            sent.put_nowait(piece)
        await asyncio.sleep(1.0)  # then nothing for a long while
        sent.put_nowait(None)

    sending = asyncio.create_task(server())
    arrivals = [(clock(), data) async for data in read_ahead(chunks_of(sent))]
    await sending
    burst_taken = next(at for at, data in arrivals if data.endswith(b"z"))
    late = burst_taken - burst_sent
    # They may have arrived during a pacing wait, then are held; not until the silence ends.
    assert late < PACE + HOLD + 0.3, f"the last pieces came {late * 1000:.0f} ms after they came"


async def test_a_first_piece_after_a_long_wait_does_not_hold_the_next_back() -> None:
    """A wait as long as the pacing's window (the first token, a pause to think, a
    stalled event loop) says nothing of the rate: taking it for a trickle held what came
    next back by a pacing wait, in streams of any speed."""
    sent: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def server() -> None:
        await asyncio.sleep(0.1)  # the time to the first token
        sent.put_nowait(b"first ")
        await asyncio.sleep(0.005)
        sent.put_nowait(b"second")
        sent.put_nowait(None)

    async def body() -> AsyncIterator[bytes]:
        while (piece := await sent.get()) is not None:
            yield piece

    sending = asyncio.create_task(server())
    clock = asyncio.get_running_loop().time
    arrivals = [(clock(), data) async for data in read_ahead(body())]
    await sending
    assert [data for _, data in arrivals] == [b"first ", b"second"]
    gap = arrivals[1][0] - arrivals[0][0]
    # Sent 5 ms apart; held back, it would come a pacing wait (50 ms) after. Not 15 ms:
    # a loaded host took 15.5 ms once (CI, a test beside a full benchmark).
    assert gap < PACE / 2, f"the second piece came {gap * 1000:.0f} ms after the first"


async def test_an_error_comes_after_the_data_read_before_it() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("peer closed")

    received: list[bytes] = []
    with pytest.raises(ConnectionResetError, match="peer closed"):
        async for data in read_ahead(body()):
            received.append(data)
    assert received == [b"partial"]


async def test_closing_stops_the_reading_and_a_slow_reader_holds_the_rest_back() -> None:
    read = 0
    closed = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        try:
            while True:
                read += 65_536
                yield b"x" * 65_536
                await asyncio.sleep(0)
        finally:
            closed.set()

    async with contextlib.aclosing(read_ahead(body())) as reading:
        first = await anext(reading)
        await asyncio.sleep(0.05)  # the reader is busy; the body must not run away
        assert read <= len(first) + LARGEST_BACKLOG + 2 * 65_536
    assert closed.is_set(), "the body is closed when the reading stops"


async def test_a_stop_while_the_reading_winds_down_still_stops_the_reader() -> None:
    """Esc cancels the task reading the reply; if that lands while the read-ahead waits
    for its own task to end (a body slow to close), the reader must stop, not carry on
    to the next round as if the cancel had been the read-ahead's own."""
    closing = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            await asyncio.Event().wait()  # a body that stays open
        finally:
            closing.set()
            await asyncio.sleep(0.05)  # and is slow to close

    carried_on: list[bool] = []

    async def reader() -> None:
        async with contextlib.aclosing(read_ahead(body())) as reading:
            await anext(reading)
        carried_on.append(True)

    task = asyncio.create_task(reader())
    await closing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert carried_on == []


async def test_a_body_that_pours_in_large_pieces_is_never_paced() -> None:
    """A server pouring a reply out fills each read with hundreds of chunks, which come up
    as one piece (`tui.chunked_bodies`): a few pieces a window, but far too many events
    for a trickle. Paced, each piece waited up to `PACE` in the socket."""
    sent: asyncio.Queue[bytes | None] = asyncio.Queue()
    clock = asyncio.get_running_loop().time
    sent_at: list[float] = []

    async def server() -> None:
        for index in range(30):
            await asyncio.sleep(0.01)
            sent_at.append(clock())
            sent.put_nowait(b"%05d" % index + b"data: {}\n\n" * 1_600)  # 16,005 bytes
        sent.put_nowait(None)

    sending = asyncio.create_task(server())
    late = 0.0
    async for data in read_ahead(chunks_of(sent)):
        for offset in range(0, len(data), 16_005):
            late = max(late, clock() - sent_at[int(data[offset : offset + 5])])
    await sending
    assert late < PACE / 2, f"a piece came {late * 1000:.0f} ms after it was sent"


async def test_a_trickle_of_large_events_is_still_taken_a_few_at_a_time() -> None:
    """A chunk with log-probabilities, or a provider's filter results, is 500-800 bytes:
    a trickle is told by its events, not its bytes."""
    sent: asyncio.Queue[bytes | None] = asyncio.Queue()
    event = b"data: {" + b'"x": 1, ' * 100 + b"}\n\n"  # 815 bytes

    async def server() -> None:
        for _ in range(60):
            await asyncio.sleep(0.005)
            sent.put_nowait(event)
        sent.put_nowait(None)

    sending = asyncio.create_task(server())
    received = [data async for data in read_ahead(chunks_of(sent))]
    await sending
    assert b"".join(received) == event * 60
    assert len(received) <= 45, f"{len(received)} takes for 60 events that trickled in"

"""Reading a response body ahead, so whoever reads it gets everything that has arrived.

httpx2 hands over a streamed body one HTTP chunk at a time, and servers send one chunk per
event: a fast stream is thousands of one-token pieces, and each piece used to cost a trip
through the reader, the session and the screen (8,000 tokens sent at full speed showed on
screen 0.31-0.50 s after the server's last byte; 0.17 s since). A task reads the body as
fast as it comes and the reader takes all of it at each turn: hundreds of pieces joined
when it pours; when it trickles, a few at a time (`PACE`). Errors reach the reader as the
body raised them, and the task is gone once the reading ends, however it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

LARGEST_BACKLOG = 1 << 20
"""Bytes read ahead and not yet taken before the task waits: a reader that falls behind
leaves the rest in the socket (where the server's flow control sees it), not in memory."""
CAUGHT_UP = 0.002
"""A piece that took longer than this to come was waited for: the reading has caught up
with the server."""
PACE = 0.02
"""How long the reading of a trickle waits, once caught up, before it reads again: a
server at 100 tok/s sends a token every 10 ms, each its own HTTP chunk, and each read
alone woke the socket, the HTTP stack, the session and the screen for that one token.
Waiting lets two or three arrive and go on together (12% less CPU at 100 tok/s). The
screen shows a reply's text five times a second, so the wait is not seen; the first
piece is never held back."""
TRICKLE = 20
"""Pieces per `TRICKLE_WINDOW` under which a stream trickles (400 a second). A faster
one is not paced: when a busy event loop (a frame, a big layout) delays a read, that
read looks waited for, and pacing every such read of a stream that pours held its end
back (8,000 tokens at full speed: 0.13 s after the server's last byte became
0.20-0.34 s). A stall shorter than a window can still end one with few pieces in it:
then one wait of `PACE`, while what arrived meanwhile is read after it."""
TRICKLE_WINDOW = 0.05


async def read_ahead(body: AsyncIterator[bytes]) -> AsyncGenerator[bytes]:
    """Yields what `body` has delivered since the last yield, joined, until it ends; re-raises
    what it raised. Close it (`contextlib.aclosing`) to stop the reading task at once."""
    arrived: list[bytes] = []
    backlog = 0
    ready = asyncio.Event()  # something arrived, or the body ended
    taken = asyncio.Event()  # the reader took the backlog
    ended = False
    failure: BaseException | None = None

    async def pump() -> None:
        nonlocal backlog, ended, failure
        clock = asyncio.get_running_loop().time
        window_start, window_pieces, trickling = clock(), 0, False
        try:
            pieces = aiter(body)
            while True:
                asked = clock()
                try:
                    data = await anext(pieces)
                except StopAsyncIteration:
                    break
                arrived.append(data)
                backlog += len(data)
                ready.set()
                now, window_pieces = clock(), window_pieces + 1
                if now - asked >= TRICKLE_WINDOW:
                    # A wait as long as a window (the first token, a pause to think, a
                    # stalled loop) says nothing of the rate: a new window starts.
                    window_start, window_pieces = now, 0
                elif now - window_start >= TRICKLE_WINDOW:
                    trickling = window_pieces < TRICKLE
                    window_start, window_pieces = now, 0
                if backlog > LARGEST_BACKLOG:
                    taken.clear()
                    await taken.wait()
                elif trickling and now - asked > CAUGHT_UP:
                    await asyncio.sleep(PACE)
        except Exception as error:  # handed to the reader, which raises it as its own
            failure = error
        finally:
            ended = True
            ready.set()
            close = getattr(body, "aclose", None)  # a generator stopped between pieces
            if close is not None:
                await close()

    task = asyncio.create_task(pump())
    try:
        while True:
            while not arrived and not ended:
                ready.clear()
                await ready.wait()
            if not arrived:  # ended, and all of it taken
                if failure is not None:
                    raise failure
                return
            data = b"".join(arrived)
            arrived.clear()
            backlog = 0
            taken.set()
            yield data
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            # The pump's own end, expected; but a cancel of the reader itself (Esc)
            # arriving while it waits here must go on, not be swallowed with it.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

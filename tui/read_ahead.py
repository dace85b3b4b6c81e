"""Reading a response body ahead, so whoever reads it gets everything that has arrived.

httpx2 hands over a streamed body one HTTP chunk at a time, and servers send one chunk per
event: a fast stream is thousands of one-token pieces, and each piece used to cost a trip
through the reader, the session and the screen (8,000 tokens sent at full speed showed on
screen 0.31-0.50 s after the server's last byte; 0.17 s since). A task reads the body as fast as it
comes and the reader takes all of it at each turn: one piece when the stream trickles,
hundreds joined when it pours. Errors reach the reader as the body raised them, and
the task is gone once the reading ends, however it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

LARGEST_BACKLOG = 1 << 20
"""Bytes read ahead and not yet taken before the task waits: a reader that falls behind
leaves the rest in the socket (where the server's flow control sees it), not in memory."""


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
        try:
            async for data in body:
                arrived.append(data)
                backlog += len(data)
                ready.set()
                if backlog > LARGEST_BACKLOG:
                    taken.clear()
                    await taken.wait()
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

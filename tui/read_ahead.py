"""Reading a response body ahead, so whoever reads it gets everything that has arrived.

httpx2 hands over a streamed body a piece at a time (a chunk, or all the chunks one read
brought: `tui.chunked_bodies`), and servers send one chunk per event: each piece used to
cost a trip through the reader, the session and the screen (8,000 tokens sent at full speed
showed on screen 0.31-0.50 s after the server's last byte; 0.17 s with this). A task reads
the body as fast as it comes and the reader takes all of it at each turn: everything read
meanwhile when it pours; when it trickles, a few pieces at a time (`PACE`). Errors reach
the reader as the body raised them, and the task is gone once the reading ends, however
it ends.
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
PACE = 0.05
"""How long the reading of a trickle waits, once caught up, before it reads again: a
server at 100 tok/s sends a token every 10 ms, each its own HTTP chunk, and each read
alone woke the socket, the HTTP stack, the session and the screen for that one token.
Waiting lets a few arrive and go on together: the HTTP stack costs about 0.4 ms each
time it waits for the socket, whatever the wait brings (2,000 tokens at 100 tok/s, the
client alone: 1.0 CPU-s read as they come, 0.86 with waits of 20 ms, 0.39 with 50).
The screen shows a reply's text five times a second, so the wait is not seen in the text;
it can put the end of a reply up to one wait later on screen. The first piece is never
held back."""
HOLD = 0.02
"""How long a trickle's pieces read at once wait for the next piece that was waited for,
to go with it in one take: at 100 tok/s it comes within 10 ms. Longer, pieces read after
a pacing wait, already up to `PACE` old, could show two waits late when the model pauses."""
TRICKLE = 20
"""Events per `TRICKLE_WINDOW` under which a stream trickles (400 a second), counted as
half the line breaks that came (an event is a line and a blank one). Not pieces: a read
that a pouring server filled comes as one piece (`tui.chunked_bodies`), a few a window.
Not bytes: they vary fivefold between servers' events (one with log-probabilities is
800 bytes). A faster stream is not paced: when a busy event loop (a frame, a big layout)
delays a read, that read looks waited for, and pacing every such read of a stream that
pours held its end back (8,000 tokens at full speed: 0.13 s after the server's last byte
became 0.20-0.34 s). A stall shorter than a window can still end one with few events in
it: then one wait of `PACE`, while what arrived meanwhile is read after it."""
TRICKLE_WINDOW = 0.05
GATHERED_LINES = 4
"""Line breaks in one piece that say it likely holds several events (a Chat Completions
event is a line and a blank one): what a pacing wait let arrive, handed over by the body
in one piece. (One Responses event, with its `event:` line, may count too: it then goes
on as a caught-up piece does.) The reading waits before it reads again, so a body that
ends without a last event of its own (`[DONE]`, `response.completed`), closed by the
server right after its last piece, is known to have ended up to one `PACE` later."""


async def read_ahead(body: AsyncIterator[bytes]) -> AsyncGenerator[bytes]:
    """Yields what `body` has delivered since the last yield, joined, until it ends; re-raises
    what it raised. Close it (`contextlib.aclosing`) to stop the reading task at once."""
    arrived: list[bytes] = []
    backlog = 0
    ready = asyncio.Event()  # something arrived, or the body ended
    taken = asyncio.Event()  # the reader took the backlog
    ended = False
    failure: BaseException | None = None

    holding: asyncio.TimerHandle | None = None  # a held hand-over's deadline

    def stop_holding() -> None:
        nonlocal holding
        if holding is not None:
            holding.cancel()
            holding = None

    def hand_over() -> None:
        stop_holding()
        ready.set()

    async def pump() -> None:
        nonlocal backlog, ended, failure, holding
        loop = asyncio.get_running_loop()
        clock = loop.time
        window_start, window_events, trickling = clock(), 0, False
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
                now = clock()
                line_breaks = data.count(b"\n")
                window_events += line_breaks // 2 or 1
                if now - asked >= TRICKLE_WINDOW:
                    # A wait as long as a window (the first token, a pause to think, a
                    # stalled loop) says nothing of the rate: a new window starts.
                    window_start, window_events = now, 0
                elif now - window_start >= TRICKLE_WINDOW:
                    trickling = window_events < TRICKLE
                    window_start, window_events = now, 0
                if backlog > LARGEST_BACKLOG:
                    hand_over()
                    taken.clear()
                    await taken.wait()
                elif not trickling:
                    hand_over()
                elif now - asked > CAUGHT_UP or line_breaks >= GATHERED_LINES:
                    # A trickle, caught up: this piece and those read at once before it
                    # go together, and the reading waits for a few more. So too a piece
                    # that gathered what came during a wait (the HTTP body hands over
                    # every chunk buffered, `tui.chunked_bodies`): a read after it would
                    # only wait for the next token.
                    hand_over()
                    await asyncio.sleep(PACE)
                elif holding is None:
                    # A trickle's piece read at once waits for the next piece that was
                    # waited for (alone, each woke the reader, the session and the screen
                    # again), but not longer than `HOLD`: the next may be long in coming.
                    holding = loop.call_later(HOLD, hand_over)
        except Exception as error:  # handed to the reader, which raises it as its own
            failure = error
        finally:
            ended = True
            hand_over()
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
            stop_holding()  # taken already: the deadline would wake the reader for nothing
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

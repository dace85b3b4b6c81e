"""Reading a reply's event stream: tui-chat's reader beside httpx2's public `EventSource`.

Both read the same Chat Completions body (one-token chunks, as a fast server sends them)
from memory, in reads of `--read-size` bytes, and turn every event into the app's typed
stream events (`tui.completions_events`), so the figure is the reader's own cost per
event: the path every token takes. `EventSource` is given no event-size limit (its default,
1 MB, refuses a real 1 MB delta) and a `text/event-stream` header (it refuses others).

    python -m benchmarks.sse_reader [--events 8000] [--repeat 5] [--read-size 16384]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator

import httpx2

from benchmarks.workload import markdown_tokens
from tui.completions_events import CompletionsEvents, events_from_chunk
from tui.stream_reading import ReplyReader


def body_of(tokens: list[str]) -> bytes:
    chunks = [
        {"id": "c", "object": "chat.completion.chunk", "choices": [{"delta": {"content": t}}]}
        for t in tokens
    ]
    events = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return ("".join(events) + "data: [DONE]\n\n").encode()


async def reads(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def ours(body: bytes, size: int) -> int:
    text = 0
    async for event in ReplyReader(CompletionsEvents()).events(reads(body, size)):
        text += len(getattr(event, "text", ""))
    return text


async def httpx2_event_source(body: bytes, size: int) -> int:
    response = httpx2.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=reads(body, size),
        request=httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions"),
    )
    text = 0
    async for sse in httpx2.EventSource(response, max_event_size=None):
        if sse.data == "[DONE]":
            break
        for event in events_from_chunk(json.loads(sse.data)):
            text += len(getattr(event, "text", ""))
    return text


async def timed(reader: object, body: bytes, size: int, repeat: int) -> tuple[float, int]:
    times, text = [], 0
    for _ in range(repeat):
        started = time.process_time()
        text = await reader(body, size)  # type: ignore[operator]
        times.append(time.process_time() - started)
    return statistics.median(times), text


async def main(count: int, repeat: int, size: int) -> None:
    tokens = markdown_tokens(count)
    body = body_of(tokens)
    print(f"{count} one-token events, {len(body) / 1e6:.1f} MB, reads of {size} bytes")
    ours_time, ours_text = await timed(ours, body, size, repeat)
    theirs_time, theirs_text = await timed(httpx2_event_source, body, size, repeat)
    assert ours_text == theirs_text == sum(map(len, tokens)), "both read the whole text"
    per = 1e6 / count
    print(f"tui-chat reader        {ours_time * 1000:7.1f} ms  {ours_time * per:5.1f} µs/event")
    print(f"httpx2 EventSource     {theirs_time * 1000:7.1f} ms  {theirs_time * per:5.1f} µs/event")
    print(f"ratio                  httpx2 takes {theirs_time / ours_time:.2f}x tui-chat's time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--read-size", type=int, default=16384)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.repeat, arguments.read_size))

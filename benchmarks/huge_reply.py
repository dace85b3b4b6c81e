"""A 50 MB reply (a runaway model, a hostile server): the app keeps up and Esc stops it.

Measures, in the real app headless against the test server in a child process, with the
reply sent as fast as the server can (7 KB deltas):
- Enter -> the whole reply shown, the longest the event loop was held meanwhile (what a
  keypress would wait behind), and the memory the app grew by;
- Esc pressed once 10 MB have arrived -> the reply marked stopped on screen;
- the floor, in the same run: the openai client alone reading the same stream.
`--baseline` also runs the app with the whole reply laid out as Markdown (the design
before `MARKDOWN_LIMIT`), which takes minutes at 50 MB: try `--megabytes 10`.

    python -m benchmarks.huge_reply [--megabytes 50] [--baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.server_process import ServerProcess
from tests.openai_server import StreamReply
from tests.ui_helpers import chat_screen, last_reply_settled, replies, screen_text
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.widgets import reply_body

PARAGRAPHS = "".join(
    f"Paragraph {i}: some words of a very long answer that keeps going.\n\n" for i in range(100)
)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


class StallWatch:
    """The longest the event loop went without running this task's 5 ms sleep."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.005)
            last = now

    def stop(self) -> float:
        self._task.cancel()
        return self.worst


async def raw_client(server: ServerProcess, deltas: list[str]) -> float:
    from openai import AsyncOpenAI

    server.queue(StreamReply(deltas=deltas, usage=None))
    client = AsyncOpenAI(base_url=server.base_url, api_key="k")
    started = time.perf_counter()
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "go"}], stream=True
    )
    async for _ in stream:
        pass
    await client.close()
    return time.perf_counter() - started


async def app_run(server: ServerProcess, deltas: list[str], stop_after: int | None) -> None:
    server.queue(StreamReply(deltas=deltas, usage=None))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            model="m", base_url=server.base_url, api_key="k", db_path=Path(folder) / "h.db"
        )
        async with ChatApp(settings).run_test(size=(120, 40)) as pilot:
            screen = chat_screen(pilot)
            await asyncio.sleep(2)  # as a user would: the client library has loaded
            rss_before = rss_mb()
            watch = StallWatch()
            started = time.perf_counter()
            screen.prompt.insert("go")
            await pilot.press("enter")
            while not replies(pilot):
                await asyncio.sleep(0.01)
            view = replies(pilot)[-1]
            if stop_after is not None:
                while view.body.characters_fed < stop_after * len(PARAGRAPHS):
                    await asyncio.sleep(0.01)
                pressed = time.perf_counter()
                # Not awaited: `press` returns only once every widget is idle, long after.
                key = asyncio.create_task(pilot.press("escape"))
                while "stopped" not in screen_text(pilot):
                    await asyncio.sleep(0.01)
                print(
                    f"  Esc after {stop_after * len(PARAGRAPHS) / 1e6:.0f} MB -> 'stopped' on "
                    f"screen {time.perf_counter() - pressed:.2f} s, "
                    f"worst stall {watch.stop() * 1000:.0f} ms"
                )
                await key
                return
            while not last_reply_settled(pilot):
                await asyncio.sleep(0.05)
            await view.body.backfilled()
            await pilot.pause()
            shown = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
            print(
                f"  Enter -> whole reply shown {shown:.1f} s, worst stall "
                f"{watch.stop() * 1000:.0f} ms, RSS grew {rss_mb() - rss_before:.0f} MB "
                f"(peak of the process {peak:.0f} MB)"
            )


async def main(megabytes: float, baseline: bool) -> None:
    deltas = [PARAGRAPHS] * int(megabytes * 1e6 / len(PARAGRAPHS))
    server = ServerProcess()
    try:
        print(f"a {len(deltas) * len(PARAGRAPHS) / 1e6:.0f} MB reply, headless 120x40")
        print("tui-chat")
        await app_run(server, deltas, None)
        await app_run(server, deltas, int(10e6 / len(PARAGRAPHS)))
        if baseline:
            print("tui-chat laying out the whole reply as Markdown (the design before)")
            reply_body.MARKDOWN_LIMIT = 10**12
            await app_run(server, deltas, None)
        print(
            f"floor: the openai client alone reads it in {await raw_client(server, deltas):.1f} s"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--baseline", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.megabytes, arguments.baseline))

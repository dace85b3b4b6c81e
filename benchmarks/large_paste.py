"""Pasting 10 MB (a log) and sending it: the app stays responsive.

Measures, in the real app headless against the test server: paste -> the attachment chip
on screen, Enter -> the reply's view on screen, and the longest the event loop was held
meanwhile (what a keypress would wait behind). `--baseline` also times typing the same
text into the prompt box as a paste did before (Textual's TextArea taking it whole).

    python -m benchmarks.large_paste [--baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from textual import events

from tests.openai_server import OpenAIStyleServer
from tests.ui_helpers import chat_screen, last_reply_settled, replies, screen_text
from tui.config import Settings
from tui.ui.app import ChatApp

LINES = 180_000


async def run(baseline: bool) -> None:
    server = OpenAIStyleServer().start()
    text = "".join(
        f"A line of pasted log output, number {i}, with some words.\n" for i in range(LINES)
    )
    print(f"pasting {len(text) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            model="m", base_url=server.base_url, api_key="k", db_path=Path(folder) / "h.db"
        )
        async with ChatApp(settings).run_test(size=(120, 40)) as pilot:
            screen = chat_screen(pilot)
            await asyncio.sleep(3)  # as a user would: the client library has loaded
            stalls = [0.0]

            async def watch() -> None:
                last = time.perf_counter()
                while True:
                    await asyncio.sleep(0.005)
                    now = time.perf_counter()
                    stalls.append(now - last)
                    last = now

            watcher = asyncio.create_task(watch())
            started = time.perf_counter()
            screen.prompt.post_message(events.Paste(text))
            while "pasted text" not in screen_text(pilot):
                await asyncio.sleep(0.01)
            pasted = time.perf_counter()
            screen.prompt.insert("What went wrong here?")
            await pilot.press("enter")
            while not replies(pilot):
                await asyncio.sleep(0.01)
            shown = time.perf_counter()
            while not last_reply_settled(pilot):
                await asyncio.sleep(0.01)
            watcher.cancel()
            print(f"  paste -> chip on screen      {pasted - started:6.2f} s")
            print(f"  Enter -> reply view on screen {shown - pasted:6.2f} s")
            print(f"  longest event-loop stall      {max(stalls) * 1000:6.0f} ms")
            sent = len(server.requests[-1]["messages"][-1]["content"]) / 1e6
            print(f"  sent to the server            {sent:6.1f} MB")
            if baseline:
                started = time.perf_counter()
                screen.prompt.insert(text)
                await pilot.pause()
                took = time.perf_counter() - started
                print(f"  baseline: the text typed into the box {took:6.2f} s")
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", action="store_true")
    asyncio.run(run(parser.parse_args().baseline))


if __name__ == "__main__":
    main()

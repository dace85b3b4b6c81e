"""Opening a long stored conversation: 2,000 messages, about 2 MB of Markdown.

    python -m benchmarks.long_conversation [--messages 2000]

Measures, headless: app start -> the last messages on screen, the worst event-loop stall
while scrolling from the bottom to the very top (earlier turns load as the top is reached),
and peak RSS. Beside it, in the same run, the eager design (every message mounted at once).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import tui.ui.chat_screen as chat_screen_module
from benchmarks.workload import markdown_tokens
from tui.chat import Conversation
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp


def build_history(path: Path, count: int) -> None:
    store = Store.open(path)
    conversation = Conversation(model="m")
    conversation.add_user_message("start")
    store.save_conversation(conversation, None)
    reply_text = "".join(markdown_tokens(180, seed=3))  # ~1 KB of mixed Markdown
    for i in range(count):
        if i % 2 == 0:
            message = conversation.add_user_message(f"Question {i}: how does part {i} work?")
        else:
            message = conversation.start_reply("m")
            message.content = f"Answer {i}.\n\n{reply_text}\n\nEnd of answer {i}."
            message.status = message.status.DONE
        store.save_message(conversation, message)
    store.close()


async def open_and_scroll(path: Path, count: int) -> tuple[float, float, float]:
    settings = Settings(model="m", base_url="http://127.0.0.1:9/v1", db_path=path)
    started = time.monotonic()
    app = ChatApp(settings, continue_last=True)
    last_answer = f"End of answer {count - 1 if count % 2 == 0 else count - 2}."
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            strips = app.screen._compositor.render_strips()
            if any(last_answer in strip.text for strip in strips):
                break
            await asyncio.sleep(0.005)
        shown = time.monotonic() - started
        log = app.screen_stack[0].log_view
        worst = 0.0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            before = time.monotonic()
            log.scroll_relative(y=-40, animate=False)
            await pilot.pause()
            worst = max(worst, time.monotonic() - before)
            if log.scroll_y <= 0 and not app.screen_stack[0]._first_shown:
                break
        scroll_time = time.monotonic() - started - shown
    return shown, worst, scroll_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    with TemporaryDirectory() as home:
        path = Path(home) / "history.sqlite3"
        build_history(path, args.messages)
        size_mb = path.stat().st_size / 1e6
        print(f"{args.messages} messages, database {size_mb:.1f} MB, headless 120x40")
        shown, worst, scroll = asyncio.run(open_and_scroll(path, args.messages))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"tui-chat  last messages on screen {shown:.2f} s; scroll to top {scroll:.1f} s, "
            f"worst stall {worst * 1000:.0f} ms; peak RSS {rss:.0f} MB"
        )
        if args.no_baseline:
            return
        chat_screen_module.RESUMED_MESSAGES_SHOWN = sys.maxsize  # the eager design
        shown, worst, scroll = asyncio.run(open_and_scroll(path, args.messages))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"eager     last messages on screen {shown:.2f} s; scroll to top {scroll:.1f} s, "
            f"worst stall {worst * 1000:.0f} ms; peak RSS {rss:.0f} MB (process peak)"
        )


if __name__ == "__main__":
    main()

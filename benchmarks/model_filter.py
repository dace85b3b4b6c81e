"""Typing a filter over a server's 20,000 models (the size of the largest public lists).

Measures, per keystroke of "qwen coder 7b": ranking alone (`rank_models`) beside Textual's
fuzzy `Matcher` scoring every name (what the picker did before), and the real app headless:
F2, the list loaded, then each key typed until the list shows its result.

    python -m benchmarks.model_filter
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from textual.fuzzy import Matcher

from tests.openai_server import OpenAIStyleServer
from tests.ui_helpers import chat_screen
from tui.config import Settings
from tui.model_filter import rank_models
from tui.ui.app import ChatApp
from tui.ui.model_picker_screen import ModelPickerScreen

COUNT = 20_000
TYPED = "qwen coder 7b"


def model_names(count: int) -> list[str]:
    rng = random.Random(7)
    vendors = ["openai", "anthropic", "meta-llama", "qwen", "mistralai", "google", "deepseek"]
    words = ["chat", "coder", "instruct", "vision", "turbo", "mini", "pro", "flash", "base"]
    names = {
        f"{rng.choice(vendors)}/{rng.choice(words)}-{rng.choice(words)}-{rng.randint(1, 400)}b"
        f"-v{rng.randint(1, 99)}"
        for _ in range(count * 2)
    }
    return sorted(names)[:count]


def per_key(rank: object, names: list[str]) -> list[float]:
    times = []
    for end in range(1, len(TYPED) + 1):
        started = time.perf_counter()
        rank(TYPED[:end], names)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def textual_matcher(query: str, names: list[str]) -> list[str]:
    matcher = Matcher(query)
    scored = [(matcher.match(name), name) for name in names]
    return [name for score, name in sorted(scored, key=lambda x: -x[0]) if score > 0]


async def in_the_app(names: list[str]) -> list[float]:
    server = OpenAIStyleServer().start()
    server.models = names
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            model="m", base_url=server.base_url, api_key="k", db_path=Path(folder) / "h.db"
        )
        async with ChatApp(settings).run_test(size=(120, 40)) as pilot:
            chat_screen(pilot).action_pick_model()
            while (
                not isinstance(pilot.app.screen, ModelPickerScreen) or not pilot.app.screen._models
            ):
                await asyncio.sleep(0.01)
            await pilot.pause()
            times = []
            for char in TYPED:
                started = time.perf_counter()
                await pilot.press(char if char != " " else "space")
                await pilot.pause()
                times.append(time.perf_counter() - started)
    server.stop()
    return times


def main() -> None:
    names = model_names(COUNT)
    print(f"{COUNT} model names, typing {TYPED!r} one key at a time (ms per key)")
    for label, rank in (
        ("rank_models", rank_models),
        ("Textual Matcher (before)", textual_matcher),
    ):
        times = per_key(rank, names)
        print(f"  {label:<26} median {statistics.median(times) * 1000:7.1f}  "
              f"max {max(times) * 1000:7.1f}  total {sum(times):6.2f} s")  # fmt: skip
    times = asyncio.run(in_the_app(names))
    print(f"  {'the app, key to list':<26} median {statistics.median(times) * 1000:7.1f}  "
          f"max {max(times) * 1000:7.1f}  total {sum(times):6.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()

"""Stream-render benchmark: the real app, headless, against a real SSE server.

    python -m benchmarks.stream_render            # all workloads
    python -m benchmarks.stream_render --quick    # the two small ones

For each workload it measures tui-chat and, in the same run, the naive baseline
(`benchmarks/naive_app.py`: one MarkdownStream.write per delta), and prints:
render lag (server's last chunk written -> reply fully rendered), CPU seconds of the app
process, CPU per 1,000 tokens in the first and last quarter of the reply, the worst
event-loop stall, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.naive_app import NaiveChatApp
from benchmarks.server_process import ServerProcess
from benchmarks.workload import markdown_tokens
from tests.openai_server import StreamReply
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.widgets.message_views import AssistantMessageView

WORKLOADS = [(2000, 100.0), (8000, 1000.0), (8000, 0.0), (20000, 2000.0)]
BASELINE_TIMEOUT = 90.0
SIZE = (120, 40)


@dataclass
class Samples:
    """(monotonic, process CPU, tokens received) every 20 ms, plus the worst loop stall."""

    rows: list[tuple[float, float, int]] = field(default_factory=list)
    worst_stall: float = 0.0

    def cpu_per_1k(self, first: float, last: float, total: int) -> float:
        lo, hi = int(total * first), int(total * last)
        start = next((r for r in self.rows if r[2] >= lo), None)
        end = next((r for r in self.rows if r[2] >= hi), None)
        if start is None or end is None or end[2] <= start[2]:
            return float("nan")
        return (end[1] - start[1]) / (end[2] - start[2]) * 1000


async def sample(samples: Samples, received: callable, stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.02)
        now = time.monotonic()
        samples.worst_stall = max(samples.worst_stall, now - before - 0.02)
        samples.rows.append((now, time.process_time(), received()))


@dataclass
class Result:
    lag: float
    cpu: float
    early: float
    late: float
    stall: float
    finished: bool = True


async def run_tui_chat(server: ServerProcess, tokens: list[str], rate: float) -> Result:
    server.queue(StreamReply(deltas=tokens, rate=rate, usage=None))
    with TemporaryDirectory() as home:
        settings = Settings(
            model="m",
            base_url=server.base_url,
            api_key="sk-bench",
            db_path=Path(home) / "h.db",
            max_retries=0,
        )
        app = ChatApp(settings)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.3)
            screen = app.screen_stack[0]
            samples, stop = Samples(), asyncio.Event()

            found: list[AssistantMessageView] = []

            def view() -> AssistantMessageView | None:
                # Looked up once: a DOM query every few milliseconds would cost more CPU
                # than the app under test.
                if not found:
                    views = screen.query(AssistantMessageView)
                    if views:
                        found.append(views.last())
                return found[0] if found else None

            characters_per_token = sum(map(len, tokens)) / len(tokens)

            def received() -> int:
                """Tokens so far, from the text fed: deltas arrive merged, a read at a time."""
                current = view()
                return int(current.body.characters_fed / characters_per_token) if current else 0

            sampler = asyncio.create_task(sample(samples, received, stop))
            cpu0 = time.process_time()
            screen.run_worker(screen.session.send("benchmark"))
            while True:
                current = view()
                if (
                    current
                    and current.message.status is not MessageStatus.STREAMING
                    and not screen.is_streaming
                ):
                    break
                await asyncio.sleep(0.01)
            await pilot.pause()  # one more frame: the last flush is on screen
            return await settle(server, samples, stop, sampler, cpu0, len(tokens), True)


async def run_naive(server: ServerProcess, tokens: list[str], rate: float) -> Result:
    server.queue(StreamReply(deltas=tokens, rate=rate, usage=None))
    app = NaiveChatApp(server.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        samples, stop = Samples(), asyncio.Event()
        sampler = asyncio.create_task(sample(samples, lambda: app.received, stop))
        cpu0 = time.process_time()
        task = asyncio.create_task(app.stream("benchmark"))
        deadline = time.monotonic() + BASELINE_TIMEOUT
        while not app.done and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        finished = app.done
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await pilot.pause()
        return await settle(server, samples, stop, sampler, cpu0, len(tokens), finished)


async def settle(
    server: ServerProcess,
    samples: Samples,
    stop: asyncio.Event,
    sampler: asyncio.Task[None],
    cpu0: float,
    total: int,
    finished: bool,
) -> Result:
    """Takes the figures the moment the reply is on screen, then stops the sampler."""
    rendered_at = time.monotonic()
    cpu = time.process_time() - cpu0
    stop.set()
    await sampler
    return Result(
        rendered_at - server.last_chunk_at(),
        cpu,
        samples.cpu_per_1k(0, 0.25, total),
        samples.cpu_per_1k(0.75, 0.99, total),
        samples.worst_stall,
        finished,
    )


def describe(result: Result) -> str:
    if not result.finished:
        return f"did not finish in {BASELINE_TIMEOUT:.0f} s (CPU {result.cpu:.1f} s)"
    return (
        f"lag {result.lag:6.2f} s  CPU {result.cpu:6.2f} s  per 1k tok early "
        f"{result.early:.3f} / late {result.late:.3f} s  worst stall {result.stall * 1000:4.0f} ms"
    )


async def main(
    quick: bool, repeat: int, skip_baseline: bool, only: tuple[int, float] | None = None
) -> None:
    server = ServerProcess()
    try:
        print(f"stream render, headless {SIZE[0]}x{SIZE[1]}, medians of {repeat}")
        workloads = [only] if only else WORKLOADS[:2] if quick else WORKLOADS
        for count, rate in workloads:
            tokens = markdown_tokens(count)
            label = f"{count} tok @ {'max' if not rate else f'{rate:.0f}/s'}"
            runs = [await run_tui_chat(server, tokens, rate) for _ in range(repeat)]
            ours = Result(
                *(
                    statistics.median(getattr(r, f) for r in runs)
                    for f in ("lag", "cpu", "early", "late", "stall")
                )
            )
            print(
                f"{label:<20} tui-chat  {describe(ours)}  late/early {ours.late / ours.early:.2f}"
            )
            if skip_baseline:
                continue
            naive = await run_naive(server, tokens, rate)
            print(f"{'':<20} baseline  {describe(naive)}")
            print(
                f"{'':<20} ratio     CPU {ours.cpu / naive.cpu:.2f}x of baseline"
                + (f", lag {ours.lag / naive.lag:.2f}x" if naive.finished and naive.lag > 0 else "")
            )
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--workload",
        metavar="TOKENS@RATE",
        help="only this workload, e.g. 50000@2000 (rate 0: as fast as possible)",
    )
    args = parser.parse_args()
    only = None
    if args.workload:
        count, _, rate = args.workload.partition("@")
        only = (int(count), float(rate or 0))
    asyncio.run(main(args.quick, args.repeat, args.no_baseline, only))

"""Keypress → screen latency in a real terminal (tmux), while a reply streams and at rest.

    python -m benchmarks.responsiveness [--keys 40] [--rate 1000] [--tokens 8000]

Starts tui-chat in a detached tmux session (120x40) against the SSE test server in a child
process, sends a prompt, and while the reply streams at `--rate` tok/s types `--keys`
characters into the prompt one at a time, each with `tmux send-keys`, timing until the
character is on the screen (`capture-pane`, polled every 2 ms: the figures include about
5 ms of tmux's own round trip). The same keys are then timed with the app at rest, in the
same run: the baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.server_process import ServerProcess
from benchmarks.workload import markdown_tokens
from tests.openai_server import StreamReply

ROOT = Path(__file__).resolve().parent.parent
TUI = Path(sys.executable).parent / "tui-chat"


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "bench")

    def wait_for(self, text: str, timeout: float = 20.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if text in self.screen():
                return time.monotonic() - started
            time.sleep(0.002)
        raise TimeoutError(f"{text!r} never appeared")


def type_and_time(terminal: Terminal, keys: int, marker: str) -> list[float]:
    """Types `marker` + digits one key at a time; the time until each prefix shows."""
    latencies = []
    typed = marker
    terminal.tmux("send-keys", "-t", "bench", "-l", marker)
    terminal.wait_for(typed)
    for index in range(keys):
        key = "abcdefghijklmnopqrstuvwxyz"[index % 26]
        typed += key
        sent = time.monotonic()
        terminal.tmux("send-keys", "-t", "bench", "-l", key)
        terminal.wait_for(typed, timeout=10)
        latencies.append(time.monotonic() - sent)
        time.sleep(0.05)  # a fast typist: 20 keys a second
    for _ in typed:
        terminal.tmux("send-keys", "-t", "bench", "BSpace")
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--tokens", type=int, default=8000)
    args = parser.parse_args()
    if shutil.which("tmux") is None or not TUI.exists():
        print("needs tmux and the tui-chat command in this venv")
        return 2
    server = ServerProcess()
    server.queue(StreamReply(deltas=markdown_tokens(args.tokens), rate=args.rate))
    with tempfile.TemporaryDirectory() as home:
        terminal = Terminal(str(Path(home) / "tmux.sock"))
        env = {
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "sk-bench",
            "TUI_CHAT_DB": str(Path(home) / "history.sqlite3"),
            "XDG_CONFIG_HOME": home,
        }
        exports = " ".join(f"{name}={value}" for name, value in env.items())
        terminal.tmux(
            "new-session", "-d", "-s", "bench", "-x", "120", "-y", "40",
            f"env {exports} TERM=xterm-256color {TUI} -m bench-model",
        )  # fmt: skip
        try:
            terminal.wait_for("Message (Enter")
            terminal.tmux("send-keys", "-t", "bench", "-l", "Stream please")
            terminal.tmux("send-keys", "-t", "bench", "Enter")
            terminal.wait_for("tok/s")
            streaming = type_and_time(terminal, args.keys, "zq")
            still_streaming = "Esc stops" in terminal.screen()
            if still_streaming:
                terminal.tmux("send-keys", "-t", "bench", "Escape")
                terminal.wait_for("stopped")
            time.sleep(0.5)
            idle = type_and_time(terminal, args.keys, "zq")
        finally:
            terminal.tmux("kill-server")
            server.stop()
    print(f"keypress -> screen, {args.keys} keys, tmux 120x40, {os.cpu_count()} cores")
    print(f"{'state':<34} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}")
    for label, values in (
        (f"streaming {args.rate} tok/s", streaming),
        ("at rest (baseline)", idle),
    ):
        ordered = sorted(values)
        p90 = ordered[int(len(ordered) * 0.9) - 1]
        print(
            f"{label:<34} {statistics.median(values) * 1000:>10.1f} {p90 * 1000:>8.1f}"
            f" {max(values) * 1000:>8.1f}"
        )
    ratio = statistics.median(streaming) / statistics.median(idle)
    print(f"streaming / at rest: {ratio:.2f}x (target: streaming median <= 50 ms)")
    if not still_streaming:
        print("note: the reply ended before the last key; use more --tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())

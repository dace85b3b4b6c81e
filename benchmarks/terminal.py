"""Stream-render benchmark in a real terminal (tmux), beside the raw-print client.

    python -m benchmarks.terminal [--repeat 3] [--quick]

Uses the team's harness in ../shared/bench (tmux 120x40, its own fake server): render lag
(last chunk sent -> sentinel visible on screen), CPU seconds of the app's process tree,
peak RSS and startup (launch -> prompt visible), for tui-chat and for the raw-stdout client
measured in the same run; prints the CPU ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT.parent / "shared" / "bench" / "tui_bench.py"
WORKLOADS = [(2000, 100), (8000, 1000), (8000, 0), (20000, 2000)]


def measure(extra: list[str], tokens: int, rate: int, repeat: int) -> dict:
    command = [
        sys.executable,
        str(HARNESS),
        *extra,
        "--tokens",
        str(tokens),
        "--rate",
        str(rate),
        "--repeat",
        str(repeat),
        "--timeout",
        "120",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])["median"] if lines else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="only the first two workloads")
    args = parser.parse_args()
    if not HARNESS.exists() or shutil.which("tmux") is None:
        print("needs ../shared/bench/tui_bench.py and tmux (apt-get install tmux)")
        return 1
    app = shutil.which("tui-chat") or str(Path(sys.executable).parent / "tui-chat")
    ours_cmd = ["--cmd", app, "--ready", r"Message \(Enter", "--name", "tui-chat"]
    print(
        f"{'workload':<18} {'app':<9} {'lag s':>7} {'CPU s':>7} {'CPU/raw':>8} "
        f"{'core %':>7} {'RSS MB':>7} {'startup s':>9}"
    )
    for tokens, rate in WORKLOADS[:2] if args.quick else WORKLOADS:
        label = f"{tokens} @ {rate or 'max'}"
        raw = measure(["--preset", "baseline"], tokens, rate, args.repeat)
        ours = measure(ours_cmd, tokens, rate, args.repeat)
        for name, figures in (("raw", raw), ("tui-chat", ours)):
            if not figures:
                print(f"{label:<18} {name:<9} did not finish")
                continue
            ratio = figures["cpu_s"] / raw["cpu_s"] if raw.get("cpu_s") else float("nan")
            print(
                f"{label:<18} {name:<9} {figures['render_lag_s']:7.2f} {figures['cpu_s']:7.2f} "
                f"{ratio:7.1f}x {figures['cpu_util'] * 100:6.0f}% "
                f"{figures['peak_rss_mb']:7.0f} {figures['startup_s']:9.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Pipe-mode start-up: process start -> first byte of the answer on stdout.

    python -m benchmarks.pipe_first_byte [--repeat 5] [--llm PATH/TO/llm]

Compared in the same run with a raw stdlib client (http.client, no SDK, no parsing) asking
the same server, which is the floor: the difference is tui-chat's own start-up cost. Also
timed: a bare script making the same call through the official library as its
documentation shows it, and the library's import alone (no request), which no client on
the library can beat. With `--llm`, Simon Willison's `llm` (same openai library) asks the
same server too, as the peer.

Every program runs with its bytecode cached, as an installed program does: a first,
unmeasured run of each writes it (this machine sets PYTHONDONTWRITEBYTECODE, which would
otherwise make every run of an editable install compile tui-chat's sources again).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.server_process import ServerProcess
from tests.openai_server import StreamReply

RAW_CLIENT = """
import http.client, json, os, sys, urllib.parse
u = urllib.parse.urlparse(os.environ["OPENAI_BASE_URL"])
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("POST", u.path + "/chat/completions", json.dumps({"model": "m", "stream": True,
          "messages": [{"role": "user", "content": "hi"}]}), {"Content-Type": "application/json"})
for line in c.getresponse():
    if line.startswith(b"data: {") and b'"content": "' in line:
        sys.stdout.write(json.loads(line[6:])["choices"][0]["delta"]["content"]); sys.stdout.flush()
"""

BARE_LIBRARY_CLIENT = """
from tui.client_library_loading import load_less_of_the_client_library
load_less_of_the_client_library()
import openai, sys
client = openai.OpenAI(max_retries=0)
for chunk in client.chat.completions.create(
    model="m", messages=[{"role": "user", "content": "hi"}], stream=True
):
    if chunk.choices and chunk.choices[0].delta.content:
        sys.stdout.write(chunk.choices[0].delta.content); sys.stdout.flush()
"""
"""The official library's streaming call as its documentation shows it (chunks parsed
into its models), loaded as tui-chat loads it: what a plain client on the library does.
tui-chat asks through the same client's `post` and reads the events itself."""

IMPORT_ONLY = """
from tui.client_library_loading import load_less_of_the_client_library
load_less_of_the_client_library()
import openai, sys
sys.stdout.write("x"); sys.stdout.flush()
"""
"""The library's import alone (as tui-chat loads it), then one byte, no request: no client
on the library answers before this; the raw client's request comes on top."""


def first_byte_seconds(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    process.stdout.read(1)
    elapsed = time.monotonic() - started
    process.stdout.read()
    process.wait()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--llm", help="the llm program, to compare with in the same run")
    args = parser.parse_args()
    server = ServerProcess()
    scratch = tempfile.TemporaryDirectory(prefix="first-byte-")
    home = Path(scratch.name)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env |= {
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "sk-bench",
        "TUI_CHAT_DB": str(home / "history.sqlite3"),
        "LLM_USER_PATH": str(home / "llm"),
    }
    commands = {
        "raw client": [sys.executable, "-c", RAW_CLIENT],
        "tui-chat -p": [sys.executable, "-m", "tui", "-p", "hi"],
        "bare library": [sys.executable, "-c", BARE_LIBRARY_CLIENT],
        "import openai": [sys.executable, "-c", IMPORT_ONLY],
    }
    asks = {name for name in commands if name != "import openai"}
    if args.llm:
        _set_up_llm(home / "llm", server.base_url)
        commands["llm"] = [args.llm, "-m", "bench", "--no-log", "hi"]
        asks.add("llm")
    try:
        results: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(args.repeat + 1):
            for name, command in commands.items():
                if name in asks:
                    server.queue(StreamReply(deltas=["Hello", " world"]))
                seconds = first_byte_seconds(command, env)
                if round_:  # the first round writes the bytecode
                    results[name].append(seconds)
        floor = statistics.median(results["raw client"])
        for name, values in results.items():
            median = statistics.median(values)
            print(
                f"{name:<13} first byte {median:.3f} s (median of {args.repeat}), "
                f"+{median - floor:.3f} s over the raw client"
            )
    finally:
        server.stop()
        scratch.cleanup()


def _set_up_llm(folder: Path, base_url: str) -> None:
    """llm's way to reach an OpenAI-compatible server: a model in extra-openai-models.yaml."""
    folder.mkdir(parents=True)
    (folder / "extra-openai-models.yaml").write_text(
        f'- model_id: bench\n  model_name: m\n  api_base: "{base_url}"\n  api_key_name: bench\n'
    )
    (folder / "keys.json").write_text('{"bench": "sk-bench"}\n')


if __name__ == "__main__":
    main()

"""Pipe-mode start-up: process start -> first byte of the answer on stdout.

    python -m benchmarks.pipe_first_byte [--repeat 5]

Compared in the same run with a raw stdlib client (http.client, no SDK, no parsing) asking
the same server, which is the floor: the difference is tui-chat's own start-up cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

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
    args = parser.parse_args()
    server = ServerProcess()
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-bench"}
    try:
        results: dict[str, list[float]] = {"raw client": [], "tui-chat -p": []}
        for _ in range(args.repeat):
            server.queue(StreamReply(deltas=["Hello", " world"]))
            raw = first_byte_seconds([sys.executable, "-c", RAW_CLIENT], env)
            results["raw client"].append(raw)
            server.queue(StreamReply(deltas=["Hello", " world"]))
            results["tui-chat -p"].append(
                first_byte_seconds([sys.executable, "-m", "tui", "-p", "hi"], env)
            )
        floor = statistics.median(results["raw client"])
        for name, values in results.items():
            median = statistics.median(values)
            print(
                f"{name:<12} first byte {median:.3f} s (median of {args.repeat}), "
                f"+{median - floor:.3f} s over the raw client"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()

"""Runs the real `tui-chat` command in a subprocess, pointed at the test server."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import TEST_KEY


def run_cli(
    server_url: str, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server_url,
        "OPENAI_API_KEY": TEST_KEY,
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
    )


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Returns once something listens on 127.0.0.1:`port` (a server started as a process)."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {timeout:g} s")

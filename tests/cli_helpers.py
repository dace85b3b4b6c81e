"""Runs the real `tui-chat` command in a subprocess, pointed at the test server."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import TEST_KEY


def run_cli(server_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server_url,
        "OPENAI_API_KEY": TEST_KEY,
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

"""`tui-chat serve` in a real browser: headless Chromium (Debian's package, driven by
Playwright through `executable_path`, which downloads nothing) loads the page, types a
prompt, and the streamed reply comes back through the page's terminal stream."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_helpers import wait_for_port
from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIStyleServer, StreamReply

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serving_on_another_address_needs_public_and_says_why(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--host", "0.0.0.0", "--port", "9"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "anyone who can reach port 9" in result.stderr and "--public" in result.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (apt-get install chromium)")
def test_the_app_served_to_a_browser_streams_a_reply(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    server.queue(StreamReply(deltas=["Served ", "to ", "a ", "browser."]))
    port = free_port()
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": TEST_KEY,
        "TUI_CHAT_DB": str(tmp_path / "h.sqlite3"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--port", str(port), "-m", "test-model"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.goto(f"http://127.0.0.1:{port}/")
            # The page draws the terminal on a canvas: what the app shows is followed in
            # its history (written as it streams) and in the page's pixels.
            _wait(lambda: (tmp_path / "h.sqlite3").exists(), "the app starting in the page")
            time.sleep(1.0)
            before = page.screenshot()
            page.mouse.click(550, 640)
            page.keyboard.type("Hello from a browser")
            page.keyboard.press("Enter")
            _wait(lambda: "Served to a browser." in _stored_replies(tmp_path), "the reply")
            time.sleep(1.0)
            after = page.screenshot(path=str(tmp_path / "browser.png"))
            browser.close()
        assert after != before, "the page shows the exchange"
        assert server.requests[-1]["messages"][-1]["content"] == "Hello from a browser"
    finally:
        os.killpg(process.pid, 15)
        process.wait(10)


def _stored_replies(folder: Path) -> str:
    import sqlite3

    try:
        with sqlite3.connect(folder / "h.sqlite3") as db:
            rows = db.execute("SELECT text FROM message_parts WHERE kind = 'text'").fetchall()
    except sqlite3.Error:
        return ""
    return " ".join(row[0] for row in rows)


def _wait(condition, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.1)

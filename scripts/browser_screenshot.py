"""Shoots screenshots/browser.png: `tui-chat serve` in headless Chromium (Debian's
package), a prompt typed in the page and the streamed reply on screen.

python scripts/browser_screenshot.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.openai_server import OpenAIStyleServer, StreamReply  # noqa: E402

REPLY = (
    "Served from **tui-chat** on this machine: each browser tab runs its own app, "
    "as you, with your settings.\n\n- listens on 127.0.0.1 unless `--public`\n"
    "- the same keys as in the terminal"
)


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    server = OpenAIStyleServer().start()
    server.queue(StreamReply(deltas=[REPLY[i : i + 8] for i in range(0, len(REPLY), 8)]))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "sk-screenshot-not-a-real-key",
            "TUI_CHAT_DB": str(Path(home) / "h.sqlite3"),
        }
        command = [sys.executable, "-m", "tui", "serve", "--port", str(port), "-m", "gpt-4o-mini"]
        process = subprocess.Popen(command, env=env, start_new_session=True, cwd=ROOT)
        try:
            time.sleep(3)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
                )
                page = browser.new_page(viewport={"width": 1100, "height": 560})
                page.goto(f"http://127.0.0.1:{port}/")
                time.sleep(4)
                page.mouse.click(550, 500)
                page.keyboard.type("What is tui-chat serve?")
                page.keyboard.press("Enter")
                time.sleep(4)
                page.screenshot(path=str(ROOT / "screenshots" / "browser.png"))
                browser.close()
        finally:
            os.killpg(process.pid, 15)
            process.wait(10)
            server.stop()
    print("wrote screenshots/browser.png")


if __name__ == "__main__":
    main()

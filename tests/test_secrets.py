"""The API key never lands anywhere the app writes, and every file it writes is private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.ui_helpers import chat_screen, screen_text, send_and_settle, wait_until
from tui.backend import ChatBackend
from tui.config import OPENAI_BASE_URL, Settings
from tui.ui.app import ChatApp


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


async def test_a_whole_session_leaves_no_key_in_any_file_and_no_file_readable_by_others(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    echoing_body = f'{{"error": {{"message": "Incorrect API key provided: {TEST_KEY}"}}}}'
    server.queue(ErrorReply(401, echoing_body), StreamReply(deltas=["Fine ", "now."]))
    async with ChatApp(settings).run_test(size=(120, 34)) as pilot:
        await send_and_settle(pilot, "First")
        assert "Incorrect API key provided: [redacted]" in screen_text(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "Fine now." in screen_text(pilot))
        screen = chat_screen(pilot)
        screen.action_export("md")
        screen.action_export("json")
        exports = settings.db_path.parent / "exports"
        await wait_until(pilot, lambda: len(list(exports.glob("*"))) == 2)
        assert TEST_KEY not in screen_text(pilot)
    assert server.request_headers[0]["authorization"] == f"Bearer {TEST_KEY}"
    written = files_under(settings.db_path.parent)
    assert {path.suffix for path in written} >= {".sqlite3", ".md", ".json"}
    for path in written:
        assert TEST_KEY.encode() not in path.read_bytes(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in {path.parent for path in written}:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_crash_shows_one_sentence_and_writes_a_private_report_without_the_key(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    script = (
        "from pathlib import Path\n"
        "from tui.config import Settings\n"
        "from tui.ui.app import ChatApp\n"
        "class Broken(ChatApp):\n"
        "    def on_ready(self) -> None:\n"
        "        api_key = self.settings.api_key\n"
        "        raise RuntimeError('a bug in a handler, key in a local: ' + api_key[:0])\n"
        f"s = Settings(model='m', base_url={server.base_url!r}, api_key={TEST_KEY!r},"
        f" db_path=Path({str(data / 'history.sqlite3')!r}))\n"
        "raise SystemExit(Broken(s).run(headless=True) or 0)\n"
    )
    script_file = tmp_path / "broken_app.py"  # Textual finds CSS relative to a real file
    script_file.write_text(script)
    result = subprocess.run(
        [sys.executable, str(script_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "100", "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    shown = result.stdout + result.stderr
    assert "stopped after an internal error" in shown
    assert "Traceback" not in shown and TEST_KEY not in shown
    reports = list(data.glob("crash-*.txt"))
    assert len(reports) == 1
    report = reports[0].read_text()
    assert "RuntimeError: a bug in a handler" in report and TEST_KEY not in report
    assert stat.S_IMODE(reports[0].stat().st_mode) == 0o600
    assert reports[0].name in "".join(shown.split())


def test_a_profile_that_keeps_openais_address_is_not_sent_elsewhere_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A profile picked by name keeps its own base URL, OpenAI's when it names none; the
    client library reads OPENAI_BASE_URL itself when given no base URL, and would have sent
    the profile's key to whatever server that names."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/elsewhere")
    backend = ChatBackend(Settings(api_key="sk-openai-profile", db_path=tmp_path / "h.db"))
    assert str(backend._get_client().base_url) == OPENAI_BASE_URL + "/"

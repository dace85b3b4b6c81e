"""Bad settings and odd servers get a clear message naming the setting or the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.test_config import run_tui, write_config
from tests.ui_helpers import screen_text, send_and_settle, type_and_send, wait_until
from tui.config import Settings
from tui.config_file import ConfigError, load_settings
from tui.store import Store
from tui.ui.app import ChatApp


@pytest.mark.parametrize(
    ("profile", "line", "message"),
    [
        ('api_key_command = ""', 3, "api_key_command is empty"),
        ("timeout = -1", 3, "timeout = -1 is out of range: use 0.1 to 3600 seconds"),
        ("timeout = nan", 3, "timeout = nan is out of range"),
        ("connect_timeout = 0", 3, "connect_timeout = 0 is out of range"),
        ("max_retries = 1000", 3, "max_retries = 1000 is out of range: use 0 to 10 retries"),
        ('headers = { "X-A" = "a\\nb" }', 3, "header 'X-A' holds a line break"),
    ],
)
def test_each_bad_profile_value_names_the_line_and_the_fix(
    tmp_path: Path, profile: str, line: int, message: str
) -> None:
    path = write_config(tmp_path, f'default_profile = "a"\n[profiles.a]\n{profile}\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert caught.value.line == line, str(caught.value)
    assert message in str(caught.value)


def test_an_empty_key_command_stops_the_app_without_a_traceback(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.a]\napi_key_command = ""\n')
    result = run_tui("--config", str(path), "--profile", "a", env={})
    assert result.returncode == 2 and "api_key_command is empty" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_missing_key_variable_is_said_at_start(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path,
        f'[profiles.a]\nbase_url = "{server.base_url}"\napi_key_env = "NO_SUCH_KEY_VAR"\n',
    )
    settings = load_settings(path, env={"TUI_CHAT_DB": str(tmp_path / "h.db")}, profile="a")
    async with ChatApp(settings).run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        assert "$NO_SUCH_KEY_VAR, which is not set" in screen_text(pilot)
    result = run_tui("--config", str(path), "--profile", "a", "-p", "hi", env={})
    assert "$NO_SUCH_KEY_VAR, which is not set" in result.stderr


def test_pipe_mode_on_an_ascii_only_terminal_escapes_what_it_cannot_show(
    server: OpenAIStyleServer,
) -> None:
    server.queue(StreamReply(deltas=["Smile ", "😀", " done"]))
    result = subprocess.run(
        [sys.executable, "-m", "tui", "-p", "hi"],
        capture_output=True,
        env={
            **os.environ,
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": TEST_KEY,
            "PYTHONIOENCODING": "ascii",
        },
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Smile \\U0001f600 done"
    assert b"Traceback" not in result.stderr


async def test_a_server_slow_to_answer_shows_a_counting_wait(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["At last."], headers_delay=1.5))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "Hello?")
        await wait_until(pilot, lambda: "Connecting… 1." in screen_text(pilot), timeout=3)
        await wait_until(pilot, lambda: "At last." in screen_text(pilot), timeout=5)


async def test_a_usage_figure_beyond_any_integer_column_still_saves_the_reply(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    huge = {"prompt_tokens": 2**70, "completion_tokens": 3, "total_tokens": 2**70 + 3}
    server.queue(StreamReply(deltas=["Counted."], usage=huge))
    async with ChatApp(settings).run_test(size=(140, 30)) as pilot:
        await send_and_settle(pilot, "Count")
        assert "Counted." in screen_text(pilot)
    store = Store.open(settings.db_path)
    conversation = store.load_conversation(store.latest_conversation_id() or 0)
    assert conversation is not None
    reply = conversation.messages[-1]
    assert reply.content == "Counted." and reply.status.value == "done"
    assert reply.usage is not None and reply.usage.prompt_tokens == 2**63 - 1

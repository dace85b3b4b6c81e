"""First run, no key, no config: the welcome screen finds local servers and sets one up."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

from tests.openai_server import OpenAIStyleServer
from tests.ui_helpers import chat_screen, replies, screen_text, send_and_settle, wait_until
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.config_file import load_settings
from tui.local_probe import LocalServer, probe_local_servers
from tui.ui.app import ChatApp
from tui.ui.welcome_screen import WelcomeScreen


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_the_probe_finds_a_running_server_and_ignores_a_closed_port(
    server: OpenAIStyleServer,
) -> None:
    server.models = ["llama3.2", "qwen3"]
    found = await probe_local_servers(
        [LocalServer("Closed", closed_port()), LocalServer("Test", server.port)]
    )
    assert [(item.server.name, item.models) for item in found] == [("Test", ("llama3.2", "qwen3"))]


async def test_welcome_offers_the_local_server_and_saves_it_as_the_default_profile(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    config = tmp_path / "config" / "config.toml"
    settings = Settings(api_key=None, base_url=None, db_path=tmp_path / "h.db", config_path=config)
    candidates = [LocalServer("Closed", closed_port()), LocalServer("Test Server", server.port)]
    async with ChatApp(settings, local_servers=candidates).run_test(size=(110, 34)) as pilot:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, WelcomeScreen))
        await wait_until(pilot, lambda: "Test Server" in screen_text(pilot))
        text = screen_text(pilot)
        assert "OPENAI_API_KEY" in text and "Closed" not in text
        assert f"Test Server — http://127.0.0.1:{server.port}/v1 (1 model)" in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, WelcomeScreen))
        assert "testserver" in screen_text(pilot).splitlines()[0]
        await send_and_settle(pilot, "Hello local")
        assert replies(pilot)[-1].message.status is MessageStatus.DONE
        assert chat_screen(pilot).conversation.model == "test-model"
    assert server.requests[0]["model"] == "test-model"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    saved = load_settings(config, env={})
    assert (saved.profile, saved.base_url, saved.model) == (
        "testserver",
        server.base_url,
        "test-model",
    )


async def test_with_nothing_found_the_welcome_still_explains_and_closes(tmp_path: Path) -> None:
    settings = Settings(
        api_key=None, base_url=None, db_path=tmp_path / "h.db", config_path=tmp_path / "c.toml"
    )
    candidates = [LocalServer("Closed", closed_port())]
    async with ChatApp(settings, local_servers=candidates).run_test(size=(110, 34)) as pilot:
        await wait_until(pilot, lambda: "No local server answered" in screen_text(pilot))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, WelcomeScreen))
        assert "No API key is set" in screen_text(pilot)
    assert not (tmp_path / "c.toml").exists()

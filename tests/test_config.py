"""The config file: precedence, profiles used end to end, and errors that point at a line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import replies, screen_text, send_and_settle
from tui.chat.message import MessageStatus
from tui.config_file import ConfigError, load_settings
from tui.ui.app import ChatApp


def write_config(folder: Path, text: str, mode: int = 0o600) -> Path:
    path = folder / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def run_tui(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT"))}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
        cwd=Path(__file__).parent.parent,
    )


def test_defaults_then_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        'default_profile = "main"\nsystem_prompt = "from file"\n'
        '[profiles.main]\nmodel = "file-model"\nbase_url = "http://file.example/v1"\n'
        "timeout = 90\n",
    )
    from_file = load_settings(path, env={})
    assert (from_file.model, from_file.base_url, from_file.idle_timeout) == (
        "file-model",
        "http://file.example/v1",
        90.0,
    )
    assert from_file.system_prompt == "from file" and from_file.profile == "main"
    env = {"TUI_CHAT_MODEL": "env-model", "OPENAI_BASE_URL": "http://env.example/v1"}
    from_env = load_settings(path, env=env)
    assert (from_env.model, from_env.base_url) == ("env-model", "http://env.example/v1")
    from_flags = load_settings(path, env=env, model="flag-model", base_url="http://flag/v1")
    assert (from_flags.model, from_flags.base_url) == ("flag-model", "http://flag/v1")
    assert load_settings(tmp_path / "absent.toml", env={}).model == "gpt-4o-mini"


def test_a_profile_named_on_the_command_line_keeps_its_url_and_key_source(
    tmp_path: Path,
) -> None:
    path = write_config(
        tmp_path,
        '[profiles.router]\nbase_url = "http://router/v1"\napi_key_env = "ROUTER_KEY"\n',
    )
    env = {"OPENAI_BASE_URL": "http://env/v1", "OPENAI_API_KEY": "sk-openai", "ROUTER_KEY": "k2"}
    settings = load_settings(path, env=env, profile="router")
    assert settings.base_url == "http://router/v1" and settings.api_key == "k2"


def test_a_profile_drives_a_real_request_with_its_key_command_headers_and_params(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    key_script = tmp_path / "print_key.py"
    key_script.write_text("print('sk-from-a-command')\n")
    command = f"{sys.executable} {key_script}"
    path = write_config(
        tmp_path,
        "[profiles.test]\n"
        f'base_url = "{server.base_url}"\n'
        'model = "profile-model"\n'
        f"api_key_command = '{command}'\n"
        'headers = { "X-Title" = "tui-chat tests" }\n'
        'params = { temperature = 0.25, max_tokens = 64, reasoning_effort = "low" }\n',
    )
    server.queue(StreamReply(deltas=["via ", "profile"]))
    result = run_tui("--config", str(path), "--profile", "test", "-p", "Hi", env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "via profile"
    request, headers = server.requests[0], server.request_headers[0]
    assert request["model"] == "profile-model"
    assert (request["temperature"], request["max_tokens"], request["reasoning_effort"]) == (
        0.25,
        64,
        "low",
    )
    assert headers["authorization"] == "Bearer sk-from-a-command"
    assert headers["x-title"] == "tui-chat tests"


async def test_the_app_runs_on_a_profile_and_names_it_in_the_header(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path,
        'default_profile = "mine"\ntheme = "nord"\n'
        f'[profiles.mine]\nbase_url = "{server.base_url}"\n'
        'model = "test-model"\napi_key_env = "NO_SUCH_VARIABLE"\n',
    )
    settings = load_settings(path, env={"TUI_CHAT_DB": str(tmp_path / "h.db")})
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await send_and_settle(pilot, "Hello")
        assert replies(pilot)[-1].message.status is MessageStatus.DONE
        assert "mine" in screen_text(pilot).splitlines()[0]
        assert pilot.app.theme == "nord"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('model = "x"\n[profiles.a]\nmodle = "y"\n', 1, "unknown setting 'model'"),
        ('[profiles.a]\nbase_url = "u"\nmodle = "y"\n', 3, "did you mean 'model'?"),
        ('[profiles.a]\n\ntimeout = "slow"\n', 3, "'timeout' must be a whole number or a number"),
        ('[profiles.a]\nbase_url = "u\n', 2, "not valid TOML"),
        ('default_profile = "b"\n[profiles.a]\nmodel = "m"\n', 1, "'b' is not defined"),
        (
            '[profiles.a]\napi_key_env = "A"\napi_key_command = "b"\n',
            3,
            "choose one way to get the key",
        ),
    ],
)
def test_a_bad_config_names_the_file_the_line_and_the_problem(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert caught.value.line == line
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_the_app_does_not_start_half_configured(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.a]\nbase_url = "http://x/v1"\nmodle = "m"\n')
    result = run_tui("--config", str(path), "--profile", "a", env={})
    assert result.returncode == 2
    assert f"config error in {path}, line 3: unknown setting 'modle'" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_tui("--profile", "nope", env={"XDG_CONFIG_HOME": str(tmp_path / "empty")})
    assert missing.returncode == 2 and "no config file" in missing.stderr


def test_a_key_pasted_into_a_readable_file_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.a]\napi_key = "sk-pasted"\n', mode=0o644)
    with pytest.raises(ConfigError, match="chmod 600") as caught:
        load_settings(path, env={}, profile="a")
    assert caught.value.line == 2 and "sk-pasted" not in str(caught.value)
    path.chmod(0o600)
    assert load_settings(path, env={}, profile="a").api_key == "sk-pasted"


def test_config_path_follows_xdg_and_init_writes_a_private_example(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    shown = run_tui("config", "path", env=env)
    expected = tmp_path / "xdg" / "tui-chat" / "config.toml"
    assert shown.stdout.strip() == str(expected)
    assert run_tui("config", "init", env=env).returncode == 0
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    assert "[profiles.local]" in expected.read_text()
    assert load_settings(expected, env={}).profile is None  # the example is all comments
    assert run_tui("config", "init", env=env).returncode == 1  # never overwrites

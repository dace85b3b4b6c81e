"""Reads the TOML config file and turns it into settings or a precise error.

The file's keys, types and values are checked, each mistake located on its line, in
`tui.config_checks`; here the file is read, and the chosen profile (its key from the
file, a variable or a command) is applied over the defaults. Writing config files is
`tui.config_writing`; `write_example_config` and `save_first_profile` are importable from
here too, where their callers have always found them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui.config import Settings, apply_flags, settings_from_environment
from tui.config_checks import (
    ConfigError,
    ConfigFile,
    check_config,
    flat_keymap,
    line_of,
    profile_names,
)
from tui.config_writing import save_first_profile as save_first_profile
from tui.config_writing import write_example_config as write_example_config

KEY_COMMAND_TIMEOUT = 15.0


def read_config_file(path: Path) -> ConfigFile | None:
    """None when the file does not exist: no config is a fine config."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, f"cannot read it ({error})") from error
    import tomllib  # only with a file to read (2 ms of the launch without one)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or _line_from_message(str(error))
        message = getattr(error, "msg", None) or re.sub(r" \(at line .*\)$", "", str(error))
        raise ConfigError(path, f"not valid TOML: {message}", line) from error
    config = ConfigFile(path, data, text)
    check_config(config)
    return config


def _line_from_message(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


def load_settings(
    config_path: Path | None,
    *,
    explicit_path: bool = False,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    model: str | None = None,
    base_url: str | None = None,
    system_prompt: str | None = None,
    db_path: str | None = None,
) -> Settings:
    """Builds the settings: defaults < file (top level, then the profile) < environment <
    flags. A profile named by --profile or TUI_CHAT_PROFILE also beats OPENAI_BASE_URL:
    naming it is as explicit as a flag."""
    env = os.environ if env is None else env
    settings = Settings()
    config = None
    if config_path is not None:
        config = read_config_file(config_path)
        if config is None and explicit_path:
            raise ConfigError(config_path, "the file does not exist")
    chosen = profile or env.get("TUI_CHAT_PROFILE", "").strip() or None
    keep_key = False
    settings = replace(settings, config_path=config_path)
    if config is not None:
        settings, keep_key = _apply_file(settings, config, chosen, env)
    elif chosen is not None:
        raise ConfigError(
            config_path or Path("config.toml"),
            f"profile {chosen!r} asked for, but there is no config file",
        )
    settings = settings_from_environment(
        env, settings, keep_key=keep_key, keep_base_url=chosen is not None
    )
    return apply_flags(
        settings, model=model, base_url=base_url, system_prompt=system_prompt, db_path=db_path
    )


def _apply_file(
    settings: Settings, config: ConfigFile, chosen: str | None, env: Mapping[str, str]
) -> tuple[Settings, bool]:
    data = config.data
    settings = replace(
        settings,
        theme=data.get("theme"),
        system_prompt=data.get("system_prompt"),
        system_prompts=dict(data.get("system_prompts", {})),
        keymap=flat_keymap(data.get("keymap", {})),
    )
    if "image_max_mb" in data:
        settings = replace(settings, image_max_bytes=int(data["image_max_mb"] * 1024 * 1024))
    if "thumbnails" in data:
        settings = replace(settings, thumbnails=data["thumbnails"])
    if "mcp_servers" in data or "tools" in data:
        from tui.tools.config import read_tool_limits, read_tool_servers

        settings = replace(
            settings,
            tool_servers=read_tool_servers(data.get("mcp_servers", {}), env),
            tool_limits=read_tool_limits(data.get("tools", {})),
        )
    profiles = data.get("profiles", {})
    name = chosen or data.get("default_profile")
    if name is None:
        return settings, False
    if name not in profiles:
        raise ConfigError(
            config.path, f"there is no profile {name!r} (profiles: {profile_names(profiles)})"
        )
    profile = profiles[name]
    table = f"profiles.{name}"
    changes: dict[str, Any] = {"profile": name}
    for key, field_name in (("base_url", "base_url"), ("model", "model")):
        if key in profile:
            changes[field_name] = profile[key]
    if "system_prompt" in profile:
        changes["system_prompt"] = profile["system_prompt"]
    if "api" in profile:
        changes["api"] = profile["api"]
    if "context_window" in profile:
        changes["context_window"] = profile["context_window"]
    if "timeout" in profile:
        changes["idle_timeout"] = float(profile["timeout"])
    if "connect_timeout" in profile:
        changes["connect_timeout"] = float(profile["connect_timeout"])
    if "max_retries" in profile:
        changes["max_retries"] = max(0, profile["max_retries"])
    changes["headers"] = dict(profile.get("headers", {}))
    changes["params"] = dict(profile.get("params", {}))
    keep_key = False
    if "api_key" in profile:
        changes["api_key"] = profile["api_key"]
        keep_key = True
    elif "api_key_env" in profile:
        variable = profile["api_key_env"]
        changes["api_key"] = env.get(variable, "").strip() or None
        if changes["api_key"] is None:
            changes["notices"] = (
                f"Profile {name!r} reads its API key from ${variable}, which is not set: "
                f"export {variable}=... and restart (requests will fail without it).",
            )
        keep_key = True
    elif "api_key_command" in profile:
        changes["api_key"] = _run_key_command(
            config, profile["api_key_command"], line_of(config, "api_key_command", table)
        )
        keep_key = True
    return replace(settings, **changes), keep_key


def _run_key_command(config: ConfigFile, command: str, line: int | None) -> str:
    """Runs the profile's key command (no shell) and takes its first output line."""
    try:
        result = subprocess.run(
            shlex.split(command),
            capture_output=True,
            text=True,
            timeout=KEY_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        raise ConfigError(config.path, f"api_key_command failed: {error}", line) from error
    key = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    if result.returncode != 0 or not key:
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        raise ConfigError(
            config.path,
            f"api_key_command exited with status {result.returncode} and no key"
            + (f" ({reason})" if reason else ""),
            line,
        )
    return key

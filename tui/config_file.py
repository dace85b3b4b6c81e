"""Reads and checks the TOML config file, turning it into settings or a precise error.

A config mistake must stop the app before it starts half-configured, and the message has
to say which file, which line and what is wrong: tomllib reports syntax errors with a
position but knows nothing of our keys, so unknown keys and wrong types are located here
by finding the line that sets them.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui.commands import keymap_problems
from tui.config import Settings, apply_flags, settings_from_environment
from tui.frozen import frozen
from tui.private_files import make_private_folder

TOP_LEVEL_KEYS = {
    "default_profile": str,
    "theme": str,
    "system_prompt": str,
    "system_prompts": dict,
    "profiles": dict,
    "keymap": dict,
    "mcp_servers": dict,
    "image_max_mb": (int, float),
    "thumbnails": str,
    "tools": dict,
}
PROFILE_KEYS = {
    "base_url": str,
    "model": str,
    "api_key_env": str,
    "api_key_command": str,
    "api_key": str,
    "headers": dict,
    "params": dict,
    "timeout": (int, float),
    "connect_timeout": (int, float),
    "max_retries": int,
    "system_prompt": str,
    "api": str,
    "context_window": int,
}
APIS = ("chat", "responses")
THUMBNAILS = ("auto", "on", "off")
"""`thumbnails`: auto draws them where the terminal names itself as one that draws
pictures, on asks any terminal, off never (`tui.ui.terminal_graphics`)."""
KEY_COMMAND_TIMEOUT = 15.0

EXAMPLE = """\
# tui-chat configuration. Precedence: built-in defaults < this file < environment < flags.
# Pick a profile with --profile NAME (or TUI_CHAT_PROFILE); default_profile otherwise.

# default_profile = "local"
# theme = "textual-dark"
# system_prompt = "You are a concise assistant."
# thumbnails = "auto"         # of a prompt's images, in kitty, WezTerm, foot... ("on", "off")

# [keymap]                    # command id = keys (F1 lists the ids; README has them all)
# "chat.retry" = "ctrl+r,f5"
# "chat.copy" = "ctrl+o"

# [system_prompts]            # presets, chosen in the app with F3
# terse = "Answer in one or two sentences."
# reviewer = "You review code for bugs and explain each one."

# [profiles.openai]
# model = "gpt-4o-mini"
# api_key_env = "OPENAI_API_KEY"             # the name of a variable, not the key

# [profiles.local]                            # Ollama
# base_url = "http://127.0.0.1:11434/v1"
# model = "llama3.2"
# timeout = 120                               # seconds without a byte before giving up

# [profiles.openrouter]
# base_url = "https://openrouter.ai/api/v1"
# api_key_command = "pass show openrouter"    # a command that prints the key
# model = "deepseek/deepseek-r1"
# headers = { "X-Title" = "tui-chat" }
# params = { temperature = 0.6, max_tokens = 4096, reasoning_effort = "low" }
# api = "responses"           # the Responses API instead of Chat Completions ("chat")
"""


class ConfigError(Exception):
    """A problem with the config file, told with where it is."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"config error in {where}: {message}")
        self.path = path
        self.line = line


@frozen
class ConfigFile:
    path: Path
    data: Mapping[str, Any]
    text: str


def read_config_file(path: Path) -> ConfigFile | None:
    """None when the file does not exist: no config is a fine config."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, f"cannot read it ({error})") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or _line_from_message(str(error))
        message = getattr(error, "msg", None) or re.sub(r" \(at line .*\)$", "", str(error))
        raise ConfigError(path, f"not valid TOML: {message}", line) from error
    config = ConfigFile(path, data, text)
    _check(config)
    return config


def _line_from_message(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


def _line_of(config: ConfigFile, key: str, table: str | None = None) -> int | None:
    """The line that sets `key` (inside `[table]` if given): tomllib keeps no positions."""
    lines = config.text.splitlines()
    start = 0
    if table is not None:
        header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
        for number, line in enumerate(lines):
            if header.match(line):
                start = number + 1
                break
        else:
            start = 0
    pattern = re.compile(rf'^\s*("?){re.escape(key)}\1\s*=')
    for number in range(start, len(lines)):
        if pattern.match(lines[number]):
            return number + 1
    if table is not None:
        return _line_of(config, table.split(".")[-1])
    return None


def _check_keys(
    config: ConfigFile, values: Mapping[str, Any], allowed: Mapping[str, Any], table: str | None
) -> None:
    place = f"[{table}]" if table else "the top level"
    for key, value in values.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                config.path,
                f"unknown setting {key!r} in {place}{hint}",
                _line_of(config, key, table),
            )
        expected = allowed[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            names = expected if isinstance(expected, tuple) else (expected,)
            wanted = " or ".join(_type_name(kind) for kind in names)
            raise ConfigError(
                config.path,
                f"{key!r} must be {wanted}, not {_type_name(type(value))}",
                _line_of(config, key, table),
            )


def _type_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", float: "a number", dict: "a table"}.get(
        kind, kind.__name__
    )


def _check(config: ConfigFile) -> None:
    data = config.data
    _check_keys(config, data, TOP_LEVEL_KEYS, None)
    for name, preset in data.get("system_prompts", {}).items():
        if not isinstance(preset, str):
            raise ConfigError(
                config.path,
                f"system prompt preset {name!r} must be a string",
                _line_of(config, name, "system_prompts"),
            )
    profiles = data.get("profiles", {})
    for name, profile in profiles.items():
        table = f"profiles.{name}"
        if not isinstance(profile, dict):
            raise ConfigError(
                config.path, f"profile {name!r} must be a table", _line_of(config, name)
            )
        _check_keys(config, profile, PROFILE_KEYS, table)
        sources = [key for key in ("api_key_env", "api_key_command", "api_key") if key in profile]
        if len(sources) > 1:
            raise ConfigError(
                config.path,
                f"profile {name!r} sets {' and '.join(sources)}: choose one way to get the key",
                _line_of(config, sources[1], table),
            )
        for key, value in profile.get("headers", {}).items():
            if not isinstance(value, str):
                raise ConfigError(
                    config.path,
                    f"header {key!r} must be a string",
                    _line_of(config, "headers", table),
                )
            if any(char in f"{key}{value}" for char in "\r\n\0"):
                raise ConfigError(
                    config.path,
                    f"header {key!r} holds a line break; a header is one line",
                    _line_of(config, "headers", table),
                )
        _check_numbers(config, profile, table)
        if profile.get("api", "chat") not in APIS:
            raise ConfigError(
                config.path,
                f'api = {profile["api"]!r}: use "chat" (Chat Completions, the default) or '
                '"responses" (the Responses API)',
                _line_of(config, "api", table),
            )
        if "api_key_command" in profile and not profile["api_key_command"].strip():
            raise ConfigError(
                config.path,
                "api_key_command is empty; name a command that prints the key, such as "
                '"pass show openai"',
                _line_of(config, "api_key_command", table),
            )
        if "api_key" in profile:
            _refuse_if_others_can_read(config.path, _line_of(config, "api_key", table))
    for command_id, problem in keymap_problems(flat_keymap(data.get("keymap", {}))):
        raise ConfigError(
            config.path,
            f"[keymap] {command_id!r}: {problem}",
            _line_of(config, command_id, "keymap"),
        )
    _check_tools(config)
    image_max = data.get("image_max_mb", 20)
    if not (isinstance(image_max, int | float) and 0 < image_max <= 1024):
        raise ConfigError(
            config.path,
            f"image_max_mb = {image_max}: use a size in megabytes, up to 1024",
            _line_of(config, "image_max_mb"),
        )
    thumbnails = data.get("thumbnails", "auto")
    if thumbnails not in THUMBNAILS:
        raise ConfigError(
            config.path,
            f"thumbnails = {thumbnails!r}: use one of {', '.join(map(repr, THUMBNAILS))}",
            _line_of(config, "thumbnails"),
        )
    default = data.get("default_profile")
    if default is not None and default not in profiles:
        raise ConfigError(
            config.path,
            f"default_profile {default!r} is not defined (profiles: {_names(profiles)})",
            _line_of(config, "default_profile"),
        )


def flat_keymap(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`chat.retry = "f5"` unquoted is a nested table in TOML; quoted it is one key: both
    mean the command id "chat.retry"."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(flat_keymap(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


NUMBER_LIMITS = {
    "timeout": (0.1, 3600.0, "seconds"),
    "connect_timeout": (0.1, 600.0, "seconds"),
    "max_retries": (0, 10, "retries"),
    "context_window": (256, 100_000_000, "tokens"),
}
"""What makes sense for each number: a negative or NaN timeout would never fire or always
fire, and a thousand retries would hammer a server that is down."""


def _check_numbers(config: ConfigFile, profile: Mapping[str, Any], table: str) -> None:
    for key, (lowest, highest, unit) in NUMBER_LIMITS.items():
        if key not in profile:
            continue
        value = profile[key]
        if not math.isfinite(value) or not lowest <= value <= highest:
            raise ConfigError(
                config.path,
                f"{key} = {value} is out of range: use {lowest:g} to {highest:g} {unit}",
                _line_of(config, key, table),
            )


def _refuse_if_others_can_read(path: Path, line: int | None) -> None:
    """A key pasted into the file is tolerated only while the file is private."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            path,
            f"it holds an api_key but others can read it (mode {mode:o}); run: chmod 600 {path}"
            " (or use api_key_env / api_key_command instead)",
            line,
        )


def _names(profiles: Mapping[str, Any]) -> str:
    return ", ".join(sorted(profiles)) or "none"


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


def _check_tools(config: ConfigFile) -> None:
    data = config.data
    if "mcp_servers" not in data and "tools" not in data:
        return
    from tui.tools.config import ToolConfigProblem, read_tool_limits, read_tool_servers

    try:
        read_tool_servers(data.get("mcp_servers", {}), env={})
        read_tool_limits(data.get("tools", {}))
    except ToolConfigProblem as problem:
        raise ConfigError(config.path, str(problem), _line_of(config, problem.key or "")) from None


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
            config.path, f"there is no profile {name!r} (profiles: {_names(profiles)})"
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
            config, profile["api_key_command"], _line_of(config, "api_key_command", table)
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


def write_example_config(path: Path) -> bool:
    """Creates a commented example file (private, since a user may paste a key into it);
    False when a file is already there."""
    if path.exists():
        return False
    make_private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(EXAMPLE)
    return True


def save_first_profile(path: Path, name: str, base_url: str, model: str | None) -> None:
    """Writes a new config file whose default profile is the server the user just picked
    on the welcome screen (the commented example follows, for the next profiles)."""
    lines = [f"default_profile = {_toml_string(name)}", ""]
    lines += [f"[profiles.{name}]", f"base_url = {_toml_string(base_url)}"]
    if model:
        lines.append(f"model = {_toml_string(model)}")
    text = "\n".join(lines) + "\n\n" + EXAMPLE
    make_private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string

"""Checks a parsed config file against the settings tui-chat knows, locating each mistake.

A config mistake must stop the app before it starts half-configured, and the message has
to say which file, which line and what is wrong: tomllib reports syntax errors with a
position but knows nothing of our keys, so unknown keys, wrong types and values out of
range are located here by finding the line that sets them. Separate from
`tui.config_file`, which reads the file and turns it into settings, because knowing every
key, its type and its limits is a job of its own; the error and the parsed file live here,
at the bottom, as both modules need them.
"""

from __future__ import annotations

import difflib
import math
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tui.commands import keymap_problems
from tui.frozen import frozen

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


def line_of(config: ConfigFile, key: str, table: str | None = None) -> int | None:
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
        return line_of(config, table.split(".")[-1])
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
                line_of(config, key, table),
            )
        expected = allowed[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            names = expected if isinstance(expected, tuple) else (expected,)
            wanted = " or ".join(_type_name(kind) for kind in names)
            raise ConfigError(
                config.path,
                f"{key!r} must be {wanted}, not {_type_name(type(value))}",
                line_of(config, key, table),
            )


def _type_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", float: "a number", dict: "a table"}.get(
        kind, kind.__name__
    )


def check_config(config: ConfigFile) -> None:
    data = config.data
    _check_keys(config, data, TOP_LEVEL_KEYS, None)
    for name, preset in data.get("system_prompts", {}).items():
        if not isinstance(preset, str):
            raise ConfigError(
                config.path,
                f"system prompt preset {name!r} must be a string",
                line_of(config, name, "system_prompts"),
            )
    profiles = data.get("profiles", {})
    for name, profile in profiles.items():
        table = f"profiles.{name}"
        if not isinstance(profile, dict):
            raise ConfigError(
                config.path, f"profile {name!r} must be a table", line_of(config, name)
            )
        _check_keys(config, profile, PROFILE_KEYS, table)
        sources = [key for key in ("api_key_env", "api_key_command", "api_key") if key in profile]
        if len(sources) > 1:
            raise ConfigError(
                config.path,
                f"profile {name!r} sets {' and '.join(sources)}: choose one way to get the key",
                line_of(config, sources[1], table),
            )
        for key, value in profile.get("headers", {}).items():
            if not isinstance(value, str):
                raise ConfigError(
                    config.path,
                    f"header {key!r} must be a string",
                    line_of(config, "headers", table),
                )
            if any(char in f"{key}{value}" for char in "\r\n\0"):
                raise ConfigError(
                    config.path,
                    f"header {key!r} holds a line break; a header is one line",
                    line_of(config, "headers", table),
                )
        _check_numbers(config, profile, table)
        if profile.get("api", "chat") not in APIS:
            raise ConfigError(
                config.path,
                f'api = {profile["api"]!r}: use "chat" (Chat Completions, the default) or '
                '"responses" (the Responses API)',
                line_of(config, "api", table),
            )
        if "api_key_command" in profile and not profile["api_key_command"].strip():
            raise ConfigError(
                config.path,
                "api_key_command is empty; name a command that prints the key, such as "
                '"pass show openai"',
                line_of(config, "api_key_command", table),
            )
        if "api_key" in profile:
            _refuse_if_others_can_read(config.path, line_of(config, "api_key", table))
    for command_id, problem in keymap_problems(flat_keymap(data.get("keymap", {}))):
        raise ConfigError(
            config.path,
            f"[keymap] {command_id!r}: {problem}",
            line_of(config, command_id, "keymap"),
        )
    _check_tools(config)
    image_max = data.get("image_max_mb", 20)
    if not (isinstance(image_max, int | float) and 0 < image_max <= 1024):
        raise ConfigError(
            config.path,
            f"image_max_mb = {image_max}: use a size in megabytes, up to 1024",
            line_of(config, "image_max_mb"),
        )
    thumbnails = data.get("thumbnails", "auto")
    if thumbnails not in THUMBNAILS:
        raise ConfigError(
            config.path,
            f"thumbnails = {thumbnails!r}: use one of {', '.join(map(repr, THUMBNAILS))}",
            line_of(config, "thumbnails"),
        )
    default = data.get("default_profile")
    if default is not None and default not in profiles:
        raise ConfigError(
            config.path,
            f"default_profile {default!r} is not defined (profiles: {profile_names(profiles)})",
            line_of(config, "default_profile"),
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
                line_of(config, key, table),
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


def profile_names(profiles: Mapping[str, Any]) -> str:
    return ", ".join(sorted(profiles)) or "none"


def _check_tools(config: ConfigFile) -> None:
    data = config.data
    if "mcp_servers" not in data and "tools" not in data:
        return
    from tui.tools.config import ToolConfigProblem, read_tool_limits, read_tool_servers

    try:
        read_tool_servers(data.get("mcp_servers", {}), env={})
        read_tool_limits(data.get("tools", {}))
    except ToolConfigProblem as problem:
        raise ConfigError(config.path, str(problem), line_of(config, problem.key or "")) from None

"""The `[mcp_servers.NAME]` tables of the config file, read into plain settings.

A stdio server is `command` + `args` (+ `env`, `cwd`); a streamable HTTP server is `url`
(+ `headers`). `${VAR}` in any value comes from the environment. A server gets only the
variables its table names (and what a process needs to start, such as PATH: see
`tui.tools.servers`), never the environment wholesale.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from tui.frozen import frozen

SERVER_KEYS: dict[str, type | tuple[type, ...]] = {
    "command": str,
    "args": list,
    "env": dict,
    "cwd": str,
    "url": str,
    "headers": dict,
    "allow": list,
    "timeout": (int, float),
    "enabled": bool,
}
TOOLS_KEYS: dict[str, type | tuple[type, ...]] = {
    "max_rounds": int,
    "timeout": (int, float),
    "result_limit": int,
}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ToolConfigProblem(ValueError):
    """A table that cannot work as written; `key` names where (for the line number)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@frozen
class ToolServerConfig:
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    allowed: frozenset[str] = frozenset()
    """Tools that run without asking (the config's `allow`; "*" for all of them)."""
    timeout: float | None = None
    missing: tuple[str, ...] = ()
    """`${VAR}`s that are not set: the server is shown failed, saying which."""

    def allows(self, tool: str) -> bool:
        return "*" in self.allowed or tool in self.allowed


@frozen
class ToolLimits:
    max_rounds: int = 10
    """Model calls after the first in one reply, each answering tool results."""
    timeout: float = 120.0
    """Seconds a call may run before it is given up (a server's `timeout` overrides)."""
    result_limit: int = 50_000
    """Characters of a result sent to the model; the store keeps all of it."""


def read_tool_servers(
    tables: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> tuple[ToolServerConfig, ...]:
    env = os.environ if env is None else env
    servers = []
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ToolConfigProblem(f"mcp_servers.{name} must be a table", name)
        servers.append(_server(name, table, env))
    return tuple(server for server in servers if server is not None)


def read_tool_limits(table: Mapping[str, Any]) -> ToolLimits:
    _check_types(table, TOOLS_KEYS, "tools")
    limits = ToolLimits(
        max_rounds=int(table.get("max_rounds", ToolLimits.max_rounds)),
        timeout=float(table.get("timeout", ToolLimits.timeout)),
        result_limit=int(table.get("result_limit", ToolLimits.result_limit)),
    )
    if not 0 <= limits.max_rounds <= 100:
        raise ToolConfigProblem("[tools] max_rounds must be between 0 and 100", "max_rounds")
    if not 0 < limits.timeout <= 86_400:
        raise ToolConfigProblem("[tools] timeout must be 1 to 86400 seconds", "timeout")
    if not 1_000 <= limits.result_limit <= 10_000_000:
        raise ToolConfigProblem("[tools] result_limit must be 1000 to 10000000", "result_limit")
    return limits


def _server(name: str, table: Mapping[str, Any], env: Mapping[str, str]) -> ToolServerConfig | None:
    where = f"mcp_servers.{name}"
    _check_types(table, SERVER_KEYS, where)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", name):
        raise ToolConfigProblem(
            f"[{where}]: a server's name is 1-32 letters, digits, '-' or '_'", name
        )
    if ("command" in table) == ("url" in table):
        raise ToolConfigProblem(
            f"[{where}] needs either command (a program started over stdio) or url (a "
            "streamable HTTP server), not both",
            name,
        )
    if not table.get("enabled", True):
        return None
    missing: list[str] = []

    def expand(value: object, key: str) -> str:
        if not isinstance(value, str):
            raise ToolConfigProblem(f"[{where}] {key}: every value must be a string", key)

        def variable(match: re.Match[str]) -> str:
            if match.group(1) not in env:
                missing.append(match.group(1))
                return ""
            return env[match.group(1)]

        return _VARIABLE.sub(variable, value)

    timeout = table.get("timeout")
    if timeout is not None and not 0 < timeout <= 86_400:
        raise ToolConfigProblem(f"[{where}] timeout must be 1 to 86400 seconds", "timeout")
    return ToolServerConfig(
        name=name,
        command=expand(table["command"], "command") if "command" in table else None,
        args=tuple(expand(arg, "args") for arg in table.get("args", [])),
        env={key: expand(value, "env") for key, value in table.get("env", {}).items()},
        cwd=os.path.expanduser(expand(table["cwd"], "cwd")) if "cwd" in table else None,
        url=expand(table["url"], "url") if "url" in table else None,
        headers={key: expand(value, "headers") for key, value in table.get("headers", {}).items()},
        allowed=frozenset(expand(tool, "allow") for tool in table.get("allow", [])),
        timeout=float(timeout) if timeout is not None else None,
        missing=tuple(dict.fromkeys(missing)),
    )


def _check_types(
    table: Mapping[str, Any], known: Mapping[str, type | tuple[type, ...]], where: str
) -> None:
    for key, value in table.items():
        kind = known.get(key)
        if kind is None:
            raise ToolConfigProblem(
                f"[{where}] has no setting {key!r} (known: {', '.join(sorted(known))})", key
            )
        if isinstance(value, bool) and kind is not bool:
            raise ToolConfigProblem(f"[{where}] {key} has the wrong type", key)
        if not isinstance(value, kind):
            raise ToolConfigProblem(f"[{where}] {key} has the wrong type", key)

"""The tools the model may call: each server's tools under names the API accepts.

OpenAI-style tool names must match `[A-Za-z0-9_-]{1,64}`; an MCP tool's name may not, and
two servers may both have a `search`. So each tool goes out as `server__tool` made safe
(and unique), and a call comes back through the same map. The user names a tool
`server/tool`, which is what conversations store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import field
from typing import Any

from tui.frozen import frozen

API_NAME_LENGTH = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@frozen
class ToolInfo:
    server: str
    name: str
    description: str = ""
    schema: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """How the user (and the stored choices) name it."""
        return f"{self.server}/{self.name}"


class Catalog:
    """The tools of the ready servers that are switched on, and their API names."""

    def __init__(self, tools: Iterable[ToolInfo]) -> None:
        self.by_api_name: dict[str, ToolInfo] = {}
        for tool in tools:
            base = _UNSAFE.sub("_", f"{tool.server}__{tool.name}")[:API_NAME_LENGTH]
            name, number = base, 2
            while name in self.by_api_name:
                suffix = f"_{number}"
                name, number = base[: API_NAME_LENGTH - len(suffix)] + suffix, number + 1
            self.by_api_name[name] = tool

    def __bool__(self) -> bool:
        return bool(self.by_api_name)

    def find(self, api_name: str) -> ToolInfo | None:
        return self.by_api_name.get(api_name)

    def definitions(self) -> list[dict[str, Any]]:
        """The `tools` of a Chat Completions request."""
        return [
            {
                "type": "function",
                "function": {
                    "name": api_name,
                    "description": tool.description[:1024] or f"{tool.name} ({tool.server})",
                    "parameters": _object_schema(tool.schema),
                },
            }
            for api_name, tool in self.by_api_name.items()
        ]


def _object_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The API wants an object schema; an MCP tool without parameters may send `{}`."""
    if schema.get("type") == "object":
        return schema
    return {"type": "object", "properties": {}}

"""A real MCP server (tests/mcp_tool_server.py, the `mcp` SDK over stdio) for tool tests,
and an approver that answers as scripted and remembers what it was asked."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui.chat.parts import ToolCallPart
from tui.config import Settings
from tui.tool_calls import Approval
from tui.tools.catalog import ToolInfo
from tui.tools.config import ToolLimits, ToolServerConfig

TOOL_SERVER = Path(__file__).with_name("mcp_tool_server.py")


def tool_server(name: str = "t", **overrides: Any) -> ToolServerConfig:
    fields: dict[str, Any] = {"command": sys.executable, "args": (str(TOOL_SERVER),)}
    return ToolServerConfig(name=name, **{**fields, **overrides})


def with_tools(settings: Settings, *servers: ToolServerConfig, **limits: Any) -> Settings:
    return replace(
        settings,
        tool_servers=servers or (tool_server(),),
        tool_limits=replace(ToolLimits(), **limits),
    )


class ScriptedApprover:
    def __init__(self, *answers: Approval) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str, dict[str, Any]]] = []

    async def __call__(
        self, call: ToolCallPart, tool: ToolInfo, arguments: dict[str, Any]
    ) -> Approval:
        self.asked.append((tool.key, call.call_id, arguments))
        return self.answers.pop(0) if self.answers else Approval.DENY

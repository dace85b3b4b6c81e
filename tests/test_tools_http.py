"""A streamable HTTP MCP server (the `mcp` SDK's, behind a bearer token): the headers of
its config table (with `${VAR}`) reach it, and its tools are called like a stdio server's."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.cli_helpers import wait_for_port
from tests.openai_server import OpenAIStyleServer, StreamReply, tool_call_chunks
from tests.tool_helpers import TOOL_SERVER, ScriptedApprover, with_tools
from tui.chat.parts import ToolResultPart
from tui.config import Settings
from tui.session import ChatSession
from tui.store import Store
from tui.tool_calls import make_tool_caller
from tui.tools.config import read_tool_servers
from tui.tools.servers import ServerState

TOKEN = "mcp-token-123"


@pytest.fixture
def http_tool_server() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(TOOL_SERVER), "--http", str(port), TOKEN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(5)


async def test_a_streamable_http_server_gets_its_headers_and_answers_calls(
    server: OpenAIStyleServer, settings: Settings, http_tool_server: int
) -> None:
    tables = {
        "web": {
            "url": f"http://127.0.0.1:{http_tool_server}/mcp",
            "headers": {"Authorization": "Bearer ${WEB_TOKEN}"},
            "allow": ["add"],
        },
        "locked": {"url": f"http://127.0.0.1:{http_tool_server}/mcp"},
    }
    servers = read_tool_servers(tables, env={"WEB_TOKEN": TOKEN})
    tools = make_tool_caller(with_tools(settings, *servers))
    assert tools is not None
    tools.approver = ScriptedApprover()
    session = ChatSession(settings, Store.open(settings.db_path), tools=tools)
    tools.servers.start()
    await tools.servers.wait_ready()
    try:
        assert tools.servers.statuses["web"].state is ServerState.READY
        assert tools.servers.statuses["locked"].state is ServerState.FAILED
        server.queue(
            StreamReply(
                deltas=[],
                tool_calls=tool_call_chunks([("c1", "web__add", {"a": 5, "b": 6})]),
                finish_reason="tool_calls",
            ),
            StreamReply(deltas=["11."]),
        )
        await session.send("5+6")
        await session.wait_for_reply()
    finally:
        await session.close()
    reply = session.conversation.messages[-1]
    assert [p.output for p in reply.parts if isinstance(p, ToolResultPart)] == ["11"]

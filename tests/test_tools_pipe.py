"""`tui-chat -p --tools`: tools run only with --yes (or allowed in the config); tool
activity goes to stderr and the answer alone to stdout. A real process, a real config
file, a real MCP server."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer, StreamReply, tool_call_chunks
from tests.tool_helpers import TOOL_SERVER


def config_with_tools(tmp_path: Path, allow: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"[mcp_servers.t]\ncommand = {sys.executable!r}\nargs = [{str(TOOL_SERVER)!r}]\n"
        + (f"allow = [{allow!r}]\n" if allow else ""),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def add_then_answer(server: OpenAIStyleServer) -> None:
    server.queue(
        StreamReply(
            deltas=[],
            tool_calls=tool_call_chunks([("c1", "t__add", {"a": 2, "b": 2})]),
            finish_reason="tool_calls",
        ),
        StreamReply(deltas=["Four."]),
    )


def test_pipe_with_tools_and_yes_runs_the_call_and_prints_only_the_answer(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    add_then_answer(server)
    config = config_with_tools(tmp_path)
    result = run_cli(server.base_url, "--config", str(config), "-p", "--tools", "--yes", "2+2?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Four."
    assert "running t · add" in result.stderr and "t · add: ran" in result.stderr
    assert server.requests[1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "4",
    }


def test_pipe_with_tools_without_yes_says_they_need_approval_and_runs_nothing(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    add_then_answer(server)
    config = config_with_tools(tmp_path)
    result = run_cli(server.base_url, "--config", str(config), "-p", "--tools", "2+2?")
    assert result.returncode == 0, result.stderr
    assert "tools need approval: add --yes" in result.stderr
    assert "t · add: denied" in result.stderr
    assert "denied" in server.requests[1]["messages"][-1]["content"]


def test_pipe_runs_a_tool_the_config_allows_without_yes(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    add_then_answer(server)
    config = config_with_tools(tmp_path, allow="add")
    result = run_cli(server.base_url, "--config", str(config), "-p", "--tools", "2+2?")
    assert result.returncode == 0, result.stderr
    assert server.requests[1]["messages"][-1]["content"] == "4"


def test_pipe_without_tools_offers_none_and_starts_no_server(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    server.queue(StreamReply(deltas=["Hi."]))
    config = config_with_tools(tmp_path)
    result = run_cli(server.base_url, "--config", str(config), "-p", "Hello")
    assert result.returncode == 0 and result.stdout == "Hi."
    assert "tools" not in server.requests[0]

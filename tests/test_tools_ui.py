"""Tool calls in the real app, headless: the approval dialog, the call's block under the
reply, Esc during a call, the tools screen, and untrusted tool output on screen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import SelectionList

from tests.openai_server import OpenAIStyleServer, StreamReply, tool_call_chunks
from tests.tool_helpers import with_tools
from tests.ui_helpers import (
    chat_screen,
    last_reply_settled,
    replies,
    screen_text,
    type_and_send,
    wait_until,
)
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.tools.servers import ServerState
from tui.ui.app import ChatApp
from tui.ui.tool_approval_screen import ToolApprovalScreen
from tui.ui.tools_screen import ToolsScreen


def calls_reply(call_id: str, name: str, arguments: dict) -> StreamReply:
    return StreamReply(
        deltas=["Checking."],
        tool_calls=tool_call_chunks([(call_id, name, arguments)]),
        finish_reason="tool_calls",
    )


async def tools_ready(pilot) -> None:  # type: ignore[no-untyped-def]
    tools = chat_screen(pilot).session.tools
    assert tools is not None
    await wait_until(
        pilot, lambda: tools.servers.statuses["t"].state is not ServerState.CONNECTING, 20
    )
    assert tools.servers.statuses["t"].state is ServerState.READY


async def test_a_call_is_asked_about_then_run_and_shown_under_the_reply(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(calls_reply("c1", "t__add", {"a": 20, "b": 22}), StreamReply(deltas=["It is 42."]))
    async with ChatApp(with_tools(settings)).run_test(size=(100, 36)) as pilot:
        await tools_ready(pilot)
        await type_and_send(pilot, "What is 20+22?")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ToolApprovalScreen))
        shown = screen_text(pilot)
        assert "Run add from t?" in shown and '"a": 20' in shown
        await pilot.press("enter")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        shown = screen_text(pilot)
        assert "It is 42." in shown and "⚙ t · add  ✓ ran" in shown
        view = replies(pilot)[-1]
        view.focus()
        await pilot.press("t")
        await pilot.pause()
        shown = screen_text(pilot)
        assert "arguments:" in shown and "result:" in shown
        assert server.requests[1]["messages"][-1]["content"] == "42"


async def test_esc_in_the_dialog_denies_and_esc_during_a_call_stops_it(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        calls_reply("c1", "t__add", {"a": 1, "b": 1}),
        StreamReply(deltas=["Denied, fine."]),
        calls_reply("c2", "t__slow", {"seconds": 30}),
    )
    async with ChatApp(with_tools(settings)).run_test(size=(100, 36)) as pilot:
        await tools_ready(pilot)
        await type_and_send(pilot, "Add")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ToolApprovalScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        assert "⊘ denied" in screen_text(pilot)
        await type_and_send(pilot, "Wait")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ToolApprovalScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: "running (Esc stops it)" in screen_text(pilot))
        await pilot.press("escape")
        await wait_until(pilot, lambda: last_reply_settled(pilot), 3)
        assert "■ stopped" in screen_text(pilot)
        assert replies(pilot)[-1].message.status is MessageStatus.STOPPED


async def test_tool_output_with_control_sequences_reaches_the_screen_harmlessly(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(calls_reply("c1", "t__hostile", {}), StreamReply(deltas=["Done."]))
    async with ChatApp(with_tools(settings)).run_test(size=(100, 36)) as pilot:
        await tools_ready(pilot)
        await type_and_send(pilot, "Go")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ToolApprovalScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        replies(pilot)[-1].focus()
        await pilot.press("t")
        await pilot.pause()
        shown = screen_text(pilot)
        assert "before ␛]0;pwned␇␛[2J after" in shown
        assert "\x1b" not in shown


async def test_the_tools_screen_lists_servers_and_switches_a_tool_off_for_this_chat(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(with_tools(settings)).run_test(size=(100, 40)) as pilot:
        await tools_ready(pilot)
        await type_and_send(pilot, "Hi")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ToolsScreen))
        assert "t: ready, 9 tools" in screen_text(pilot)
        tools = pilot.app.screen.query_one(SelectionList)
        assert tools.highlighted == 0, "the first tool is ready to switch"
        await pilot.press("space")
        await pilot.pause(0.2)
        await pilot.press("escape")
        server.queue(StreamReply(deltas=["ok"]))
        await type_and_send(pilot, "Again")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        conversation_id = chat_screen(pilot).session.conversation.id
    offered = [tool["function"]["name"] for tool in server.requests[-1]["tools"]]
    assert "t__add" not in offered and "t__slow" in offered
    row = (
        sqlite3.connect(Path(settings.db_path))
        .execute("SELECT tool_choices FROM conversations WHERE id = ?", (conversation_id,))
        .fetchone()
    )
    assert row[0] == '{"off": ["t/add"], "allowed": []}'

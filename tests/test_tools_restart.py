"""A process killed with SIGKILL while a tool call runs: the next start finds the call,
marked interrupted, and the conversation carries on with a complete history."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIStyleServer, StreamReply, tool_call_chunks
from tests.tool_helpers import TOOL_SERVER
from tui.chat.message import MessageStatus
from tui.chat.parts import ToolOutcome, ToolResultPart
from tui.config import Settings
from tui.session import ChatSession
from tui.store import Store


def stored_kinds(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return [row[0] for row in connection.execute("SELECT kind FROM message_parts")]


async def test_killed_during_a_call_the_call_comes_back_interrupted_and_the_chat_goes_on(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    db = settings.db_path
    server.queue(
        StreamReply(
            deltas=["Waiting."],
            tool_calls=tool_call_chunks([("c1", "t__slow", {"seconds": 60})]),
            finish_reason="tool_calls",
        )
    )
    script = f"""
import asyncio, sys
from pathlib import Path
from tui.config import Settings
from tui.tools.config import ToolServerConfig
from tui.session import ChatSession
from tui.store import Store
from tui.tool_calls import make_tool_caller
async def main():
    server = ToolServerConfig("t", command=sys.executable, args=({str(TOOL_SERVER)!r},),
                              allowed=frozenset({{"slow"}}))
    s = Settings(model="m", base_url={server.base_url!r}, api_key={TEST_KEY!r},
                 db_path=Path({str(db)!r}), tool_servers=(server,))
    tools = make_tool_caller(s)
    session = ChatSession(s, Store.open(s.db_path), tools=tools)
    tools.servers.start()
    await tools.servers.wait_ready()
    await session.send("wait for it")
    await asyncio.sleep(120)
asyncio.run(main())
"""
    process = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(sqlite3.OperationalError):
                if db.exists() and "tool_call" in stored_kinds(db):
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the tool call was never stored")
        time.sleep(0.5)  # the call is running in the tool server now
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    store = Store.open(db)
    conversation = store.load_conversation(store.latest_conversation_id() or 0)
    assert conversation is not None
    reply = conversation.messages[-1]
    assert reply.status is MessageStatus.INTERRUPTED
    assert reply.content == "Waiting."
    result = [part for part in reply.parts if isinstance(part, ToolResultPart)]
    assert [(r.call_id, r.outcome) for r in result] == [("c1", ToolOutcome.INTERRUPTED)]

    server.queue(StreamReply(deltas=["Sorry about that."]))
    session = ChatSession(settings, store, conversation=conversation)
    await session.send("What happened?")
    await session.wait_for_reply()
    await session.close()
    sent = server.requests[-1]["messages"]
    assert sent[-3]["tool_calls"][0]["id"] == "c1"
    assert sent[-2]["role"] == "tool" and sent[-2]["tool_call_id"] == "c1"
    assert "did not finish" in sent[-2]["content"]

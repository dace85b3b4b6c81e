"""Tool calls through the session, without the UI: the real openai client against the test
server (scripted to call tools), a real MCP server over stdio, a real store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.openai_server import (
    ErrorReply,
    OpenAIStyleServer,
    RawStream,
    StreamReply,
    response_object,
    responses_event,
    responses_sse_body,
    tool_call_chunks,
)
from tests.tool_helpers import ScriptedApprover, tool_server, with_tools
from tui.chat.message import Message, MessageStatus
from tui.chat.parts import TextPart, ToolCallPart, ToolOutcome, ToolResultPart
from tui.chat.session_events import ReplyEnded, SessionEvent, ToolsChanged
from tui.config import Settings
from tui.error_words import tell
from tui.session import ChatSession
from tui.store import Store
from tui.tool_calls import Approval, make_tool_caller
from tui.tools.servers import ServerState


def calls_reply(*calls: tuple[str, str, dict], together: bool = False) -> StreamReply:
    return StreamReply(
        deltas=["Let me check."],
        tool_calls=tool_call_chunks(list(calls), together=together),
        finish_reason="tool_calls",
    )


async def ready_session(settings: Settings, approver: ScriptedApprover) -> ChatSession:
    tools = make_tool_caller(settings)
    assert tools is not None
    tools.approver = approver
    session = ChatSession(settings, Store.open(settings.db_path), tools=tools)
    tools.servers.start()
    await tools.servers.wait_ready()
    assert tools.servers.statuses["t"].state is ServerState.READY, tools.servers.statuses["t"]
    return session


@pytest.fixture
def approver() -> ScriptedApprover:
    return ScriptedApprover()


@pytest.fixture
async def session(settings: Settings, approver: ScriptedApprover) -> AsyncIterator[ChatSession]:
    running = await ready_session(with_tools(settings), approver)
    yield running
    await running.close()


async def ask(session: ChatSession, prompt: str) -> Message:
    await session.send(prompt)
    await session.wait_for_reply()
    return session.conversation.messages[-1]


def results(reply: Message) -> list[ToolResultPart]:
    return [part for part in reply.parts if isinstance(part, ToolResultPart)]


def reopened_reply(settings: Settings, session: ChatSession) -> Message:
    conversation = Store.open(settings.db_path).load_conversation(session.conversation.id or 0)
    assert conversation is not None
    return conversation.messages[-1]


async def test_an_approved_call_runs_and_the_model_is_called_again_with_its_result(
    server: OpenAIStyleServer,
    settings: Settings,
    session: ChatSession,
    approver: ScriptedApprover,
) -> None:
    approver.answers = [Approval.ONCE]
    server.queue(calls_reply(("call_a", "t__add", {"a": 2, "b": 3})), StreamReply(deltas=["5."]))
    reply = await ask(session, "What is 2+3?")

    assert approver.asked == [("t/add", "call_a", {"a": 2, "b": 3})]
    offered = [tool["function"]["name"] for tool in server.requests[0]["tools"]]
    assert "t__add" in offered and "t__slow" in offered
    follow_up = server.requests[1]["messages"][-2:]
    assert follow_up[0]["role"] == "assistant"
    assert follow_up[0]["content"] == "Let me check."
    assert follow_up[0]["tool_calls"][0]["id"] == "call_a"
    assert json.loads(follow_up[0]["tool_calls"][0]["function"]["arguments"]) == {"a": 2, "b": 3}
    assert follow_up[1] == {"role": "tool", "tool_call_id": "call_a", "content": "5"}
    assert reply.status is MessageStatus.DONE
    assert [type(part) for part in reply.parts] == [
        TextPart,
        ToolCallPart,
        ToolResultPart,
        TextPart,
    ]
    assert reply.content == "Let me check.\n\n5."
    stored = reopened_reply(settings, session)
    assert [part.text for part in stored.parts] == [part.text for part in reply.parts]


async def test_two_calls_in_one_chunk_each_get_their_own_result(
    server: OpenAIStyleServer, session: ChatSession, approver: ScriptedApprover
) -> None:
    approver.answers = [Approval.ONCE, Approval.ONCE]
    server.queue(
        calls_reply(
            ("c1", "t__add", {"a": 1, "b": 1}), ("c2", "t__add", {"a": 2, "b": 2}), together=True
        ),
        StreamReply(deltas=["2 and 4."]),
    )
    reply = await ask(session, "Two sums")
    assert [(r.call_id, r.output) for r in results(reply)] == [("c1", "2"), ("c2", "4")]
    tool_messages = [m for m in server.requests[1]["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tool_messages] == [("c1", "2"), ("c2", "4")]


async def test_a_denied_call_does_not_run_and_the_model_is_told(
    server: OpenAIStyleServer, session: ChatSession, approver: ScriptedApprover, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    approver.answers = [Approval.DENY]
    server.queue(
        calls_reply(("c1", "t__touch", {"path": str(marker)})), StreamReply(deltas=["OK."])
    )
    reply = await ask(session, "Touch it")
    assert not marker.exists()
    assert results(reply)[0].outcome is ToolOutcome.DENIED
    tool_message = server.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and "denied" in tool_message["content"]


async def test_always_allow_runs_the_tool_without_asking_again_and_is_stored(
    server: OpenAIStyleServer,
    settings: Settings,
    session: ChatSession,
    approver: ScriptedApprover,
) -> None:
    approver.answers = [Approval.ALWAYS]
    server.queue(
        calls_reply(("c1", "t__add", {"a": 1, "b": 2})),
        StreamReply(deltas=["3."]),
        calls_reply(("c2", "t__add", {"a": 3, "b": 4})),
        StreamReply(deltas=["7."]),
    )
    await ask(session, "1+2")
    reply = await ask(session, "3+4")
    assert len(approver.asked) == 1
    assert results(reply)[0].output == "7"
    stored = Store.open(settings.db_path).load_conversation(session.conversation.id or 0)
    assert stored is not None and stored.tools.always_allowed == {"t/add"}


async def test_a_tool_allowed_in_the_config_runs_without_asking(
    server: OpenAIStyleServer, settings: Settings, approver: ScriptedApprover
) -> None:
    session = await ready_session(
        with_tools(settings, tool_server(allowed=frozenset({"add"}))), approver
    )
    try:
        server.queue(calls_reply(("c1", "t__add", {"a": 1, "b": 2})), StreamReply(deltas=["3."]))
        reply = await ask(session, "1+2")
    finally:
        await session.close()
    assert approver.asked == []
    assert results(reply)[0].output == "3"


async def test_esc_during_a_slow_call_stops_it_and_keeps_what_happened(
    server: OpenAIStyleServer,
    settings: Settings,
    session: ChatSession,
    approver: ScriptedApprover,
) -> None:
    approver.answers = [Approval.ONCE]
    running: list[str] = []

    def watch(event: SessionEvent) -> None:
        if isinstance(event, ToolsChanged) and event.running:
            running.append(event.running)

    session.subscribe(watch)
    server.queue(calls_reply(("c1", "t__slow", {"seconds": 30})))
    await session.send("Wait")
    for _ in range(200):
        if running:
            break
        await asyncio.sleep(0.02)
    assert running == ["c1"]
    started = asyncio.get_running_loop().time()
    await session.cancel()
    assert asyncio.get_running_loop().time() - started < 2
    reply = session.conversation.messages[-1]
    assert reply.status is MessageStatus.STOPPED
    assert results(reply)[0].outcome is ToolOutcome.STOPPED
    assert reply.content == "Let me check."
    assert results(reopened_reply(settings, session))[0].outcome is ToolOutcome.STOPPED
    assert len(server.requests) == 1, "the model is not called after a stop"


async def test_a_server_that_crashes_mid_call_fails_that_call_and_the_chat_goes_on(
    server: OpenAIStyleServer, session: ChatSession, approver: ScriptedApprover
) -> None:
    approver.answers = [Approval.ONCE]
    server.queue(calls_reply(("c1", "t__crash", {})), StreamReply(deltas=["It broke."]))
    reply = await ask(session, "Crash it")
    result = results(reply)[0]
    assert result.outcome is ToolOutcome.FAILED and "stopped while the call ran" in result.output
    assert reply.content.endswith("It broke.")
    assert session.tools is not None
    assert session.tools.servers.statuses["t"].state is ServerState.FAILED


async def test_a_tool_error_unknown_tool_and_broken_arguments_each_say_why(
    server: OpenAIStyleServer, session: ChatSession, approver: ScriptedApprover
) -> None:
    approver.answers = [Approval.ONCE]
    broken = StreamReply(
        deltas=["Trying."],
        tool_calls=[
            [{"index": 0, "id": "c1", "function": {"name": "t__fail", "arguments": "{}"}}],
            [{"index": 1, "id": "c2", "function": {"name": "t__nope", "arguments": "{}"}}],
            [{"index": 2, "id": "c3", "function": {"name": "t__add", "arguments": '{"a": 1,'}}],
        ],
        finish_reason="tool_calls",
    )
    server.queue(broken, StreamReply(deltas=["Sorry."]))
    reply = await ask(session, "Break things")
    outcomes = [(r.outcome, r.output) for r in results(reply)]
    assert outcomes[0][0] is ToolOutcome.TOOL_ERROR
    assert outcomes[1][0] is ToolOutcome.FAILED and "no tool named 't__nope'" in outcomes[1][1]
    assert outcomes[2][0] is ToolOutcome.FAILED and "not valid JSON" in outcomes[2][1]
    sent = server.requests[1]["messages"]
    assert sent[-4]["tool_calls"][2]["function"]["arguments"] == "{}"
    assert reply.content.endswith("Sorry.")


async def test_a_huge_result_is_stored_whole_and_sent_cut_with_a_note(
    server: OpenAIStyleServer, settings: Settings, approver: ScriptedApprover
) -> None:
    session = await ready_session(with_tools(settings, result_limit=10_000), approver)
    approver.answers = [Approval.ONCE]
    try:
        server.queue(calls_reply(("c1", "t__big", {"n": 300_000})), StreamReply(deltas=["Long."]))
        reply = await ask(session, "Big")
    finally:
        await session.close()
    assert len(results(reply)[0].output) == 300_000
    assert len(results(reopened_reply(settings, session))[0].output) == 300_000
    sent = server.requests[1]["messages"][-1]["content"]
    assert len(sent) < 10_200 and "300,000 characters in all" in sent


async def test_a_server_gets_the_variables_its_config_names_and_never_the_api_key(
    server: OpenAIStyleServer,
    settings: Settings,
    approver: ScriptedApprover,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("SOME_TOKEN", "tok-123")
    config = tool_server(env={"GIVEN": "yes"}, allowed=frozenset({"env_value"}))
    session = await ready_session(with_tools(settings, config), approver)
    try:
        server.queue(
            calls_reply(
                ("c1", "t__env_value", {"name": "OPENAI_API_KEY"}),
                ("c2", "t__env_value", {"name": "SOME_TOKEN"}),
                ("c3", "t__env_value", {"name": "GIVEN"}),
            ),
            StreamReply(deltas=["Done."]),
        )
        reply = await ask(session, "Env")
    finally:
        await session.close()
    assert [r.output for r in results(reply)] == ["(not set)", "(not set)", "yes"]


async def test_a_server_whose_settings_hold_the_api_key_is_refused(
    settings: Settings, approver: ScriptedApprover
) -> None:
    tools = make_tool_caller(with_tools(settings, tool_server(env={"K": TEST_KEY})))
    assert tools is not None
    tools.servers.start()
    await tools.servers.wait_ready()
    status = tools.servers.statuses["t"]
    await tools.servers.aclose()
    assert status.state is ServerState.FAILED and "API key" in status.reason


async def test_a_server_that_cannot_start_is_failed_with_its_reason_and_chat_works(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    broken = tool_server(command="/no/such/program")
    tools = make_tool_caller(with_tools(settings, broken))
    assert tools is not None
    session = ChatSession(settings, Store.open(settings.db_path), tools=tools)
    tools.servers.start()
    await tools.servers.wait_ready()
    try:
        reply = await ask(session, "Hello")
    finally:
        await session.close()
    status = tools.servers.statuses["t"]
    assert status.state is ServerState.FAILED and status.reason
    assert reply.content == "Hello from the server."
    assert "tools" not in server.requests[0]


async def test_a_model_that_keeps_calling_tools_stops_at_the_round_limit(
    server: OpenAIStyleServer, settings: Settings, approver: ScriptedApprover
) -> None:
    config = tool_server(allowed=frozenset({"add"}))
    session = await ready_session(with_tools(settings, config, max_rounds=1), approver)
    try:
        server.queue(
            calls_reply(("c1", "t__add", {"a": 1, "b": 1})),
            calls_reply(("c2", "t__add", {"a": 2, "b": 2})),
        )
        reply = await ask(session, "Loop")
    finally:
        await session.close()
    assert [(r.outcome, r.output) for r in results(reply)] == [
        (ToolOutcome.RAN, "2"),
        (ToolOutcome.FAILED, "not run: the limit of 1 tool rounds"),
    ]
    assert len(server.requests) == 2
    assert reply.status is MessageStatus.DONE


async def test_the_responses_api_streams_function_calls_and_sends_their_outputs_back(
    server: OpenAIStyleServer, settings: Settings, approver: ScriptedApprover
) -> None:
    config = tool_server(allowed=frozenset({"add"}))
    session = await ready_session(with_tools(replace(settings, api="responses"), config), approver)
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "c1",
        "name": "t__add",
        "arguments": "",
    }
    events = [
        responses_event("response.created", response=response_object()),
        responses_event("response.output_item.added", output_index=0, item=call),
        responses_event("response.function_call_arguments.delta", output_index=0, delta='{"a": 4,'),
        responses_event("response.function_call_arguments.delta", output_index=0, delta=' "b": 5}'),
        responses_event("response.completed", response=response_object("completed")),
    ]
    try:
        server.queue(RawStream(responses_sse_body(events)), StreamReply(deltas=["Nine."]))
        reply = await ask(session, "4+5")
    finally:
        await session.close()
    assert results(reply)[0].output == "9"
    assert server.requests[0]["tools"][0]["name"] == "t__add"
    sent = server.requests[1]["input"]
    assert sent[-2] == {
        "type": "function_call",
        "call_id": "c1",
        "name": "t__add",
        "arguments": '{"a": 4, "b": 5}',
    }
    assert sent[-1] == {"type": "function_call_output", "call_id": "c1", "output": "9"}
    assert reply.content == "Nine."


async def test_a_tool_result_is_found_by_search_and_a_hung_call_times_out(
    server: OpenAIStyleServer, settings: Settings, approver: ScriptedApprover, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("alpha beta gamma\n", encoding="utf-8")
    config = tool_server(allowed=frozenset({"*"}), timeout=1.0)
    session = await ready_session(with_tools(settings, config), approver)
    try:
        server.queue(
            calls_reply(
                ("c1", "t__word_count", {"path": str(notes)}),
                ("c2", "t__slow", {"seconds": 10}),
            ),
            StreamReply(deltas=["Counted."]),
        )
        reply = await ask(session, "Count")
    finally:
        await session.close()
    counted, hung = results(reply)
    assert counted.output == "1 lines, 3 words"
    assert hung.outcome is ToolOutcome.FAILED and "no answer from 't' in 1 s" in hung.output
    hits = Store.open(settings.db_path).search("words")
    assert [hit.conversation_id for hit in hits] == [session.conversation.id]


async def test_a_tool_schema_the_server_refuses_is_said_with_what_to_do(
    server: OpenAIStyleServer, session: ChatSession
) -> None:
    ended: list[ReplyEnded] = []
    session.subscribe(lambda event: ended.append(event) if isinstance(event, ReplyEnded) else None)
    server.queue(ErrorReply(400, '{"error": {"message": "Invalid schema for function t__add"}}'))
    reply = await ask(session, "Hi")
    assert reply.status is MessageStatus.ERROR
    assert reply.error is not None and "Invalid schema" in reply.error
    error = ended[0].error
    assert error is not None
    told = tell(error, in_app=True)
    assert "Invalid schema" in told.detail and "switch tools off with F4" in told.hint
    assert "leave out --tools" in tell(error, in_app=False).hint


async def test_a_server_that_reuses_call_ids_in_every_round_gets_each_call_run(
    server: OpenAIStyleServer, settings: Settings, approver: ScriptedApprover
) -> None:
    session = await ready_session(
        with_tools(settings, tool_server(allowed=frozenset({"add"}))), approver
    )
    try:
        server.queue(
            calls_reply(("call_0", "t__add", {"a": 1, "b": 1})),
            calls_reply(("call_0", "t__add", {"a": 2, "b": 3})),
            StreamReply(deltas=["2 then 5."]),
        )
        reply = await ask(session, "Twice")
    finally:
        await session.close()
    assert [r.output for r in results(reply)] == ["2", "5"]
    assert len(server.requests) == 3
    sent = server.requests[2]["messages"]
    pairs = [(m["tool_call_id"], m["content"]) for m in sent if m["role"] == "tool"]
    assert pairs == [("call_0", "2"), ("call_0~2", "5")]
    ids = [call["id"] for m in sent if m.get("tool_calls") for call in m["tool_calls"]]
    assert ids == ["call_0", "call_0~2"]


async def test_a_placeholder_api_key_does_not_refuse_every_server(
    settings: Settings, approver: ScriptedApprover
) -> None:
    session = await ready_session(with_tools(replace(settings, api_key="k")), approver)
    await session.close()


async def test_a_crashed_server_can_be_restarted_and_its_tools_work_again(
    server: OpenAIStyleServer, session: ChatSession, approver: ScriptedApprover
) -> None:
    approver.answers = [Approval.ONCE, Approval.ONCE]
    server.queue(calls_reply(("c1", "t__crash", {})), StreamReply(deltas=["Down."]))
    await ask(session, "Crash it")
    assert session.tools is not None
    servers = session.tools.servers
    assert servers.statuses["t"].state is ServerState.FAILED
    assert servers.restart_failed() == ["t"]
    await servers.wait_ready()
    assert servers.statuses["t"].state is ServerState.READY
    server.queue(calls_reply(("c2", "t__add", {"a": 4, "b": 4})), StreamReply(deltas=["8."]))
    reply = await ask(session, "Add now")
    assert results(reply)[0].output == "8"

"""Fifty rapid rounds of send, cancel, retry and new conversation, keys pressed while a
request is still connecting included: nothing mixes, leaks or goes unsaved."""

from __future__ import annotations

import re

from textual.worker import WorkerState

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import chat_screen, replies, type_and_send, wait_until
from tui.chat.message import MessageStatus, Role
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.widgets.message_views import AssistantMessageView, UserMessageView

ROUNDS = 50


def tagged_reply(tag: int) -> StreamReply:
    """Every word carries the reply's tag, so text from two streams in one message shows."""
    return StreamReply(
        deltas=[f"r{tag}w{word} " for word in range(12)],
        delay=0.01,
        first_delay=0.05 if tag % 3 == 0 else 0.0,
    )


async def test_fifty_rapid_rounds_leave_a_consistent_screen_store_and_server(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(*[tagged_reply(tag) for tag in range(ROUNDS * 3)])
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        screen = chat_screen(pilot)
        for round_number in range(ROUNDS):
            await type_and_send(pilot, f"prompt {round_number}")
            step = round_number % 5
            if step == 0:
                await pilot.press("escape")  # often still connecting
            elif step == 1:
                await pilot.pause(0.03)
                await pilot.press("ctrl+r")
            elif step == 2:
                await pilot.press("ctrl+r", "escape", "ctrl+r")
            elif step == 3:
                await pilot.pause(0.05)
                await pilot.press("escape", "ctrl+r")
            else:
                await pilot.press("ctrl+n")
        await type_and_send(pilot, "last prompt")
        await wait_until(pilot, lambda: not screen.is_streaming, timeout=10)
        await wait_until(
            pilot,
            lambda: all(w.state is not WorkerState.RUNNING for w in screen.workers),
            timeout=10,
        )
        assert all(
            view.message.status is not MessageStatus.STREAMING
            for view in screen.query(AssistantMessageView)
        )
        for view in replies(pilot):
            tags = set(re.findall(r"r(\d+)w", view.message.content))
            assert len(tags) <= 1, view.message.content
            assert view.message.content == view.body.rendered_text
        shown = [
            (Role.USER if isinstance(view, UserMessageView) else Role.ASSISTANT, view.message)
            for view in screen.query("UserMessageView, AssistantMessageView")
        ]
        conversation_id = screen.conversation.id
    assert server.wait_for(
        lambda: server.disconnects + server.completed_streams == len(server.requests)
    ), (server.disconnects, server.completed_streams, len(server.requests))
    assert conversation_id is not None
    store = Store.open(settings.db_path)
    stored = store.load_conversation(conversation_id)
    assert stored is not None
    assert [(m.role, m.content, m.status) for m in stored.messages] == [
        (role, m.content, m.status) for role, m in shown
    ]
    assert shown[-1][1].content.startswith("r")  # the last prompt got a whole reply
    summaries = store.list_conversations()
    assert len(summaries) == ROUNDS // 5 + 1
    for summary in summaries:
        conversation = store.load_conversation(summary.id)
        assert conversation is not None
        statuses = {message.status for message in conversation.messages}
        assert MessageStatus.INTERRUPTED not in statuses  # nothing left "streaming"

"""A reasoning model's thinking: live above the answer, folded when the answer starts,
kept with the message, never sent back."""

from __future__ import annotations

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import replies, screen_text, send_and_settle, type_and_send, wait_until
from tui.config import Settings
from tui.ui.app import ChatApp


async def test_thinking_streams_open_then_folds_and_stays_out_of_the_history(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(
            reasoning=["Let me ", "weigh the ", "options carefully."],
            deltas=["The ", "answer ", "is 42."],
            delay=0.3,
        ),
        StreamReply(deltas=["Follow-up."]),
    )
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "Think first")
        await wait_until(pilot, lambda: "weigh the" in screen_text(pilot))
        assert "Thinking… (" in screen_text(pilot)
        await wait_until(pilot, lambda: "The answer" in screen_text(pilot))
        await wait_until(pilot, lambda: "weigh the" not in screen_text(pilot))
        assert "Thought (6 words)" in screen_text(pilot)
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "The answer is 42.")
        reply = replies(pilot)[-1].message
        assert reply.reasoning == "Let me weigh the options carefully."
        assert "Let me" not in reply.content
        await pilot.click("ThinkingBlock CollapsibleTitle")
        await wait_until(pilot, lambda: "options carefully." in screen_text(pilot))
        await send_and_settle(pilot, "And then?")
    sent = server.requests[-1]["messages"]
    assert {"role": "assistant", "content": "The answer is 42."} in sent
    assert not any("weigh" in message["content"] for message in sent)


async def test_a_reopened_conversation_keeps_the_thinking_folded(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(reasoning=["Pondering deeply."], deltas=["Done."]))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Q")
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "Done." in screen_text(pilot))
        assert "Thought (2 words)" in screen_text(pilot)
        assert "Pondering" not in screen_text(pilot)

"""The context window in the app: its fill in the status line, the offer when a prompt
would not fit (or the server says so), and the turns left out marked on screen."""

from __future__ import annotations

from dataclasses import replace

from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.test_long_history_keys import long_history
from tests.ui_helpers import (
    chat_screen,
    last_reply_settled,
    screen_text,
    send_and_settle,
    wait_until,
)
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.context_full_screen import ContextFullScreen


async def test_the_fill_shows_and_a_prompt_too_long_offers_the_recent_turns(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    app = ChatApp(replace(settings, context_window=3000))
    async with app.run_test(size=(100, 40)) as pilot:
        for index in range(3):
            server.queue(
                StreamReply(
                    deltas=[f"answer {index}"],
                    usage={"prompt_tokens": 520 * (index + 1), "completion_tokens": 2},
                )
            )
            await send_and_settle(pilot, f"question {index} " + "q" * 2000)
        await wait_until(pilot, lambda: "ctx 52% of 3k" in screen_text(pilot))
        server.queue(StreamReply(deltas=["fits now"]))
        await send_and_settle(pilot, "last " + "z" * 3000)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContextFullScreen))
        assert "would not fit" in screen_text(pilot)
        assert len(server.requests) == 3, "nothing sent yet"
        await pilot.press("r")
        await wait_until(pilot, lambda: "fits now" in screen_text(pilot))
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        sent = server.requests[-1]["messages"]
        assert not any(m["content"].startswith("question 0") for m in sent)
        first = chat_screen(pilot).log_view.view_of(chat_screen(pilot).conversation.messages[0])
        assert first is not None and first.has_class("-not-sent")
        assert first.border_subtitle == "not sent"


async def test_the_server_refusing_a_long_conversation_offers_to_compact_it(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test(size=(100, 40)) as pilot:
        server.queue(StreamReply(deltas=["one"]))
        await send_and_settle(pilot, "first question")
        server.queue(
            ErrorReply(400, '{"error": {"message": "maximum context length is 4096 tokens"}}'),
            StreamReply(deltas=["Summary: a first question was asked."]),
            StreamReply(deltas=["Answer on the new branch."]),
        )
        await send_and_settle(pilot, "second question")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContextFullScreen))
        assert "The server says the conversation is too long" in screen_text(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: "Answer on the new branch." in screen_text(pilot))
        conversation = chat_screen(pilot).conversation
        assert len(conversation.root.children) == 2
        assert conversation.messages[0].content.startswith("Summary of the conversation so far")
        assert conversation.messages[0].content.endswith("second question")


async def test_a_long_conversation_opened_counts_the_whole_of_it(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Opened from the list, a long conversation shows the end of its path first: how
    full the window is is counted once the rest is read, over all of it, not the part."""
    long_history(settings.db_path, 40, lines=80)  # 80 messages of about 1 KB
    async with ChatApp(replace(settings, context_window=100_000)).run_test() as pilot:
        session = chat_screen(pilot).session
        assert session.store is not None
        [summary] = session.store.list_conversations()
        assert await session.open(summary.id)
        part = len(session.conversation.messages)
        await session.read_whole()
        assert part < len(session.conversation.messages) == 80, "a part was shown first"
        fill = await session.context_fill()
        assert fill is not None and fill.tokens > 10_000
        status = chat_screen(pilot).status
        await wait_until(pilot, lambda: status.context == fill.label())
        assert fill.label() in screen_text(pilot)

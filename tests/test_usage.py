"""Usage figures: per reply from the server's usage chunk, per conversation as totals, and
said plainly when a server sends none."""

from __future__ import annotations

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import screen_text, send_and_settle, wait_until
from tui.config import Settings
from tui.ui.app import ChatApp


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": 0}


async def test_reply_and_conversation_usage_match_the_usage_chunks(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["One."], usage=usage(10, 5)),
        StreamReply(deltas=["Two", " words."], usage=usage(30, 18), delay=0.6),
        StreamReply(deltas=["Two again."], usage=usage(1, 1)),
        StreamReply(deltas=["Three."], usage=None),
    )
    async with ChatApp(settings).run_test(size=(170, 30)) as pilot:
        await send_and_settle(pilot, "a")
        status = screen_text(pilot)
        assert "10 in / 5 out tokens" in status and "conversation 10 in / 5 out" in status
        assert "tok/s" not in status, "5 tokens in a moment: a rate would mean nothing"
        await send_and_settle(pilot, "b")
        status = screen_text(pilot)
        assert "30 in / 18 out tokens" in status and "conversation 40 in / 23 out" in status
        assert "tok/s" in status and "first token" in status
        await pilot.press("ctrl+r")  # the replaced reply's cost still counts
        await wait_until(pilot, lambda: "conversation 41 in / 24 out" in screen_text(pilot))
        await send_and_settle(pilot, "c")
        status = screen_text(pilot)
        assert "server sent no usage" in status
        assert "conversation 41 in / 24 out (+1 without usage)" in status

"""The chat screen as a user drives it: send, stream, stop, retry, errors, scrolling."""

from __future__ import annotations

from dataclasses import replace

from textual import events
from textual.pilot import Pilot

from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    last_reply_settled,
    replies,
    screen_text,
    send_and_settle,
    send_and_wait_for_text,
    type_and_send,
    wait_until,
)
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.help_screen import HelpScreen
from tui.ui.widgets.conversation_log import ConversationLog

MARKDOWN_REPLY = [
    "# Plan\n\n",
    "Some **bold** text.\n\n",
    "```python\nprint('hi')\n```\n\n",
    "| name | value |\n|---|---|\n| alpha | 42 |\n",
]


async def test_prompt_streams_into_rendered_markdown_reply(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=MARKDOWN_REPLY))
    async with ChatApp(settings).run_test(size=(100, 40)) as pilot:
        await send_and_settle(pilot, "Show me a plan")
        reply = replies(pilot)[-1]
        assert reply.message.status is MessageStatus.DONE
        assert reply.message.content == "".join(MARKDOWN_REPLY)
        text = screen_text(pilot)
        assert "```" not in text and "  print('hi')" in text, "code shows as a block"
        assert "│ alpha" in text and "┌" in text and "|---|" not in text, "a table is drawn"
        assert "Show me a plan" in text
        assert "Plan" in text and "alpha" in text and "print('hi')" in text
        assert "**bold**" not in text, "Markdown is rendered, not shown raw"
        assert "7 in / 4 out tokens" in text, "usage from the usage chunk is shown"


async def test_second_request_carries_the_whole_history(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    settings = replace(settings, system_prompt="Be brief.")
    server.queue(StreamReply(deltas=["Paris", "."]), StreamReply(deltas=["About 2 million."]))
    async with ChatApp(settings).run_test() as pilot:
        await send_and_settle(pilot, "Capital of France?")
        await type_and_send(pilot, "Population?")
        await wait_until(pilot, lambda: len(replies(pilot)) == 2 and last_reply_settled(pilot))
    assert server.requests[1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Population?"},
    ]
    assert server.requests[1]["stream"] is True
    assert server.requests[1]["stream_options"] == {"include_usage": True}


async def test_escape_mid_stream_keeps_partial_reply_and_closes_stream(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=[f"word{i} " for i in range(200)], delay=0.05))
    async with ChatApp(settings).run_test() as pilot:
        await send_and_wait_for_text(pilot, "Talk a lot", "word3")
        await pilot.press("escape")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        reply = replies(pilot)[-1]
        assert reply.message.status is MessageStatus.STOPPED
        assert reply.message.content.startswith("word0 word1 word2 word3")
        assert "word199" not in reply.message.content
        assert "stopped" in screen_text(pilot)
        assert server.wait_for(lambda: server.disconnects == 1), "server saw the disconnect"
        assert server.completed_streams == 0
        # The prompt is usable at once: the next prompt sends the partial reply as history.
        await type_and_send(pilot, "Go on")
        await wait_until(pilot, lambda: len(replies(pilot)) == 2 and last_reply_settled(pilot))
    assert server.requests[1]["messages"][1]["content"] == reply.message.content


async def test_ctrl_r_regenerates_the_last_reply(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["First answer."]), StreamReply(deltas=["Second answer."]))
    async with ChatApp(settings).run_test() as pilot:
        await send_and_settle(pilot, "Question")
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: (
                "Second answer." in replies(pilot)[-1].message.content and last_reply_settled(pilot)
            ),
        )
        assert len(replies(pilot)) == 1
        text = screen_text(pilot)
        assert "Second answer." in text and "First answer." not in text
    assert server.requests[0]["messages"] == server.requests[1]["messages"]


async def test_retry_while_streaming_cancels_the_current_reply_first(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=[f"slow{i} " for i in range(100)], delay=0.05),
        StreamReply(deltas=["Fresh."]),
    )
    async with ChatApp(settings).run_test() as pilot:
        await send_and_wait_for_text(pilot, "Question", "slow1")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "Fresh.")
        assert [view.message.content for view in replies(pilot)] == ["Fresh."]
        assert server.wait_for(lambda: server.disconnects == 1)


async def test_error_is_explained_in_the_chat_and_retry_succeeds(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        ErrorReply(500, '{"error": {"message": "backend exploded", "type": "server_error"}}'),
        StreamReply(deltas=["Recovered."]),
    )
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Hello")
        reply = replies(pilot)[-1]
        assert reply.message.status is MessageStatus.ERROR
        text = screen_text(pilot)
        assert "Server error (500)" in text and "backend exploded" in text
        assert "Ctrl+R" in text
        assert "Traceback" not in text
        await wait_until(pilot, lambda: reply.has_class("-error"))
        assert not reply.has_class("-streaming"), "the border says failed, not streaming"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "Recovered.")
        assert "Server error" not in screen_text(pilot)
        recovered = replies(pilot)[-1]
        await wait_until(pilot, lambda: not recovered.has_class("-streaming"))
        assert not recovered.has_class("-error")


async def test_broken_stream_keeps_partial_text_marked_as_error(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Half ", "an ", "answer ", "lost"], disconnect_after=3))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Hello")
        reply = replies(pilot)[-1]
        assert reply.message.status is MessageStatus.ERROR
        assert reply.message.content == "Half an answer "
        text = screen_text(pilot)
        assert "Half an answer" in text and "dropped mid-reply" in text


async def test_without_a_key_the_app_opens_and_explains_how_to_set_one(tmp_path) -> None:
    config = tmp_path / "config.toml"  # a config exists, so no welcome screen: the notice
    config.write_text("")
    settings = Settings(
        api_key=None, base_url=None, max_retries=0, db_path=tmp_path / "h.db", config_path=config
    )
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        assert "OPENAI_API_KEY" in screen_text(pilot)
        await send_and_settle(pilot, "Hello")
        assert "No API key is set" in screen_text(pilot)


async def test_log_follows_the_bottom_but_respects_a_user_who_scrolled_up(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=[f"Line {i}\n\n" for i in range(60)]))
    server.queue(StreamReply(deltas=[f"More {i}\n\n" for i in range(150)], delay=0.02))
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        await send_and_settle(pilot, "Long")
        log = chat_screen(pilot).log_view
        await pilot.pause(0.2)
        assert log.max_scroll_y > 0
        assert log.scroll_y == log.max_scroll_y, "followed the bottom"
        await send_and_wait_for_text(pilot, "Longer", "More 10")
        await read_back_with_the_wheel(pilot)
        held = log.scroll_y
        assert held < log.max_scroll_y
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await pilot.pause(0.2)
        assert log.scroll_y == held, "never yanked back down"
        assert log.max_scroll_y > held


async def test_sending_a_prompt_brings_the_end_back_into_view(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Read back from the top (selecting the first prompt), then send: the new prompt and
    its reply show, and the log follows the reply again. The whole conversation was
    mounted, so nothing had to be shown afresh, and the view used to stay at the top."""
    server.queue(StreamReply(deltas=["Line of a long answer.\n\n" * 40]))
    server.queue(StreamReply(deltas=[f"More {i}\n\n" for i in range(60)], delay=0.005))
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        await send_and_settle(pilot, "First question")
        await pilot.press("ctrl+up", "up")
        await wait_until(pilot, lambda: "First question" in screen_text(pilot))
        await pilot.press("escape")
        await type_and_send(pilot, "Second question")
        await wait_until(pilot, lambda: last_reply_settled(pilot) and len(replies(pilot)) == 2)
        await pilot.pause(0.2)
        log = chat_screen(pilot).log_view
        assert "More 59" in screen_text(pilot), "the reply's end is on screen"
        assert log.scroll_y == log.max_scroll_y


async def read_back_with_the_wheel(pilot: Pilot[None]) -> None:
    """The mouse wheel, five notches up: the user reads something above."""
    log = chat_screen(pilot).log_view
    for _ in range(5):
        await pilot._post_mouse_events([events.MouseScrollUp], log, offset=(5, 5))
    await pilot.pause(0.1)


async def reading_back_while_a_prompt_waits(pilot: Pilot[None]) -> tuple[ConversationLog, float]:
    """A long reply streams, "Waiting one" is sent (it waits), and the user reads back:
    the log, and where it was read."""
    await send_and_wait_for_text(pilot, "Long", "Line 10")
    await type_and_send(pilot, "Waiting one")
    await read_back_with_the_wheel(pilot)
    log = chat_screen(pilot).log_view
    return log, log.scroll_y


async def test_a_prompt_that_waited_goes_out_without_moving_the_view(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Typed while a reply streams, a prompt waits; when it goes out, the user may be
    reading back, and the view stays where they read."""
    server.queue(StreamReply(deltas=[f"Line {i}\n\n" for i in range(80)], delay=0.03))
    server.queue(StreamReply(deltas=["Short."]))
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        log, held = await reading_back_while_a_prompt_waits(pilot)
        assert chat_screen(pilot).session.queued == "Waiting one", "it still waits"
        await wait_until(pilot, lambda: len(replies(pilot)) == 2 and last_reply_settled(pilot))
        await pilot.pause(0.2)
        assert log.scroll_y == held, "not yanked down when the waiting prompt went out"


async def test_a_prompt_refused_while_one_waits_leaves_the_view_where_it_is(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """A second prompt typed while one already waits stays in the box: nothing was sent,
    so the user reading back is not pulled to the end."""
    server.queue(StreamReply(deltas=[f"Line {i}\n\n" for i in range(80)], delay=0.03))
    server.queue(StreamReply(deltas=["Short."]))
    async with ChatApp(settings).run_test(size=(80, 24)) as pilot:
        log, held = await reading_back_while_a_prompt_waits(pilot)
        await type_and_send(pilot, "One too many")
        await wait_until(pilot, lambda: chat_screen(pilot).prompt.text == "One too many")
        assert chat_screen(pilot).session.queued == "Waiting one", "the reply still streams"
        assert log.scroll_y == held, "nothing was sent: the view stays"


async def test_f1_lists_every_key(server: OpenAIStyleServer, settings: Settings) -> None:
    async with ChatApp(settings).run_test(size=(100, 50)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        text = screen_text(pilot)
        for row in (
            "Esc",
            "Stop reply",
            "Ctrl+R",
            "Retry",
            "Ctrl+N",
            "New chat",
            "Ctrl+Q",
            "Quit",
            "F1",
        ):
            assert row in text
        rows = " ".join(str(row.render()) for row in pilot.app.screen.query(".help-row"))
        for entry in ("Copy code 1-9", "Edit & resend", "/model", "/file", "Ctrl+Up", "F2"):
            assert entry in rows
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)


async def test_f1_fits_a_narrow_terminal(settings: Settings) -> None:
    """The help was 80 columns wide whatever the terminal: at 50 its right side, and the
    end of every row, was cut off."""
    async with ChatApp(settings).run_test(size=(50, 30)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        panel = pilot.app.screen.query_one("#help-panel")
        assert panel.region.x >= 0 and panel.region.right <= 50
        rows = [line for line in screen_text(pilot).splitlines() if "Stop reply" in line]
        assert rows and rows[0].rstrip().endswith("│"), "the row ends inside the box"


async def test_ctrl_n_starts_an_empty_conversation(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test() as pilot:
        await send_and_settle(pilot, "First chat")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not replies(pilot))
        await type_and_send(pilot, "Second chat")
        await wait_until(pilot, lambda: bool(replies(pilot)) and last_reply_settled(pilot))
    assert server.requests[1]["messages"] == [{"role": "user", "content": "Second chat"}]


async def test_initial_prompt_is_sent_at_once(server: OpenAIStyleServer, settings: Settings):
    async with ChatApp(settings, initial_prompt="Hi from argv").run_test() as pilot:
        await wait_until(pilot, lambda: bool(replies(pilot)) and last_reply_settled(pilot))
    assert server.requests[0]["messages"][-1]["content"] == "Hi from argv"

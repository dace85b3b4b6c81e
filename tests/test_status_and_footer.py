"""The status line shows a rate only once it means something, and the footer offers the
keys that do something now."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from textual import events
from textual.app import App, ComposeResult

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    replies,
    screen_text,
    send_and_settle,
    type_and_send,
    wait_until,
)
from tui.chat.message import Message, MessageStatus, Role, Usage
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.reply_stats import ReplyStats
from tui.ui.widgets.reply_body import ReplyBody


def test_a_rate_is_shown_only_once_it_means_something() -> None:
    stats = ReplyStats(started=0.0)
    stats.on_token(1.0)
    assert stats.live_text(1.001) == "Streaming · 1 tokens  (Esc stops)"
    stats.on_token(1.5, chunks=49)
    assert stats.live_text(2.0) == "Streaming · 50 tok/s · 50 tokens  (Esc stops)"
    one_token = ReplyStats(started=0.0)
    one_token.on_token(0.1)
    one_token.finish(0.1001)
    reply = Message(Role.ASSISTANT, "x", usage=Usage(5, 1))
    assert "tok/s" not in one_token.summary_text(reply)


@pytest.mark.parametrize("columns", [60, 80, 200])
async def test_the_status_line_shows_whole_figures_only(
    server: OpenAIStyleServer, settings: Settings, columns: int
) -> None:
    """A summary longer than the line (80 columns, two replies) was cut where it wrapped:
    the second line was out of sight, and the first ended in a bare " ·". Figures that do
    not fit are left out whole, and "…" says so."""
    server.queue(StreamReply(deltas=["One."]), StreamReply(deltas=["Two."]))
    async with ChatApp(settings).run_test(size=(columns, 24)) as pilot:
        await send_and_settle(pilot, "First")
        await send_and_settle(pilot, "Second")
        status = chat_screen(pilot).status
        await wait_until(pilot, lambda: status.text.startswith("done"))
        shown = next(row for row in screen_text(pilot).splitlines() if "done ·" in row).strip()
        figures = status.text.split(" · ")
        if len(status.text) + 4 <= columns:
            assert shown == status.text
        else:
            assert shown.endswith(" …") and not shown.endswith("· …")
            kept = shown.removesuffix(" …").split(" · ")
            assert kept == figures[: len(kept)], "whole figures, in order"


async def test_the_end_of_a_reply_is_laid_out_in_the_turn_that_finishes_it() -> None:
    """The last words are laid out when the reply is finished, not in a turn of the render
    loop after it: meanwhile a frame drew the status line's "done" alone, and the frame
    with the words waited for the next tick (10-20 ms of the render lag at a reply's end)."""

    class OneReply(App[None]):
        def compose(self) -> ComposeResult:
            yield ReplyBody()

    async with OneReply().run_test(size=(80, 24)) as pilot:
        body = pilot.app.query_one(ReplyBody)
        body.feed("The first words, ")
        await wait_until(pilot, lambda: body.rendered_text == "The first words, ")
        body.feed("the last words.")
        finishing = asyncio.create_task(body.finish())
        await asyncio.sleep(0)  # one turn: finish runs up to where it first waits
        assert body.rendered_text == "The first words, the last words."
        await finishing


async def test_a_slow_stream_is_shown_a_few_times_a_second_not_at_every_token() -> None:
    """Each flush costs a frame and a layout whatever it carries: at 100 tok/s a reply's
    CPU follows its flushes. Tokens every 10 ms for 1.5 s are shown 0.3 s apart at the
    least (0.2 or 0.25 s apart before), and all of them at the end."""

    class OneReply(App[None]):
        def compose(self) -> ComposeResult:
            yield ReplyBody()

    async with OneReply().run_test(size=(80, 24)) as pilot:
        body = pilot.app.query_one(ReplyBody)
        clock = asyncio.get_running_loop().time
        flushed_at: list[float] = []
        body.on_flush = lambda: flushed_at.append(clock())
        start = clock()
        for index in range(150):  # on the clock: a slow host sends bigger steps, not fewer
            await asyncio.sleep(max(0.0, start + index * 0.01 - clock()))
            body.feed(f"w{index} ")
        streamed = list(flushed_at)
        await body.finish()
        assert body.rendered_text == "".join(f"w{index} " for index in range(150))
        gaps = [later - earlier for earlier, later in itertools.pairwise(streamed)]
        assert len(streamed) >= 3 and min(gaps) >= 0.29, gaps


async def test_the_footer_offers_stop_only_while_there_is_something_to_stop(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=[f"w{i} " for i in range(100)], delay=0.05))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        footer = lambda: screen_text(pilot).splitlines()[-1]  # noqa: E731
        assert "Stop reply" not in footer()
        await type_and_send(pilot, "Go")
        await wait_until(pilot, lambda: "Stop reply" in footer())
        prompt = chat_screen(pilot).prompt
        assert not prompt.cursor_blink, (
            "a steady cursor while the reply moves: no frames of its own"
        )
        await wait_until(pilot, lambda: "Streaming" in chat_screen(pilot).status.text)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Stop reply" not in footer())
        assert replies(pilot)[-1].message.status is MessageStatus.STOPPED
        assert prompt.cursor_blink


async def test_the_footer_offers_retry_and_messages_only_when_there_is_a_message(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """In an empty conversation Ctrl+R has nothing to answer and Ctrl+Up nothing to pick:
    the footer leaves them out until there is a message, and again in a new conversation."""
    server.queue(StreamReply(deltas=["A reply."]))
    async with ChatApp(settings).run_test(size=(160, 30)) as pilot:
        footer = lambda: screen_text(pilot).splitlines()[-1]  # noqa: E731
        await wait_until(pilot, lambda: "History" in footer())
        assert "Retry" not in footer() and "Messages" not in footer()
        await send_and_settle(pilot, "A prompt")
        await wait_until(pilot, lambda: "Retry" in footer() and "Messages" in footer())
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: "Retry" not in footer())
        assert "Messages" not in footer() and "History" in footer()


async def test_with_nothing_to_retry_the_palette_leaves_retry_out_and_slash_retry_says_why(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """The palette offers what the footer offers; a command asked for by name still
    answers, with the reason it has nothing to do."""
    server.queue(StreamReply(deltas=["A reply."]))
    async with ChatApp(settings).run_test(size=(120, 30), notifications=True) as pilot:
        app = pilot.app
        in_palette = lambda: {command.title for command in app.get_system_commands(app.screen)}  # noqa: E731
        await pilot.press(*"/retry", "enter")
        await wait_until(pilot, lambda: "Nothing to retry yet" in screen_text(pilot))
        await pilot.press(*"/export", "enter")
        await wait_until(pilot, lambda: "Nothing to export yet" in screen_text(pilot))
        needing_a_message = {"Retry", "Export as Markdown", "Copy last reply", "Previous branch"}
        assert not needing_a_message & in_palette() and "Help" in in_palette()
        await send_and_settle(pilot, "A prompt")
        assert needing_a_message <= in_palette()
        await pilot.press("ctrl+p", *"Retry")
        await wait_until(pilot, lambda: "Regenerate the last reply" in screen_text(pilot))


async def test_after_a_run_of_quick_moves_the_footer_shows_the_keys_of_where_focus_ended(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """The footer is rebuilt once per frame at most, however often focus moves meanwhile
    (a held key): what it shows in the end must be the keys of the last move."""
    server.queue(StreamReply(deltas=["A reply."]))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        footer = lambda: screen_text(pilot).splitlines()[-1]  # noqa: E731
        await send_and_settle(pilot, "A prompt")
        await pilot.press("ctrl+up")  # the reply
        await wait_until(pilot, lambda: "Regenerate" in footer())
        for key in ("up", "down", "up"):  # ends on the prompt: no Regenerate there
            pilot.app.post_message(events.Key(key, None))
        await wait_until(pilot, lambda: "Edit & resend" in footer())
        assert "Regenerate" not in footer()
        prompt = chat_screen(pilot).conversation.messages[0]
        assert getattr(pilot.app.focused, "message", None) is prompt


async def test_the_keys_of_old_footers_are_let_go(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Each footer key binds the footer's `compact`, a watcher Textual keeps on the footer
    until `compact` changes (Textual#6666): without pruning, every key of every rebuild
    stayed in memory (1,400 after holding Up for five seconds in a long conversation)."""
    from textual.widgets._footer import FooterKey

    server.queue(StreamReply(deltas=["A reply."]))
    async with ChatApp(settings).run_test(size=(120, 30)) as pilot:
        footer = lambda: screen_text(pilot).splitlines()[-1]  # noqa: E731
        await send_and_settle(pilot, "A prompt")
        await pilot.press("ctrl+up")
        for _ in range(3):  # prompt, reply, prompt...: a rebuild each time
            await pilot.press("up")
            await wait_until(pilot, lambda: "Regenerate" not in footer())
            await pilot.press("down")
            await wait_until(pilot, lambda: "Regenerate" in footer())
        footer_widget = chat_screen(pilot).query_one("KeyFooter")
        watchers = getattr(footer_widget, "__watchers")["compact"]
        bound = [
            key for key in footer_widget.query(FooterKey) if not key.has_class("-command-palette")
        ]
        assert len(watchers) == len(bound) > 0


async def test_copy_code_is_offered_only_on_a_reply_with_a_code_block(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["Plain words, no code."]),
        StreamReply(deltas=["Some code:\n\n~~~sh\nls\n~~~\n"]),
    )
    async with ChatApp(settings).run_test(size=(160, 40)) as pilot:
        footer = lambda: screen_text(pilot).splitlines()[-1]  # noqa: E731
        await send_and_settle(pilot, "Words?")
        await send_and_settle(pilot, "Code?")
        await pilot.press("ctrl+up")  # the reply with code
        await wait_until(pilot, lambda: "Regenerate" in footer())
        assert "Copy code" in footer()
        await pilot.press("up", "up")  # the reply without
        selected = lambda: getattr(pilot.app.focused, "message", None)  # noqa: E731
        await wait_until(
            pilot, lambda: getattr(selected(), "content", "") == "Plain words, no code."
        )
        # (the footer follows the key settled last: the prompt's keys showed on the way)
        await wait_until(pilot, lambda: "Regenerate" in footer() and "Copy code" not in footer())


async def test_delete_is_offered_on_a_selected_message_only_while_nothing_streams(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """A message is deleted with no reply streaming (it says so): the footer leaves `d`
    out meanwhile, and offers it again once the reply ends."""
    server.queue(StreamReply(deltas=[f"w{i} " for i in range(60)], delay=0.03))
    async with ChatApp(settings).run_test(size=(160, 30)) as pilot:
        footer = lambda: screen_text(pilot).splitlines()[-1]  # noqa: E731
        await type_and_send(pilot, "A prompt")
        await wait_until(pilot, lambda: "Stop reply" in footer())
        await pilot.press("ctrl+up", "up")  # the prompt
        await wait_until(pilot, lambda: "Edit & resend" in footer())
        assert "Delete" not in footer()
        await wait_until(pilot, lambda: "Delete" in footer(), timeout=10)
        assert not chat_screen(pilot).session.is_streaming


async def test_moving_between_a_prompt_and_a_reply_changes_the_footer_keys_in_place(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """The keys mounted take the new words and only the difference is mounted or removed
    (a rebuild styled all fifteen keys anew, 22 ms at each move); what shows is what a
    rebuild would show."""
    from textual.widgets._footer import FooterKey

    server.queue(StreamReply(deltas=["A reply.\n\n```python\nx = 1\n```\n"]))
    async with ChatApp(settings).run_test(size=(160, 30)) as pilot:
        footer = lambda: screen_text(pilot).splitlines()[-1]  # noqa: E731
        await send_and_settle(pilot, "A prompt")
        footer_widget = chat_screen(pilot).query_one("KeyFooter")
        await pilot.press("ctrl+up")  # the reply
        await wait_until(pilot, lambda: "Regenerate" in footer())
        on_the_reply = list(footer_widget.query(FooterKey))
        await pilot.press("up")  # the prompt
        await wait_until(pilot, lambda: "Edit & resend" in footer())
        on_the_prompt = list(footer_widget.query(FooterKey))
        assert len(on_the_prompt) == len(on_the_reply) - 1  # no Regenerate, no Copy code
        assert all(a is b for a, b in zip(on_the_prompt[:-1], on_the_reply, strict=False))
        assert on_the_prompt[-1] is on_the_reply[-1], "the palette's key"
        shown = footer()
        footer_widget.refresh(recompose=True)  # rebuilt whole, in its own context
        await pilot.pause()
        assert footer() == shown
        assert not any(key.is_attached for key in on_the_prompt), "(it was rebuilt)"
        assert "e Edit & resend  ^r Retry" in shown and "Regenerate" not in shown
        await pilot.press("down")  # the reply again: a key mounted
        await wait_until(pilot, lambda: "Regenerate" in footer())
        assert "r Regenerate  1 Copy code 1-9  ^r Retry" in footer()


async def test_a_footer_not_on_screen_changes_nothing() -> None:
    """A rebuild due when the footer has gone (its screen closed) is let go."""
    from tui.ui.widgets.key_footer import KeyFooter

    footer = KeyFooter()
    await footer._rebuild_if_keys_changed()
    assert not footer.children and footer._keys_shown is None

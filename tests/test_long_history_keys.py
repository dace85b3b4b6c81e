"""Home and End in a long conversation reach its true ends, not just the turns mounted."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.screen import Screen

from benchmarks.long_conversation import build_history
from tests.emulated_terminal import DrawsToEmulatedTerminal
from tests.ui_helpers import chat_screen, screen_text, wait_until
from tui import session_rest
from tui.chat.conversation import Conversation
from tui.chat.message import Message, MessageStatus
from tui.config import Settings
from tui.session_rest import read_between_turns
from tui.store import Store
from tui.ui import markdown_kept, markdown_lines
from tui.ui.app import ChatApp
from tui.ui.markdown_lines import LaidOutInSteps, MarkdownLook
from tui.ui.markdown_references import References
from tui.ui.widgets.conversation_log import ConversationLog
from tui.ui.widgets.rendered_markdown import RenderedMarkdown


def long_history(path: Path, turns: int, lines: int = 1) -> None:
    store = Store.open(path)
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    for turn in range(turns):
        store.save_message(conversation, conversation.add_user_message(f"Question {turn}"))
        reply = conversation.start_reply("m")
        words = "Penguins huddle." if turn == 10 else "\n\n".join(["Some words."] * lines)
        reply.content = f"Answer {turn}.\n\n{words}\n\nEnd of answer {turn}."
        reply.status = MessageStatus.DONE
        store.save_message(conversation, reply)
    store.close()


def offline(path: Path) -> Settings:
    """Settings for a stored history, with no server needed."""
    return Settings(model="m", base_url="http://127.0.0.1:9/v1", api_key="k", db_path=path)


def selected(pilot: Pilot) -> Message | None:
    """The message selected in the log, if any."""
    return getattr(pilot.app.focused, "message", None)


@asynccontextmanager
async def history_opened(
    tmp_path: Path, turns: int, lines: int
) -> AsyncIterator[tuple[Pilot, ConversationLog]]:
    """The app resumed on `turns` turns of `lines`-paragraph replies, their end on screen."""
    path = tmp_path / "h.sqlite3"
    long_history(path, turns, lines=lines)
    async with ChatApp(offline(path), continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: f"End of answer {turns - 1}." in screen_text(pilot))
        await chat_screen(pilot).session.read_whole()
        log = chat_screen(pilot).log_view
        # The log took the whole in too (the window's places settled): the session's
        # reading ends before the log hears of it, and a test that went on at once acted
        # on the part shown first (a window "from the top" opened at the part's top).
        await log.shown_whole.wait()
        yield pilot, log


def sixty_turns_opened(
    tmp_path: Path,
) -> AbstractAsyncContextManager[tuple[Pilot, ConversationLog]]:
    """The app resumed on 60 turns of six-paragraph replies, their end on screen."""
    return history_opened(tmp_path, 60, lines=6)


@asynccontextmanager
async def long_history_selected(tmp_path: Path) -> AsyncIterator[tuple[Pilot, ConversationLog]]:
    """The app resumed on 150 turns of eight-paragraph replies, the last one selected."""
    async with history_opened(tmp_path, 150, lines=8) as (pilot, log):
        await pilot.press("ctrl+up")
        yield pilot, log


@contextmanager
def layouts_counted() -> Iterator[list[str]]:
    """The sources laid out meanwhile (not those found kept laid out), whoever lays them
    out: every layout, in one go or in steps, is `markdown_lines.laying_out`."""
    laid_out: list[str] = []
    laying_out = markdown_lines.laying_out

    def counted(
        source: str, width: int, look: MarkdownLook, references: References = ()
    ) -> LaidOutInSteps:
        laid_out.append(source)
        return laying_out(source, width, look, references)

    markdown_lines.laying_out = counted
    try:
        yield laid_out
    finally:
        markdown_lines.laying_out = laying_out


def assert_not_laid_out_again(laid_out: list[str], mounted: list[Message]) -> None:
    """Replies were among the turns just mounted, and none of their text was laid out
    meanwhile (an empty tail, laid out in no time, does not count)."""
    contents = [message.content for message in mounted]
    assert any(reply.startswith("Answer") for reply in contents)
    again = [s for s in laid_out if s and any(s in reply for reply in contents)]
    assert again == [], "the replies mounted were laid out in the frame"


async def ahead_done(pilot: Pilot) -> None:
    await pilot.app.workers.wait_for_complete(
        [worker for worker in pilot.app.workers if worker.group == "ahead"]
    )


async def test_home_and_end_select_the_first_and_last_message_of_the_conversation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.sqlite3"
    long_history(path, 150)
    settings = offline(path)
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "End of answer 149." in screen_text(pilot))
        log = chat_screen(pilot).log_view
        assert log.earlier > 200, "only the end is mounted"
        await pilot.press("ctrl+up", "home")
        await wait_until(pilot, lambda: "Question 0" in screen_text(pilot))
        assert selected(pilot) is log.messages[0]
        await pilot.press("down")
        assert selected(pilot) is log.messages[1]
        await pilot.press("end")
        await wait_until(pilot, lambda: "End of answer 149." in screen_text(pilot))
        assert selected(pilot) is log.messages[-1]


def rest_held_back(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The rest of a conversation shown from a part is read once the event is set."""
    rest_may_come = asyncio.Event()

    async def held_back(steps: Generator[None, None, Any], busy: Callable[[], bool]) -> Any:
        await rest_may_come.wait()
        return await read_between_turns(steps, busy)

    monkeypatch.setattr(session_rest, "read_between_turns", held_back)
    return rest_may_come


async def test_a_long_conversation_shows_its_end_first_and_keeps_it_when_the_rest_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resumed, the first frame is the end of the path (read in milliseconds), telling
    how many messages are above it; the rest, read after, slides in behind the views on
    screen without rebuilding them, and Home then reaches the very first message."""
    path = tmp_path / "h.sqlite3"
    long_history(path, 150)
    rest_may_come = rest_held_back(monkeypatch)
    async with ChatApp(offline(path), continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "End of answer 149." in screen_text(pilot))
        screen = chat_screen(pilot)
        log = screen.log_view
        views = list(log.query(".message"))
        assert 260 <= log.unread < 300 - len(views), "only the end was read"
        note = log.query_one(".earlier")
        told = f"↑ {300 - len(views)} earlier messages"
        assert told in str(note.render())
        screen.action_export("md")  # all of it, once it is read: it waits
        assert not (tmp_path / "exports").exists()
        rest_may_come.set()
        await screen.session.read_whole()
        await wait_until(pilot, lambda: any((tmp_path / "exports").glob("*.md")))
        exported = next((tmp_path / "exports").glob("*.md")).read_text()
        assert "Question 0" in exported and "End of answer 149." in exported
        assert log.unread == 0 and log.earlier == 300 - len(views)
        assert list(log.query(".message"))[-len(views) :] == views, "the same views"
        assert told in str(log.query_one(".earlier").render())
        await pilot.press("ctrl+up", "home")
        await wait_until(pilot, lambda: "Question 0" in screen_text(pilot))
        assert selected(pilot) is log.messages[0] is screen.session.conversation.messages[0]


async def test_home_pressed_before_the_rest_is_read_reaches_the_very_first_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: Home waited for the session's read, not for the log to take it,
    and landed on the first message of the part, in the middle of the conversation."""
    path = tmp_path / "h.sqlite3"
    long_history(path, 150)
    rest_may_come = rest_held_back(monkeypatch)
    async with ChatApp(offline(path), continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "End of answer 149." in screen_text(pilot))
        log = chat_screen(pilot).log_view
        await pilot.press("ctrl+up", "home")
        await pilot.pause(0.2)
        assert "Question 0" not in screen_text(pilot), "it waits for the rest"
        rest_may_come.set()
        await wait_until(pilot, lambda: "Question 0" in screen_text(pilot))
        assert selected(pilot) is log.messages[0] and log.earlier == 0
        await pilot.press("end")
        await wait_until(pilot, lambda: "End of answer 149." in screen_text(pilot))
        assert selected(pilot) is log.messages[-1]


async def test_up_on_the_first_turn_mounted_loads_earlier_ones_instead_of_wrapping(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.sqlite3"
    long_history(path, 20)
    settings = offline(path)
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "End of answer 19." in screen_text(pilot))
        log = chat_screen(pilot).log_view
        assert log.first_shown > 20, "the turns to step into are not mounted yet"
        await pilot.press("ctrl+up", *["up"] * 16)
        assert selected(pilot) is log.messages[-17]
        assert "Question 12" in screen_text(pilot)


async def test_a_message_opened_far_back_in_a_long_conversation_is_on_screen(
    tmp_path: Path,
) -> None:
    """Found while measuring search: opened with no screen change in between, the log,
    emptied and not laid out yet, looked too short to scroll, loaded the turns above the
    message, and left it screens below."""
    path = tmp_path / "h.sqlite3"
    build_history(path, 400)  # replies of about 1 KB of Markdown, code blocks included
    settings = offline(path)
    async with ChatApp(settings).run_test(size=(120, 40)) as pilot:
        await pilot.pause(2)  # settled: the first frames drawn, the client library loaded
        session = chat_screen(pilot).session
        assert session.store is not None
        [hit] = session.store.search("Question 100")
        await session.open(hit.conversation_id, hit.message_id)
        await wait_until(pilot, lambda: "Question 100: how does part 100" in screen_text(pilot))


async def test_a_conversation_opened_lays_each_reply_out_once(tmp_path: Path) -> None:
    """The log keeps its scrollbar's room from the start: the replies first mounted were
    laid out at the log's whole width, and again, two columns narrower, once they
    overflowed it and the scrollbar came (twelve layouts for six, a quarter of the time
    a search hit took to open)."""
    path = tmp_path / "h.sqlite3"
    long_history(path, 20, lines=8)
    with layouts_counted() as laid_out:
        async with ChatApp(offline(path), continue_last=True).run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "End of answer 19." in screen_text(pilot))
            await pilot.pause(0.2)
    replies = [source for source in laid_out if source.startswith("Answer")]
    assert any(source.startswith("Answer 19.") for source in replies)
    assert len(replies) == len(set(replies)), f"laid out twice: {[r[:10] for r in replies]}"


async def test_a_message_opened_far_back_mounts_a_screenful_from_it(tmp_path: Path) -> None:
    """A search hit opens with the turn above it and enough below to fill the screen, not
    twelve messages: each reply mounted is laid out before the first frame shows it."""
    path = tmp_path / "h.sqlite3"
    build_history(path, 400)  # replies of about 1 KB: a screen of 40 lines holds one
    async with ChatApp(offline(path)).run_test(size=(120, 40)) as pilot:
        await pilot.pause(1)
        session = chat_screen(pilot).session
        assert session.store is not None
        [hit] = session.store.search("Question 100")
        await session.open(hit.conversation_id, hit.message_id)
        await wait_until(pilot, lambda: "Question 100: how does part 100" in screen_text(pilot))
        log = chat_screen(pilot).log_view
        shown = [view.message.content[:12] for view in log.query(".message")]
    assert shown[:4] == ["Question 98:", "Answer 99.\n\n", "Question 100", "Answer 101.\n"]
    assert len(shown) <= 6, shown


async def test_a_hit_among_replies_far_shorter_than_their_source_stays_on_screen(
    tmp_path: Path,
) -> None:
    """Found in review: the window from a hit is a screenful of source lines; hard-wrapped
    replies render in a few lines, the log could not scroll, and `fill` loaded the long
    turns above the hit, pushing it below the screen. It now loads the turns below."""
    path = tmp_path / "h.sqlite3"
    store = Store.open(path)
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    for turn in range(60):
        store.save_message(conversation, conversation.add_user_message(f"Question {turn}"))
        reply = conversation.start_reply("m")
        lines = [f"Paragraph {n} of a long answer.\n" for n in range(30)] if turn < 40 else []
        reply.content = f"Answer {turn}.\n\n" + ("\n".join(lines) or "hard wrapped\n" * 30)
        reply.status = MessageStatus.DONE
        store.save_message(conversation, reply)
    store.close()
    async with ChatApp(offline(path)).run_test(size=(100, 40)) as pilot:
        session = chat_screen(pilot).session
        assert session.store is not None
        [hit] = session.store.search("Question 42")
        await session.open(hit.conversation_id, hit.message_id)
        log = chat_screen(pilot).log_view
        await wait_until(pilot, lambda: log.max_scroll_y > 0 and not log.is_anchored)
        await pilot.pause(0.5)  # whatever `fill` loads, it has loaded
        first_rows = screen_text(pilot).splitlines()[1:4]
        assert any("Question 42" in row for row in first_rows), first_rows


async def test_end_pressed_as_soon_as_home_shows_the_top_goes_to_the_end(
    tmp_path: Path,
) -> None:
    """Found by the benchmark: End pressed on seeing the first question (before Home had
    finished its work) went to the prompt, and the log stayed at the top."""
    async with long_history_selected(tmp_path) as (pilot, log):
        # Keys as a person presses them: no waiting for the app to settle in between.
        pilot.app.post_message(events.Key("home", None))
        deadline = time.monotonic() + 10
        while "Question 0" not in screen_text(pilot):  # as soon as a person could see it
            assert time.monotonic() < deadline, "Home never showed the top"
            await asyncio.sleep(0.002)
        pilot.app.post_message(events.Key("end", None))
        await wait_until(pilot, lambda: "End of answer 149." in screen_text(pilot))
        assert selected(pilot) is log.messages[-1]


async def test_the_replies_above_are_laid_out_ahead_and_look_as_laid_out_afresh(
    tmp_path: Path,
) -> None:
    """While the user reads, the replies the next scroll to the top will mount are laid
    out, one per turn of the event loop: the frame that mounts them took 60-90 ms when it
    laid them out itself. What it shows must be what laying them out afresh shows."""
    async with sixty_turns_opened(tmp_path) as (pilot, log):
        first_shown = log.first_shown
        await ahead_done(pilot)
        with layouts_counted() as laid_out:
            log.scroll_home(animate=False)
            await wait_until(pilot, lambda: log.first_shown < first_shown)
            await pilot.pause()
        assert_not_laid_out_again(laid_out, log.messages[log.first_shown : first_shown])
        shown = pilot.app.screen._compositor.render_strips()
        markdown_kept.forget_kept_layouts()
        for markdown in log.query(RenderedMarkdown):
            markdown._lines_width = 0  # laid out again at the next frame
            markdown.refresh()
        await pilot.pause()
        assert pilot.app.screen._compositor.render_strips() == shown


async def test_replies_stepped_into_with_up_are_not_laid_out_again_when_mounted(
    tmp_path: Path,
) -> None:
    """Up on the first turn mounted mounts earlier ones, whose replies were laid out ahead:
    the view shows a stored reply by inserting its segments, and that laid each out again
    (88 layouts, 47 KB of Markdown, holding Up for five seconds over 20,000 messages)."""
    async with sixty_turns_opened(tmp_path) as (pilot, log):
        first_shown = log.first_shown
        await pilot.press("ctrl+up")
        await ahead_done(pilot)
        with layouts_counted() as laid_out:
            for _ in range(40):
                await pilot.press("up")
                if log.first_shown < first_shown:
                    break
            await pilot.pause()
        assert_not_laid_out_again(laid_out, log.messages[log.first_shown : first_shown])


async def test_the_replies_below_a_window_shown_from_the_top_are_laid_out_ahead(
    tmp_path: Path,
) -> None:
    """The mirror, for scrolling down from far back (after Home, or a search hit): the
    replies the next scroll to the bottom will mount are laid out while the user reads."""
    async with sixty_turns_opened(tmp_path) as (pilot, log):
        await log.show(log.conversation, focus=log.messages[0])
        await wait_until(pilot, lambda: "Question 0" in screen_text(pilot))
        end_shown = log.end_shown
        assert end_shown is not None
        await pilot.pause()
        await ahead_done(pilot)
        with layouts_counted() as laid_out:
            log.scroll_end(animate=False)
            await wait_until(pilot, lambda: log.end_shown is None or log.end_shown > end_shown)
            await pilot.pause()
        assert_not_laid_out_again(laid_out, log.messages[end_shown : log.end_shown])


async def test_laying_out_ahead_asked_twice_at_once_leaves_no_coroutine_unawaited(
    tmp_path: Path,
) -> None:
    """Asked again before its worker started (Home, then End at once), the first worker
    is cancelled unstarted: a coroutine made for it was never awaited, and Python said
    so on the test output."""
    async with sixty_turns_opened(tmp_path) as (pilot, log):
        await ahead_done(pilot)
        gc.collect()  # what was garbage before is not this test's
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            log._lay_out_ahead()
            log._lay_out_ahead()
            ahead = [worker for worker in pilot.app.workers if worker.group == "ahead"]
            replaced_unstarted = len(ahead) == 2 and ahead[0].is_cancelled
            del ahead  # held here, the replaced worker's work would never be garbage
            assert replaced_unstarted
            await pilot.pause(0.3)
            gc.collect()
        unawaited = [str(w.message) for w in caught if "never awaited" in str(w.message)]
        assert unawaited == []


class FirstFrameApp(DrawsToEmulatedTerminal, ChatApp):
    """Keeps what the terminal showed after the app's first frame."""

    first_frame: str | None = None

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        super()._display(screen, renderable)
        if self.first_frame is None and hasattr(self, "terminal"):
            self.first_frame = "\n".join(self.terminal.screen.display)


async def test_a_resumed_conversation_shows_its_last_messages_in_the_first_frame(
    tmp_path: Path,
) -> None:
    """The log's first arrangement placed the end of the conversation by the log's size
    before it had one: the first frame showed an empty log, the messages a frame later
    (with the scrollbar, which appeared only then)."""
    path = tmp_path / "h.sqlite3"
    long_history(path, 30, lines=4)
    app = FirstFrameApp(offline(path), continue_last=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "End of answer 29." in screen_text(pilot))
        await pilot.pause(0.3)
        assert app.first_frame is not None
        assert "End of answer 29." in app.first_frame
        shown_at_last = "\n".join(app.terminal.screen.display[:-1])  # the footer fills in
        assert app.first_frame.rsplit("\n", 1)[0] == shown_at_last, "the log was drawn again"


async def test_scrolling_back_mounts_few_widgets_per_turn_and_one_note_of_what_is_earlier(
    tmp_path: Path,
) -> None:
    """Every widget mounted while scrolling back is garbage once its turn is unmounted
    again, about a hundred objects for a full collection to walk: holding Up over 20,000
    messages, collections freeing them stalled the keys (17-49 ms each). A reply that ended
    cleanly has no outcome line, and the "↑ N earlier" note is one widget, told the new
    count, not another per batch."""
    async with sixty_turns_opened(tmp_path) as (pilot, log):
        note = log.query_one(".earlier")
        first_shown = log.first_shown
        await pilot.press("ctrl+up")
        for _ in range(30):
            await pilot.press("up")
        await wait_until(pilot, lambda: log.first_shown <= first_shown - 8)
        assert log.query_one(".earlier") is note
        assert f"↑ {log.first_shown} earlier messages" in str(note.render())
        views = list(log.query(".message"))
        widgets = list(log.query("*"))
        # a prompt: one widget; a reply: its view, body and Markdown; and the note
        assert len(widgets) <= 2 * len(views) + 1, [type(w).__name__ for w in widgets]


async def test_end_pressed_right_after_home_leaves_the_log_following_its_end(
    tmp_path: Path,
) -> None:
    """Both jumps ran at once: End, decided while Home was still showing the top, found
    the end mounted and selected it there, and the top came after it. Found with the
    long-history benchmark, whose End then timed out (1 run in 10-30)."""
    async with long_history_selected(tmp_path) as (pilot, log):
        pilot.app.post_message(events.Key("home", None))
        pilot.app.post_message(events.Key("end", None))
        await pilot.pause()
        jumps = [worker for worker in pilot.app.workers if worker.group == "jump"]
        await pilot.app.workers.wait_for_complete(jumps)
        await pilot.pause(0.3)
        assert "End of answer 149." in screen_text(pilot)
        assert log.scroll_y == log.max_scroll_y


async def test_home_shows_the_notices_above_the_first_message_and_the_note_stays_below_them(
    tmp_path: Path,
) -> None:
    """The log opens with the app's notices above the messages. Home scrolls to the very
    top, notices included (its scroll, done at once, once came before the one to the
    first message); and reading down from there, the "↑ N earlier" note made when the
    first turns are unmounted goes below the notices, where the log put it first."""
    path = tmp_path / "h.sqlite3"
    long_history(path, 150, lines=8)
    settings = replace(offline(path), notices=("A notice from the config file.",))
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "End of answer 149." in screen_text(pilot))
        log = chat_screen(pilot).log_view
        await pilot.press("ctrl+up", "home")
        await wait_until(pilot, lambda: "Question 0" in screen_text(pilot))
        await pilot.pause(0.3)
        assert log.scroll_y == 0 and "A notice from the config file." in screen_text(pilot)
        while not log.first_shown:
            log.scroll_end(animate=False, immediate=True)
            await pilot.pause(0.05)
        kinds = [
            sorted(child.classes & {"warning", "earlier", "message"}) for child in log.children
        ]
        assert kinds[:3] == [["warning"], ["earlier"], ["message"]]

"""The replies a launch shows first are laid out once: the next launch takes their lines
back from the file beside the history and draws the same, without the Markdown parser."""

from __future__ import annotations

import json
import pickle
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.color import Color
from textual.style import Style

import tui.ui.kept_frame as kept_frame
import tui.ui.kept_layouts as kept_layouts
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.test_long_history_keys import layouts_counted
from tests.test_parsed_styles import drawn
from tests.test_stored_replies import RICH_REPLY, another_thread_compiling, plain_look
from tests.ui_helpers import screen_text, send_and_settle, wait_until
from tui.chat import Conversation
from tui.config import Settings
from tui.store import Store
from tui.ui import code_highlighters
from tui.ui.app import ChatApp
from tui.ui.markdown_inline import MarkdownLook
from tui.ui.markdown_kept import forget_kept_layouts, lay_out_kept
from tui.ui.markdown_lines import lay_out

ROOT = Path(__file__).resolve().parent.parent


def colourful_look(theme: str = "textual-dark") -> MarkdownLook:
    """A look with colours, weights and a link's underline: what styles the lines keep."""
    ink, paper = Color(224, 224, 224), Color(18, 18, 18)
    return plain_look(
        text=Style(background=paper, foreground=ink),
        strong=Style(bold=True),
        em=Style(italic=True),
        link=Style(foreground=Color(120, 160, 255), underline=True),
        code_inline=Style(foreground=Color(250, 180, 90), background=Color(40, 40, 40)),
        headings=(Style(foreground=Color(255, 200, 0), bold=True),) * 6,
        table_lines=Style(foreground=Color(90, 90, 90)),
        theme=theme,
    )


@pytest.fixture(autouse=True)
def nothing_laid_out_in_this_process() -> Iterator[None]:
    """Each test starts as a new process would: only the file tells what was laid out."""
    forget_kept_layouts()
    yield
    forget_kept_layouts()


def test_runs_read_back_in_another_process_are_the_lines_laid_out(tmp_path: Path) -> None:
    """Styles compare by a hash made once per process: lines read back by another process
    must equal (text and style) what it lays out itself, and need no parser for it."""
    look = colourful_look()
    laid_out = lay_out_kept(RICH_REPLY, 70, look)
    assert kept_layouts.keep_layouts(tmp_path, [(RICH_REPLY, 70, look, ())])
    kept = tmp_path / kept_layouts.FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    check = f"""
import json
import pickle
from tests.test_kept_layouts import colourful_look
from tests.test_stored_replies import RICH_REPLY
from tui.ui import kept_layouts, markdown_kept
from tui.ui.markdown_lines import _parser, lay_out
kept_layouts.recall_kept_layouts(__import__("pathlib").Path({str(tmp_path)!r}))
look = colourful_look()
back = markdown_kept.lay_out_kept(RICH_REPLY, 70, look)
parser_made = _parser.cache_info().currsize
fresh = lay_out(RICH_REPLY, 70, look)
print(json.dumps({{
    "parser_made": parser_made,
    "lines": [line.text for line in back.lines],
    "same": back.lines == fresh.lines and (back.top, back.bottom) == (fresh.top, fresh.bottom),
    "styles_equal": all(
        [s.style for s in a] == [s.style for s in b] for a, b in zip(back.lines, fresh.lines)
    ),
}}))
"""
    run = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result = json.loads(run.stdout)
    assert result["lines"] == [line.text for line in laid_out.lines]
    assert result["same"] and result["styles_equal"]
    assert result["parser_made"] == 0


def test_a_run_kept_for_another_look_is_laid_out_anew(tmp_path: Path) -> None:
    look = colourful_look()
    lay_out_kept(RICH_REPLY, 70, look)
    assert kept_layouts.keep_layouts(tmp_path, [(RICH_REPLY, 70, look, ())])
    forget_kept_layouts()
    kept_layouts.recall_kept_layouts(tmp_path)
    with layouts_counted() as laid_out:
        lay_out_kept(RICH_REPLY, 70, colourful_look(theme="gruvbox"))  # code in its colours
        lay_out_kept(RICH_REPLY, 72, look)  # another width
    assert laid_out == [RICH_REPLY, RICH_REPLY]


def test_a_damaged_file_is_laid_out_anew_and_written_again(tmp_path: Path) -> None:
    look = colourful_look()
    (tmp_path / kept_layouts.FILE_NAME).write_bytes(b"not a pickle")
    (tmp_path / kept_layouts.FILE_NAME).chmod(0o600)
    kept_layouts.recall_kept_layouts(tmp_path)
    with layouts_counted() as laid_out:
        lay_out_kept(RICH_REPLY, 70, look)
    assert laid_out == [RICH_REPLY]
    assert kept_layouts.keep_layouts(tmp_path, [(RICH_REPLY, 70, look, ())])
    forget_kept_layouts()
    kept_layouts.recall_kept_layouts(tmp_path)
    with layouts_counted() as laid_out:
        lay_out_kept(RICH_REPLY, 70, look)
    assert laid_out == []


def stored_replies(path: Path) -> list[str]:
    """A conversation of two replies with code (drawn plain at a first frame), as stored."""
    store = Store.open(path)
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    replies = [f"Reply {n}.\n\n{RICH_REPLY}\n\nEnd of reply {n}." for n in (1, 2)]
    for n, reply in enumerate(replies, 1):
        store.save_message(conversation, conversation.add_user_message(f"Question {n}"))
        message = conversation.start_reply("m")
        message.content = reply
        message.status = message.status.DONE
        store.save_message(conversation, message)
    store.close()
    return replies


async def launch_and_quit(settings: Settings) -> tuple[list[list[tuple[str, str]]], list[str]]:
    """The screen once the last reply is on it, and the text laid out until then."""
    with layouts_counted() as laid_out:
        app = ChatApp(settings, continue_last=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "End of reply 2" in screen_text(pilot))
            shown, laid_out_first = drawn(pilot), list(laid_out)
            await pilot.pause(0.3)  # (the code's highlighter built, the reply drawn again)
            shown = drawn(pilot)
            await pilot.press("ctrl+q")
    return shown, laid_out_first


async def test_a_second_launch_draws_the_end_without_laying_it_out(settings: Settings) -> None:
    replies = stored_replies(settings.db_path)
    """The last reply fills the screen: its runs are taken back, not laid out (the one
    above it is laid out ahead of a scroll, after the first frame, as before)."""
    first, laid_out_first = await launch_and_quit(settings)
    assert any("Reply 2." in source for source in laid_out_first)
    assert (settings.db_path.parent / kept_layouts.FILE_NAME).exists()
    forget_kept_layouts()
    second, laid_out_second = await launch_and_quit(settings)
    assert not [source for source in laid_out_second if source and source in replies[1]]
    assert second[:-6] == first[:-6]  # (not the prompt, whose cursor blinks, nor the footer)
    assert any("End of reply 2." in "".join(text for text, _ in line) for line in second)


async def test_no_reply_text_is_left_behind_by_a_new_conversation(settings: Settings) -> None:
    """Quitting from a new conversation (after /new, or the shown one deleted) leaves no
    file holding the last one's replies."""
    stored_replies(settings.db_path)
    await launch_and_quit(settings)
    kept = settings.db_path.parent / kept_layouts.FILE_NAME
    assert kept.exists()
    app = ChatApp(settings, continue_last=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "End of reply 2" in screen_text(pilot))
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: "End of reply 2" not in screen_text(pilot))
        await pilot.press("ctrl+q")
    assert not kept.exists()


async def test_a_reply_streamed_in_is_kept_as_a_launch_lays_it_out(
    settings: Settings, server: OpenAIStyleServer
) -> None:
    """A reply that streams in is cut a block at a time; a launch shows it whole, as
    stored, and it is that the next launch finds kept."""
    reply = f"Reply 1.\n\n{RICH_REPLY}\n\nEnd of reply 1."
    server.queue(StreamReply(deltas=[reply[i : i + 40] for i in range(0, len(reply), 40)]))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Question 1")
        await pilot.pause(0.3)  # (the code's highlighter built)
        first = screen_text(pilot)
        await pilot.press("ctrl+q")
    forget_kept_layouts()
    with layouts_counted() as laid_out:
        async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "End of reply 1" in screen_text(pilot))
            assert not [source for source in laid_out if source and source in reply]
            await pilot.pause(0.3)
            second = screen_text(pilot)
            await pilot.press("ctrl+q")
    assert _log_part(second) == _log_part(first)


def _log_part(screen: str) -> str:
    """The conversation's lines (the status line and footer differ between a reply just
    streamed and one resumed)."""
    return "\n".join(line for line in screen.splitlines() if "│" in line and "Message" not in line)


def test_at_exit_code_not_highlighted_yet_is_highlighted_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quit within a second of the start, the end's code was drawn plain (its highlighter
    not built yet) and such a layout is not kept: at exit it is built, and the run kept
    highlighted, or every quick launch would leave the next one to lay it out again."""
    monkeypatch.setattr(code_highlighters, "_built", set())
    source = "Some code:\n\n```python\ndef double(x):\n    return x * 2\n```\n"
    look = colourful_look()
    plain_first = replace(look, highlight_unbuilt=False)
    lay_out_kept(source, 70, plain_first)  # the first frame's: drawn plain, not kept
    assert kept_layouts.keep_layouts(tmp_path, [(source, 70, plain_first, ())]) is False
    assert kept_layouts.keep_layouts(tmp_path, [(source, 70, plain_first, ())], at_exit=True)
    forget_kept_layouts()
    kept_layouts.recall_kept_layouts(tmp_path)
    with layouts_counted() as laid_out:
        back = lay_out_kept(source, 70, plain_first)
    assert laid_out == []
    assert back.lines == lay_out(source, 70, look).lines  # highlighted, as laid out now


async def test_the_turns_kept_are_those_the_tallest_terminal_seen_shows(
    settings: Settings,
) -> None:
    """A terminal that hangs up reports 24 rows as it goes; kept for the height at exit,
    the next launch in the real terminal found the turns above those missing."""
    store = Store.open(settings.db_path)
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    for n in range(1, 4):
        store.save_message(conversation, conversation.add_user_message(f"Question {n}"))
        message = conversation.start_reply("m")
        message.content = f"Reply {n}: a short one.\n\nWith a second paragraph."
        message.status = message.status.DONE
        store.save_message(conversation, message)
    store.close()
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: "Reply 3" in screen_text(pilot))
        await pilot.resize_terminal(100, 8)
        await pilot.pause(0.1)
        await pilot.press("ctrl+q")
    kept = pickle.loads((settings.db_path.parent / kept_layouts.FILE_NAME).read_bytes())[1][1]
    assert sorted(source.split(":")[0] for source, _, _ in kept) == [
        "Reply 1",
        "Reply 2",
        "Reply 3",
    ]


async def test_deleting_a_message_leaves_no_kept_text_of_it(settings: Settings) -> None:
    """The file may hold the deleted reply's text: it goes with it (and is made again from
    what is left at the next quit); so do the rows kept for the next launch to paint."""
    stored_replies(settings.db_path)
    await launch_and_quit(settings)
    kept = settings.db_path.parent / kept_layouts.FILE_NAME
    assert kept.exists()
    rows = settings.db_path.parent / kept_frame.FILE_NAME
    rows.write_bytes(b"rows showing End of reply 2")  # (only a terminal's run keeps them)
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "End of reply 2" in screen_text(pilot))
        await pilot.press("ctrl+up", "d", "d")
        await wait_until(pilot, lambda: "End of reply 2" not in screen_text(pilot))
        assert not kept.exists()
        assert not rows.exists()


def test_at_exit_a_compile_in_another_thread_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quit right after the first frame, the highlighter a stored reply asked for is still
    being built in a thread: the loop never waits for that, and drew the code plain. At
    exit it waits, so the run is kept highlighted all the same."""
    monkeypatch.setattr(code_highlighters, "_built", set())
    source = "More code:\n\n```python\nprint('kept')\n```\n"
    look = replace(colourful_look(), highlight_unbuilt=False)
    with another_thread_compiling(seconds=0.3):
        assert kept_layouts.keep_layouts(tmp_path, [(source, 70, look, ())], at_exit=True)
    forget_kept_layouts()
    kept_layouts.recall_kept_layouts(tmp_path)
    with layouts_counted() as laid_out:
        lay_out_kept(source, 70, look)
    assert laid_out == []

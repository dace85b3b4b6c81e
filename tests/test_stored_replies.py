"""A stored reply is laid out without Markdown widgets, and looks the same as when it streamed."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.style import Style
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import last_reply_settled, replies, type_and_send, wait_until
from tui.chat import Conversation
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.store import Store
from tui.ui import code_highlighters
from tui.ui.app import ChatApp
from tui.ui.markdown_kept import lay_out_kept
from tui.ui.markdown_lines import (
    MarkdownLook,
    lay_out,
    render_markdown,
    take_languages_drawn_plain,
)
from tui.ui.widgets.message_log import MessageLog
from tui.ui.widgets.message_views import AssistantMessageView
from tui.ui.widgets.rendered_markdown import RenderedMarkdown

RICH_REPLY = (
    "Intro with *em*, **strong**, ~~gone~~, `code()` and a [link](https://example.com) long "
    "enough to wrap at this width, for certain, and [a reference link][ref] too.\n\n"
    "# Title\n\n## Section\n\n### Part\n\n"
    "- first\n- second with `code`\n  - nested a\n  - nested b\n- third\n\n"
    "1. one\n2. two\n10. ten\n\n"
    "The steps, a blank line between each:\n\n"
    + "".join(f"{n}. a step of a loose list\n\n" for n in range(1, 13))
    + "After the loose list.\n\n"
    "```python\ndef double(x):\n    return x * 2  # comment\n```\n\n"
    "| name | value | note |\n|:---|---:|:---:|\n| alpha | 1 | left |\n"
    "| beta with a longer cell | 22 | *it* |\n\n"
    "> A quote with **bold**\n> that continues.\n>\n> > nested\n\n"
    "---\n\nLine one  \nhard break\n\n"
    + "".join(f"Paragraph {n} after the rest.\n\n" for n in range(6))
    + "[ref]: https://example.com/ref\n\nThe end."
)
"""Every kind of block, and more than one segment's worth of them (a seam in between), with
a link to a reference defined segments later."""


def plain_look(**parts: Any) -> MarkdownLook:
    """A look with no colours, but for `parts`: layouts compared by their text."""
    none = Style()
    return replace(
        MarkdownLook(
            text=none, headings=(none,) * 6, em=none, strong=none, strike=none,
            code_inline=none, link=none, bullet=none, fence=none, quote=none,
            quote_edge=none, rule=none, table_lines=none, table_header=none,
        ),
        **parts,
    )  # fmt: skip


ColourCell = tuple[str, tuple[int, int, int] | None, tuple[int, int, int] | None, bool, bool]


class MessageLogApp(App[None]):
    CSS_PATH = ChatApp.CSS_PATH

    def compose(self) -> ComposeResult:
        yield MessageLog(id="log")


def reply_cells(app: App[None], view: AssistantMessageView | None = None) -> list[list[ColourCell]]:
    """What a reply (the last one) looks like on screen: each cell's character, colours
    and weight."""
    if view is None:
        view = list(app.screen_stack[0].query(AssistantMessageView))[-1]
    return cells_in(app.screen._compositor.render_strips(), view.region)


def cells_in(screen: list[Strip], region: Region) -> list[list[ColourCell]]:
    """Each cell of `region` of the `screen` (its lines): character, colours and weight."""
    rows: list[list[ColourCell]] = []
    for strip in screen[region.y : region.bottom]:
        cells: list[ColourCell] = []
        for segment in strip.crop(region.x, region.right):
            style = segment.style
            colour = style.color.triplet if style and style.color else None
            background = style.bgcolor.triplet if style and style.bgcolor else None
            fg = tuple(colour) if colour else None
            bg = tuple(background) if background else None
            bold, italic = bool(style and style.bold), bool(style and style.italic)
            for character in segment.text:
                if character == " ":  # a space shows its background only
                    cells.append((character, None, bg, False, False))
                else:
                    cells.append((character, fg, bg, bold, italic))
        rows.append(cells)
    return rows


def differs(a: ColourCell, b: ColourCell) -> bool:
    """Colours may differ by rounding (blending see-through theme colours), nothing else."""

    def far(x: tuple[int, int, int] | None, y: tuple[int, int, int] | None) -> bool:
        if x is None or y is None:
            return x != y
        return max(abs(p - q) for p, q in zip(x, y, strict=True)) > 8

    return a[0] != b[0] or a[3:] != b[3:] or far(a[1], b[1]) or far(a[2], b[2])


async def test_finished_text_looks_like_textuals_own_markdown() -> None:
    """The same reply, once as Textual's own Markdown widget and once as `RenderedMarkdown`
    (laid out a segment at a time, margins collapsed where segments meet): the same cells."""
    message = Conversation(model="m").start_reply("m")
    message.content, message.status = RICH_REPLY, MessageStatus.DONE

    async def cells_of(make_body: Callable[[AssistantMessageView], Awaitable[None]]):  # type: ignore[no-untyped-def]
        app = MessageLogApp()
        async with app.run_test(size=(80, 160)) as pilot:
            view = AssistantMessageView(message)
            await app.query_one(MessageLog).mount(view)
            await make_body(view)
            await pilot.pause(0.3)
            return reply_cells(app, view)

    async def as_stored(view: AssistantMessageView) -> None:
        finished = view.body.query(RenderedMarkdown)
        assert len(finished) == 1 and not view.body.query(MarkdownBlock)
        assert finished.first().segment_count >= 3, "long enough to have seams"

    async def as_textual_markdown(view: AssistantMessageView) -> None:
        await view.body.remove_children()
        markdown = Markdown(RICH_REPLY)
        markdown.styles.padding = 0  # as the reply's own text has none
        await view.body.mount(markdown)

    stored = await cells_of(as_stored)
    textual = await cells_of(as_textual_markdown)
    assert_same_look(textual, stored)


async def test_a_reply_looks_the_same_after_reopening(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    words = RICH_REPLY.split(" ")
    server.queue(StreamReply(deltas=[w + " " for w in words[:-1]] + [words[-1]], delay=0.002))
    async with ChatApp(settings).run_test(size=(80, 160)) as pilot:
        await type_and_send(pilot, "Show me everything")
        await wait_until(pilot, lambda: last_reply_settled(pilot), timeout=15)
        await pilot.pause(0.5)
        streamed = reply_cells(pilot.app)

    async with ChatApp(settings, continue_last=True).run_test(size=(80, 160)) as pilot:
        await wait_until(pilot, lambda: bool(replies(pilot)))
        await pilot.pause(0.3)
        reopened_view = replies(pilot)[-1]
        assert reopened_view.query(RenderedMarkdown) and not reopened_view.query(MarkdownBlock)
        reopened = reply_cells(pilot.app)

    assert_same_look(streamed, reopened)


def assert_same_look(expected: list[list[ColourCell]], actual: list[list[ColourCell]]) -> None:
    assert_same_cells(expected, actual)
    actual_text = ["".join(cell[0] for cell in row) for row in actual]
    assert any("def double(x):" in row for row in actual_text)
    assert any("│ beta with a longer cell" in row for row in actual_text)


def assert_same_cells(expected: list[list[ColourCell]], actual: list[list[ColourCell]]) -> None:
    """The same text in every cell, and the same colours (see `differs`) and weights."""
    expected_text = ["".join(cell[0] for cell in row) for row in expected]
    actual_text = ["".join(cell[0] for cell in row) for row in actual]
    assert actual_text == expected_text
    mismatches = [
        (y, x, a, b)
        for y, (row_a, row_b) in enumerate(zip(expected, actual, strict=True))
        for x, (a, b) in enumerate(zip(row_a, row_b, strict=True))
        if differs(a, b)
    ]
    assert not mismatches, mismatches[:5]


def test_every_line_is_exactly_as_wide_as_asked_whatever_the_markdown() -> None:
    plain = plain_look()
    awkward = [
        RICH_REPLY,
        "",
        "# only a heading",
        "```\nan unclosed fence " + "x" * 200,
        "- a\n  - b\n    - c\n      - d\n        - e\n          - f",
        "| 表 | 値 |\n|---|---|\n| 日本語のテキストがとても長い | 😀😀😀 |",
        "<div>html</div>\n\ntext <b>inline</b> ![alt](x.png)",
        "> q\n>\n> - l\n> ```\n> code\n> ```",
        "| a |\n|---|\n| " + "w" * 300 + " |",
        "    indented code\n    more",
    ]
    for source in awkward:
        for width in (1, 2, 5, 13, 40, 77, 120):
            lines = render_markdown(source, width, plain)
            assert {line.cell_length for line in lines} <= {width}, (source[:20], width)
    wide = render_markdown(awkward[5], 40, plain)
    assert any("日本語" in line.text for line in wide), "wide characters are kept, not cut"


@asynccontextmanager
async def reopened_after(
    server: OpenAIStyleServer, settings: Settings, reply: str, size: tuple[int, int]
) -> AsyncIterator[Pilot[None]]:
    """Streams `reply` in one run of the app, then opens the app again on that conversation:
    the reply is now a stored one."""
    server.queue(StreamReply(deltas=[reply]))
    async with ChatApp(settings).run_test(size=size) as pilot:
        await type_and_send(pilot, "Please")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
    async with ChatApp(settings, continue_last=True).run_test(size=size) as pilot:
        await wait_until(pilot, lambda: bool(replies(pilot)))
        await pilot.pause(0.2)
        yield pilot


async def test_clicking_a_code_line_in_a_stored_reply_copies_that_block(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    reply = "First:\n\n```sh\necho one\n```\n\nSecond:\n\n```python\nprint('two')\n```\n"
    async with reopened_after(server, settings, reply, (100, 40)) as pilot:
        stored = replies(pilot)[-1].query_one(RenderedMarkdown)
        row = next(y for y in range(40) if "print('two')" in stored.line_text(y))
        await pilot.click(stored, offset=(6, row))
        assert pilot.app.clipboard == "print('two')"


async def test_a_stored_reply_follows_the_terminal_width_and_the_theme(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with reopened_after(server, settings, RICH_REPLY, (100, 60)) as pilot:
        first = replies(pilot)[-1].query(RenderedMarkdown).first()
        wide_lines = [first.line_text(y) for y in range(first.size.height)]
        heading_row = next(y for y, line in enumerate(wide_lines) if line.strip() == "Section")
        dark_colour = first.render_line(heading_row).crop(0, 10)
        await pilot.resize_terminal(60, 60)
        await pilot.pause(0.3)
        narrow_lines = [first.line_text(y) for y in range(first.size.height)]
        assert {len(line) for line in narrow_lines} == {first.size.width} and first.size.width < 60
        assert len(narrow_lines[0].rstrip()) < len(wide_lines[0].rstrip()), "wrapped again"
        assert re.findall(r"\w+", "".join(narrow_lines)) == re.findall(r"\w+", "".join(wide_lines))
        pilot.app.theme = "textual-light"
        await pilot.pause(0.3)
        heading_row = next(y for y, line in enumerate(narrow_lines) if line.strip() == "Section")
        light_colour = first.render_line(heading_row).crop(0, 10)
        assert light_colour.text == dark_colour.text
        assert [s.style for s in light_colour] != [s.style for s in dark_colour]


async def test_code_in_a_stored_reply_is_highlighted_once_its_highlighter_is_built(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """The first code in a language is drawn plain for a frame (building a highlighter
    takes up to 130 ms), then highlighted: what stays on screen is highlighted code."""
    reply = 'Erlang:\n\n```erlang\n-module(hello).\nstart() -> io:format("hi~n").\n```\n'
    async with reopened_after(server, settings, reply, (100, 30)) as pilot:
        stored = replies(pilot)[-1].query_one(RenderedMarkdown)
        row = next(y for y in range(30) if "-module(hello)." in stored.line_text(y))

        def colours_in_code() -> int:
            return len(
                {
                    segment.style.color
                    for segment in stored.render_line(row)
                    if segment.text.strip() and segment.style
                }
            )

        await wait_until(pilot, lambda: colours_in_code() >= 2)  # plain code has one


async def test_a_stored_replys_highlighter_is_built_in_a_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored code in a language not highlighted yet is drawn plain, then highlighted once
    its highlighter is built, in a thread: built on the event loop, it held every key and
    scroll behind it (the first scroll back through a resumed conversation: 90-130 ms)."""
    built_on_the_loop: list[bool] = []
    build = code_highlighters.build_highlighters

    def build_and_tell_where(languages: list[str]) -> None:
        built_on_the_loop.append(threading.current_thread() is threading.main_thread())
        build(languages)

    monkeypatch.setattr(code_highlighters, "build_highlighters", build_and_tell_where)
    monkeypatch.setattr(code_highlighters, "_built", set())  # (whatever ran before)
    conversation = Conversation(model="m")
    store = Store.open(settings.db_path)
    store.save_conversation(conversation, None)
    fences = "```fortran\nprogram hello\nend program hello\n```\n"
    for prompt in ("Two programs?", "And again?"):  # two replies need it at once
        store.save_message(conversation, conversation.add_user_message(prompt))
        reply = conversation.start_reply("m")
        reply.content, reply.status = f"One:\n\n{fences}\nTwo:\n\n{fences}", MessageStatus.DONE
        store.save_message(conversation, reply)
    store.close()
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(replies(pilot)) == 2)
        stored = replies(pilot)[-1].query_one(RenderedMarkdown)
        rows = [y for y in range(30) if stored.line_text(y).strip() == "program hello"]

        def colours_in_code(row: int) -> int:
            return len(
                {
                    segment.style.color
                    for segment in stored.render_line(row)
                    if segment.text.strip() and segment.style
                }
            )

        await wait_until(pilot, lambda: all(colours_in_code(row) >= 2 for row in rows))
    assert len(rows) == 2
    assert built_on_the_loop == [False], "built once for both replies, in a thread"


@contextmanager
def another_thread_compiling(seconds: float = 5.0) -> Iterator[threading.Event]:
    """Another thread holds the first-compile lock (as the warm-up's builds do) for
    `seconds`, or until the event given is set."""
    held, release = threading.Event(), threading.Event()

    def compile_elsewhere() -> None:
        with code_highlighters._first_compile:
            held.set()
            release.wait(seconds)

    other = threading.Thread(target=compile_elsewhere)
    other.start()
    held.wait(5)
    try:
        yield release
    finally:
        release.set()
        other.join()


def test_the_event_loop_never_waits_for_another_threads_compile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A streaming reply's code in a language not built yet is compiled on the spot,
    unless another thread is compiling one (the warm-up's seven languages take 0.3 s):
    then it is drawn plain, and highlighted once that is done."""
    monkeypatch.setattr(code_highlighters, "_built", set())
    with another_thread_compiling() as release:
        started = time.monotonic()
        lines = render_markdown("```fortran\nprogram hello\n```\n", 60, plain_look())
        waited = time.monotonic() - started
        release.set()
    assert waited < 2, "drawn without waiting for the lock"
    assert any("program hello" in line.text for line in lines)
    assert take_languages_drawn_plain() == {"fortran"}, "to be highlighted once built"


async def test_text_in_a_finished_reply_can_be_selected_with_the_mouse(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["First line of the answer.\n\nSecond paragraph here.\n"]))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "Answer")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await pilot.pause(0.2)
        finished = replies(pilot)[-1].query_one(RenderedMarkdown)
        row = next(y for y in range(10) if "Second paragraph" in finished.line_text(y))

        def backgrounds_of_first_line() -> set[object]:
            return {s.style.bgcolor for s in finished.render_line(0) if s.text.strip() and s.style}

        unselected = backgrounds_of_first_line()
        await pilot.mouse_down(finished, offset=(0, 0))
        await pilot.hover(finished, offset=(5, row))
        await pilot.mouse_up(finished, offset=(5, row))
        await pilot.pause()
        assert pilot.app.screen.get_selected_text() == "First line of the answer.\n\nSecond"
        assert backgrounds_of_first_line() != unselected, "the selection is highlighted"


async def test_segments_inserted_above_the_end_lay_out_as_if_added_in_order() -> None:
    """A fast stream's backlog shows its end first and puts its start in above it, batch by
    batch; the lines spliced in must be those of the reply laid out in order."""
    segments = [
        "# Title\n\nFirst paragraph.\n\n",
        "- a list\n- of items\n\n",
        "```python\nprint('code')\n```\n\n",
        "> a quote\n\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
        "Closing words.\n\n",
    ]

    async def lines_of(build: Callable[[RenderedMarkdown], None]) -> list[str]:
        app = MessageLogApp()
        async with app.run_test(size=(80, 60)) as pilot:
            view = RenderedMarkdown()
            await app.query_one(MessageLog).mount(view)
            await pilot.pause()
            build(view)
            await pilot.pause()
            return [view.line_text(y) for y in range(view.size.height)]

    def in_order(view: RenderedMarkdown) -> None:
        view.extend(*segments)
        view.set_tail("tail text")

    def end_first(view: RenderedMarkdown) -> None:
        view.extend(segments[0], segments[4], segments[5])
        view.set_tail("tail text")
        view.insert(1, segments[1:3])  # the backlog's start, in two batches
        view.insert(3, segments[3:4])

    expected = await lines_of(in_order)
    assert any("print('code')" in line for line in expected)
    assert await lines_of(end_first) == expected


def test_short_runs_are_kept_laid_out_per_theme_and_long_ones_are_not() -> None:
    """Kept layouts stay alive after their reply goes: a few long code blocks would hold
    tens of megabytes (found by a review: 8 runs of 80 KB took 44 MB). And code is
    highlighted in the theme's colours, which the other styles do not carry."""
    look = plain_look(theme="textual-dark")
    short, long = "Some *words*.\n\n", "```\n" + "code line\n" * 2000 + "```\n"
    assert lay_out_kept(short, 60, look) is lay_out_kept(short, 60, look)
    assert lay_out_kept(short, 60, replace(look, theme="gruvbox")) is not lay_out_kept(
        short, 60, look
    )
    assert lay_out_kept(long, 60, look) is not lay_out_kept(long, 60, look)


FIRST_FRAME_PROBE = """
import asyncio, sys
from pathlib import Path
from textual.app import App
from tui.chat import Conversation
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.store import Store

path = Path(sys.argv[1])
store = Store.open(path)
conversation = Conversation(model="m")
store.save_conversation(conversation, None)
store.save_message(conversation, conversation.add_user_message("Some code?"))
reply = conversation.start_reply("m")
reply.content = "Here:\\n\\n```python\\ndef double(x):\\n    return x * 2\\n```\\n"
reply.status = MessageStatus.DONE
store.save_message(conversation, reply)
store.close()
for name in list(sys.modules):  # the app's start, not the setup's
    if name.startswith(("tui", "textual", "rich", "markdown_it", "pygments")):
        del sys.modules[name]

from textual.app import App
from tui.ui.app import ChatApp

loaded_at_first_frame = []
display = App._display

def first_frame(self, screen, renderable):
    display(self, screen, renderable)
    if not loaded_at_first_frame:
        shown = "\\n".join(strip.text for strip in screen._compositor.render_strips())
        watched = ("textual.widgets._markdown", "pygments", "openai")
        loaded_at_first_frame.append(
            ("return x * 2" in shown, [name for name in watched if name in sys.modules])
        )

App._display = first_frame

async def main():
    settings = Settings(model="m", base_url="http://127.0.0.1:9/v1", api_key="k", db_path=path)
    async with ChatApp(settings, continue_last=True).run_test(size=(80, 24)) as pilot:
        while not loaded_at_first_frame:
            await pilot.pause(0.01)

asyncio.run(main())
print(loaded_at_first_frame[0])
"""


def test_the_first_frame_waits_for_neither_a_highlighter_nor_the_client_library(
    tmp_path: Path,
) -> None:
    """Stored code is drawn plain in the first frame, so Textual's Markdown widget and
    Pygments (25 ms) load after it, as the client library (0.2-0.45 s) does."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_PROBE, str(tmp_path / "h.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(True, [])"


def test_laying_out_leaves_nothing_for_the_garbage_collector() -> None:
    """A parsed Markdown tree is a web of cycles (each node knows its parent): every
    layout left its tree, tokens and lists for a collection to find, 28,000 objects per
    minute of held Up. They are now freed as soon as the layout is done."""
    look = plain_look(highlight_unbuilt=False)
    lay_out(RICH_REPLY, 60, look)  # what a first layout loads (a highlighter) is not its
    gc.collect()
    gc.disable()
    try:
        laid_out = lay_out(RICH_REPLY, 60, look)
        left = gc.collect()
    finally:
        gc.enable()
    assert laid_out.lines
    assert left == 0

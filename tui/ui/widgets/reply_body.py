"""Renders a reply's Markdown while it streams, at a cost proportional to each delta.

Deltas are buffered and applied at most once per `FLUSH_INTERVAL` (every Textual frame
costs milliseconds, so fewer frames matter more than fewer parses). The reply is cut
into segments of a few top-level blocks (`BLOCKS_PER_SEGMENT`), all shown by one
`RenderedMarkdown`: a finished segment is laid out once, and a flush lays out only the
open one at the end, so the cost of a flush, and of a frame, stays flat however long the
reply grows. A stored reply is shown the same way, as one final flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.widgets import Static

from tui.chat.safe_text import make_safe
from tui.ui.frames import next_frame
from tui.ui.kept_lines import BlankBehindChildren
from tui.ui.segment_splitter import SegmentSplitter
from tui.ui.widgets.plain_lines import PlainLines
from tui.ui.widgets.rendered_markdown import RenderedMarkdown

FLUSH_INTERVAL = 0.3
"""How often a streaming reply's text is shown. A flush costs a frame and the open
segment's layout whatever it carries, so a slow stream's cost follows its flushes: at
100 tok/s, 0.2 s took 27.6% of a core where 0.15 s took 32%. 2,000 tokens at 100 tok/s
in the team's harness (`../shared/bench`), three alternating rounds: 0.74-0.78 CPU-s with
0.25 s (and two blocks a segment), 0.64-0.70 with 0.3 s (and one), `llm chat`
0.66-0.68. From about 1,000 tok/s up it was 0.3 s already (bigger steps at the same
pace); the end of a reply is shown at once whatever the interval (`finish`)."""
TYPING_HOLD = 0.08
LONGEST_TYPING_HOLD = 0.5
BLOCKS_PER_SEGMENT = 1
"""While a reply streams: the open segment is laid out again at every flush, and its
finished blocks with it, so it holds only the block being written (2,000 tok @ 100: 8%
less CPU with 2 than with 8; the open segment's layouts 0.13 -> 0.11 CPU-s with 1)."""
STORED_BLOCKS_PER_SEGMENT = 8
"""For a reply shown at once, and a backlog (`BACKLOG_CHARS`), where little is
laid out again: fewer, longer segments parse faster (history scrolled back mounts
replies all the time) and are fewer to lay out again after a resize."""
BACKLOG_CHARS = 24_000
"""A flush longer than this (a burst from a fast server, a 1 MB delta, a long stored
reply: ~85 ms of layout) shows a screenful of its end first and the rest above
it over the next frames (`_backfill`): laying out 100 KB at once held the event loop for
0.4 s."""
STREAMED_BACKLOG_CHARS = 8000
"""The same for a reply that streams in, where only a server pouring it out (some 5,000
tok/s and up) sends this much between flushes: its start waits until the pouring stops
(`BACKFILL_AFTER_BACKLOGS`), so a flush costs a screenful, not 30-100 ms for 18 KB held
back from the reading of the rest (8,000 tokens at full speed: 0.30 s after the server's
last byte, median of 7, against 0.22 s)."""
BACKFILL_CHARS_PER_FRAME = 8000
"""About 30 ms of layout a frame."""
BACKFILL_AFTER_BACKLOGS = 0.5
"""While a reply streams, a backlog's start waits until the reply ends or this long has
passed without another backlog: a server pouring a reply out makes one at every flush,
and laying out their starts meanwhile (all of it off screen) held back the reading of the
rest (8,000 tokens at full speed: 0.5 s after the server's last byte, median of 8; 0.22 s
with the starts laid out afterwards)."""
MARKDOWN_LIMIT = 500_000
"""Characters of a reply laid out as Markdown (about 2 s of layout in all); the rest, from
the next line break on, is shown as plain text by `PlainLines`. A 50 MB reply laid out
whole took minutes and a gigabyte; no real answer comes near this."""


class ReplyBody(BlankBehindChildren):
    """The Markdown body of one assistant reply, fed by `feed` and closed by `finish`."""

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self._initial_text = text
        self._pending: list[str] = []
        self._splitter = SegmentSplitter()
        self._tail = ""
        """The open segment's text so far."""
        self._markdown = RenderedMarkdown(defer_new_highlighters=bool(text))
        self._wake = asyncio.Event()
        self._finishing = False
        self._finish_requested = asyncio.Event()
        self._render_task: asyncio.Task[None] | None = None
        self._text_parts: list[str] = []
        self._blocks_in_segment = 0
        self._blocks_per_segment = STORED_BLOCKS_PER_SEGMENT if text else BLOCKS_PER_SEGMENT
        self._hold_until = 0.0
        self._holes: list[tuple[int, list[list[str]]]] = []
        """Backlogs' starts not laid out yet: where each goes (the segments before it) and
        its batches, a frame's worth each. Filled from the last, each from its end up."""
        self._backfilling: asyncio.Task[None] | None = None
        self._last_backlog_at = -BACKFILL_AFTER_BACKLOGS
        self._markdown_chars = 0
        self._plain: PlainLines | None = None
        """The text past `MARKDOWN_LIMIT`, once there is some."""
        self.deltas_fed = 0
        self.characters_fed = 0
        """How much text has come (deltas arrive merged, so their count is not), for
        benchmarks that watch a reply's progress."""
        self.on_flush: Callable[[], None] | None = None
        """Called after each flush while streaming: what else changes with the reply (the
        status line's figures) changes in the same frame, not in one of its own."""

    @property
    def rendered_text(self) -> str:
        """The (made-safe) Markdown handed to the widgets so far, for tests."""
        plain = self._plain.text if self._plain is not None else ""
        return "".join(self._text_parts) + plain

    def compose(self) -> ComposeResult:
        yield self._markdown

    def on_mount(self) -> None:
        if self._initial_text:
            self._show(make_safe(self._initial_text), final=True)

    def on_unmount(self) -> None:
        if self._backfilling is not None:
            self._backfilling.cancel()

    async def backfilled(self) -> None:
        """Waits until every backlog's start is rendered (for tests and screenshots)."""
        while (task := self._backfilling) is not None:
            await asyncio.wait({task})  # not `await task`: cancelled when unmounted
            if self._backfilling is task:  # cancelled before it ran its `finally`
                self._backfilling = None

    def feed(self, text: str) -> None:
        """Queues a delta; it shows on the next flush, never blocking the caller."""
        self._pending.append(make_safe(text))
        self.deltas_fed += 1
        self.characters_fed += len(text)
        if self._render_task is None:
            self._render_task = asyncio.create_task(self._render_loop())
        self._wake.set()

    async def finish(self) -> None:
        """Shows everything fed so far, at once, and stops the render loop.

        The last text is laid out here, in the caller's turn, not by the render loop a turn
        later: meanwhile a frame drew what the caller changed with it (the status line's
        "done") alone, and the frame with the reply's last words waited for the next tick."""
        self._finishing = True
        self._finish_requested.set()  # first: the loop must end even if the flush fails
        self._wake.set()
        self._flush()
        task = self._render_task
        if task is not None:
            await asyncio.shield(task)
        if self._tail:  # nothing was pending: the open segment ends as it is
            self._add_pieces([("", True)])

    def yield_to_typing(self) -> None:
        """The user just typed: hold the next flush back a moment, so the frame that shows
        their key is not queued behind a reply's layout (keypress latency while streaming
        at 1,000 tok/s was 60 ms median with flushes on their own schedule)."""
        self._hold_until = time.monotonic() + TYPING_HOLD

    async def _render_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            held_since = time.monotonic()
            while not self._finishing and time.monotonic() < self._hold_until:
                if time.monotonic() - held_since > LONGEST_TYPING_HOLD:
                    break  # a fast typist still sees the reply move
                await asyncio.sleep(self._hold_until - time.monotonic())
            self._flush()
            if self._finishing and not self._pending:
                return
            if not self._finishing:
                # Let deltas accumulate for a frame; `finish` cuts the wait short.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finish_requested.wait(), FLUSH_INTERVAL)

    def _flush(self) -> None:
        """Shows the pending deltas."""
        if not self._pending or not self.is_attached:
            self._pending.clear()
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._show(text, final=self._finishing)
        if self.on_flush is not None:
            self.on_flush()

    def _show(self, text: str, *, final: bool = False) -> None:
        """Adds `text`: as Markdown up to `MARKDOWN_LIMIT`, as plain text after it."""
        if self._plain is not None:
            self._plain.append(text)
            return
        room = max(0, MARKDOWN_LIMIT - self._markdown_chars)
        if len(text) > room:
            cut = text.find("\n", room) + 1  # after the line break; 0: none in sight
            hard_limit = 2 * MARKDOWN_LIMIT - self._markdown_chars
            if (not cut or cut > hard_limit) and len(text) > hard_limit:
                cut = max(0, hard_limit)  # no line break in sight: cut anyway
            if cut:
                self._text_parts.append(text[:cut])
                self._show_markdown(text[:cut], final=True)
                self._show_plain(text[cut:])
                return
        self._markdown_chars += len(text)
        self._text_parts.append(text)
        self._show_markdown(text, final=final)

    def _show_plain(self, text: str) -> None:
        notice = Static(
            f"─── longer than {MARKDOWN_LIMIT // 1000:,} KB: the rest is shown as plain text",
            classes="plain-notice",
            markup=False,
        )
        self._plain = PlainLines()
        self.mount(notice, self._plain)
        self._plain.append(text)

    def _show_markdown(self, text: str, *, final: bool = False) -> None:
        """Adds `text`. `final`: nothing follows, so the open segment is finished too.

        A backlog shows its end first: the segments before it are laid out afterwards, a
        frame's worth at a time, by `_backfill`, once the reply has stopped pouring in.
        Only the end is on screen, and laying out 100 KB at once held the event loop for
        0.4 s. Until then, text above joins the end directly (scrolled up, the gap shows)."""
        pieces = self._pieces(text, self._splitter.feed(text))
        if final and pieces:
            pieces[-1] = (pieces[-1][0], True)
        if len(text) > self._backlog_chars and len(pieces) > 2:
            end = self._first_of_a_screenful(pieces)
            if end > 1:
                self._add_pieces(pieces[:1])  # ends the open segment, if any
                if middle := [fragment for fragment, _ in pieces[1:end] if fragment]:
                    self._holes.append((self._markdown.segment_count, batched(middle)))
                if not self._finishing and not self._initial_text:  # it streams still
                    self._last_backlog_at = time.monotonic()
                if self._backfilling is None:
                    self._backfilling = asyncio.create_task(self._backfill())
                pieces = pieces[end:]
        self._add_pieces(pieces)

    @property
    def _backlog_chars(self) -> int:
        return BACKLOG_CHARS if self._initial_text else STREAMED_BACKLOG_CHARS

    def _first_of_a_screenful(self, pieces: list[tuple[str, bool]]) -> int:
        """The latest piece with at least a screen's height of source lines from it on."""
        lines_wanted = self.screen.size.height or 40
        lines = 0
        for index in range(len(pieces) - 1, -1, -1):
            lines += pieces[index][0].count("\n") + 1
            if lines >= lines_wanted:
                return index
        return 0

    async def _backfill(self) -> None:
        """Lays out the starts of backlogs, above their ends, a frame's worth at a time,
        once the reply has stopped pouring in (`BACKFILL_AFTER_BACKLOGS`). The last
        backlog's first, from its end up, nearest what is on screen: a batch put in at a
        backlog's place moves only what is below it, so no other place changes."""
        try:
            while self._holes:
                while (
                    not self._finishing
                    and (wait := self._last_backlog_at + BACKFILL_AFTER_BACKLOGS - time.monotonic())
                    > 0
                ):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._finish_requested.wait(), wait)
                await next_frame(self)  # the end of the backlog first
                if not self.is_attached:
                    return
                at, batches = self._holes[-1]
                batch = batches.pop()
                if not batches:
                    self._holes.pop()
                self._markdown.insert(at, batch)
        finally:
            self._backfilling = None

    def _pieces(self, text: str, offsets: list[int]) -> list[tuple[str, bool]]:
        """Cuts `text` where segments end: (fragment, whether the segment closes after it).
        `offsets` are the block starts the splitter found; those beyond `text` are ignored."""
        per_segment = self._blocks_per_segment
        if len(text) > self._backlog_chars:  # a burst: its segments are mostly finished at once
            per_segment = STORED_BLOCKS_PER_SEGMENT
        pieces, self._blocks_in_segment = cut(text, offsets, per_segment, self._blocks_in_segment)
        return pieces

    def _add_pieces(self, pieces: list[tuple[str, bool]]) -> None:
        finished: list[str] = []
        for fragment, closes_segment in pieces:
            self._tail += fragment
            if closes_segment:
                finished.append(self._tail)
                self._tail = ""
        if finished:
            self._markdown.extend(*finished)
        self._markdown.set_tail(self._tail)


def batched(segments: list[str]) -> list[list[str]]:
    """`segments` in runs of about `BACKFILL_CHARS_PER_FRAME` characters."""
    batches: list[list[str]] = [[]]
    size = 0
    for segment in segments:
        if batches[-1] and size + len(segment) > BACKFILL_CHARS_PER_FRAME:
            batches.append([])
            size = 0
        batches[-1].append(segment)
        size += len(segment)
    return batches if batches[0] else []


def cut(
    text: str, offsets: list[int], per_segment: int, blocks_in_segment: int
) -> tuple[list[tuple[str, bool]], int]:
    """`text` cut where segments end, as (fragment, whether the segment closes after it),
    and the blocks then in the open segment; `offsets` are the block starts a
    `SegmentSplitter` found, `blocks_in_segment` those already in the open segment."""
    pieces: list[tuple[str, bool]] = []
    start = 0
    for offset in offsets:
        if offset >= len(text):
            break
        blocks_in_segment += 1
        if blocks_in_segment >= per_segment:
            blocks_in_segment = 0
            pieces.append((text[start:offset], True))
            start = offset
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces, blocks_in_segment


def stored_segments(content: str) -> list[str] | None:
    """The segments a stored reply of `content` is shown in (`ReplyBody(content)`), for
    laying them out ahead; None for one shown another way (a backlog's start comes in
    batches; past `MARKDOWN_LIMIT`, plain text)."""
    text = make_safe(content)
    if len(text) > BACKLOG_CHARS:
        return None
    pieces, _ = cut(text, SegmentSplitter().feed(text), STORED_BLOCKS_PER_SEGMENT, 0)
    segments, open_segment = [], ""
    for fragment, closes in pieces:
        open_segment += fragment
        if closes:
            segments.append(open_segment)
            open_segment = ""
    return [*segments, open_segment] if open_segment else segments

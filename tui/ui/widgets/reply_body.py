"""Renders a reply's Markdown while it streams, at a cost proportional to each delta.

Deltas are buffered and applied at most once per `FLUSH_INTERVAL` (every Textual frame
costs tens of milliseconds, so fewer frames matter more than fewer parses; measured in a real
terminal at 100 tok/s, 0.2 s takes 27.6% of a core where 0.15 s took 32%, and at
1,000 tok/s 5.8 CPU-s instead of 6.3 for the same lag), with exactly
one `Markdown.append` in flight at a time (two at once corrupt the widget tree). The reply
is split into segments of at most `BLOCKS_PER_SEGMENT` top-level blocks so that an append
only re-lays-out the last segment, and each closed segment is frozen into its rendered lines
(see `FrozenSegment`) so the widget count, and the cost of a frame, stay flat however long
the reply grows. Each flush is one batch, so it costs one frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from textual import on
from textual._compositor import Compositor
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Markdown

from tui.chat.safe_text import make_safe
from tui.ui.frames import next_frame
from tui.ui.segment_splitter import SegmentSplitter
from tui.ui.widgets.frozen_segment import FrozenSegment
from tui.ui.widgets.stored_markdown import StoredMarkdown

FLUSH_INTERVAL = 0.2
FAST_STREAM_CHARS = 600
FAST_FLUSH_INTERVAL = 0.3
"""A flush of more than `FAST_STREAM_CHARS` (about 1,000 tok/s and up) waits longer for
the next: the text moves in bigger steps at the same pace, with fewer frames."""
TYPING_HOLD = 0.08
LONGEST_TYPING_HOLD = 0.5
BLOCKS_PER_SEGMENT = 8
STORED_CHARS_AT_ONCE = 24_000
STORED_CHARS_PER_FRAME = 8000
"""About 30 ms of `render_markdown`: how much of a long stored reply's start is laid out
per frame, after its end is on screen."""
MAX_LAYOUT_RETRIES = 20
"""A segment that never gets a width (its screen is not shown) is not retried after every
refresh forever: that spun the event loop at 100% of a core."""
BACKLOG_BLOCKS = 4 * BLOCKS_PER_SEGMENT
"""A flush with more blocks than this (a burst, a 1 MB delta, a long stored reply) shows a
screenful of its end first and renders the rest above it afterwards (`_backfill`)."""
BACKFILL_SEGMENTS_PER_FRAME = 2
"""The backfill freezes as it goes: every frame lays out all live widgets, so letting them
pile up makes a backlog quadratic (1,000 paragraphs took over 60 s)."""


class ReplySegment(Markdown):
    """One run of consecutive top-level blocks of a reply."""


class ReplyBody(Widget):
    """The Markdown body of one assistant reply, fed by `feed` and closed by `finish`."""

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self._initial_text = text
        self._pending: list[str] = []
        self._splitter = SegmentSplitter()
        self._segment: ReplySegment | None = None
        self._wake = asyncio.Event()
        self._finishing = False
        self._finish_requested = asyncio.Event()
        self._render_task: asyncio.Task[None] | None = None
        self._text_parts: list[str] = []
        self._closed_segments: list[ReplySegment] = []
        self._blocks_in_segment = 0
        self._unlaid_retries = 0
        self._hold_until = 0.0
        self._freezing = asyncio.Lock()
        """Freezing and backfilling both move widgets around their neighbours."""
        self._backfills: list[asyncio.Task[None]] = []
        self.deltas_fed = 0

    @property
    def rendered_text(self) -> str:
        """The (made-safe) Markdown handed to the widgets so far, for tests and copying."""
        return "".join(self._text_parts)

    async def on_mount(self) -> None:
        if self._initial_text:
            await self._show_stored(make_safe(self._initial_text))

    async def _show_stored(self, text: str) -> None:
        """A finished reply needs no live Markdown: each segment is one `StoredMarkdown`
        (milliseconds, where Markdown widgets took 150-250 ms a reply). Segments are cut
        where a streamed reply's are, so both look alike to the line. A very long reply
        shows its last screenful first and the rest above it over the next frames: laying
        out 100 KB at once held the event loop for 0.4 s."""
        self._text_parts.append(text)
        offsets = self._splitter.feed(text)
        pieces = [fragment for fragment, _ in self._pieces(text, offsets)]
        first_shown = 0
        if len(text) > STORED_CHARS_AT_ONCE:
            lines_wanted = self.screen.size.height or 40
            first_shown, lines = len(pieces), 0
            while first_shown > 0 and lines < lines_wanted:
                first_shown -= 1
                lines += pieces[first_shown].count("\n") + 1
        with self.app.batch_update():
            if first_shown:
                mark = Widget(classes="backfill-mark")
                await self.mount(mark)
                earlier = pieces[:first_shown]
                self._backfills.append(asyncio.create_task(self._show_earlier(earlier, mark)))
            await self.mount_all([StoredMarkdown(piece) for piece in pieces[first_shown:]])

    async def _show_earlier(self, pieces: list[str], mark: Widget) -> None:
        """Mounts the start of a long stored reply above `mark`, a frame's worth at a time."""
        batches: list[list[str]] = [[]]
        for piece in pieces:
            if batches[-1] and sum(map(len, batches[-1])) + len(piece) > STORED_CHARS_PER_FRAME:
                batches.append([])
            batches[-1].append(piece)
        for batch in batches:
            await next_frame(self)
            if not self.is_attached:
                return
            await self.mount_all([StoredMarkdown(source) for source in batch], before=mark)
        await mark.remove()

    def on_unmount(self) -> None:
        for task in self._backfills:
            task.cancel()

    async def backfilled(self) -> None:
        """Waits until every backlog's middle is rendered (for tests and screenshots)."""
        while self._backfills:
            await self._backfills.pop()

    def feed(self, text: str) -> None:
        """Queues a delta; it shows on the next flush, never blocking the caller."""
        self._pending.append(make_safe(text))
        self.deltas_fed += 1
        if self._render_task is None:
            self._render_task = asyncio.create_task(self._render_loop())
        self._wake.set()

    async def finish(self) -> None:
        """Shows everything fed so far, at once, and stops the render loop."""
        self._finishing = True
        self._finish_requested.set()
        self._wake.set()
        task = self._render_task
        if task is not None:
            await asyncio.shield(task)
        elif self._pending:
            await self._flush()
        if self._closed_segments:
            self.call_after_refresh(self._freeze_closed_segments)

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
            flushed = await self._flush()
            if self._finishing and not self._pending:
                return
            if not self._finishing:
                # Let deltas accumulate for a frame; `finish` cuts the wait short.
                interval = FLUSH_INTERVAL if flushed < FAST_STREAM_CHARS else FAST_FLUSH_INTERVAL
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finish_requested.wait(), interval)

    async def _flush(self) -> int:
        """Shows the pending deltas; returns how many characters that was."""
        if not self._pending or not self.is_attached:
            self._pending.clear()
            return 0
        text = "".join(self._pending)
        self._pending.clear()
        # The last flush goes straight to the screen; `finish` freezes after that frame.
        await self._show(text, freeze_first=not self._finishing)
        return len(text)

    async def _show(self, text: str, *, freeze_first: bool = False) -> None:
        """Adds `text` to the widgets in one batch, so a flush costs one frame: freezing,
        updating the last block and mounting new ones each asked for a layout of their own
        (three or four frames a flush at ~30 ms each; one batch took the CPU of 8,000
        tokens at 1,000 tok/s from 6.2 s to 4.8 s).

        A backlog (a burst from a fast server, a huge delta, a long stored reply) shows its
        end first: the segments between are rendered afterwards, above it, by `_backfill`,
        a few per frame. Only the end is on screen, and rendering 37 KB of Markdown in
        order took 2.3 s before the last line showed."""
        self._text_parts.append(text)
        offsets = self._splitter.feed(text)
        with self.app.batch_update():
            if freeze_first:
                # Segments closed by an earlier flush have been laid out since.
                await self._freeze_closed_segments()
            if len(offsets) > BACKLOG_BLOCKS:
                end_start = self._start_of_a_screenful(text, offsets)
                later = [fragment for fragment, _ in self._pieces(text[:end_start], offsets)]
                self._blocks_in_segment = 0
                continuing, self._segment = self._segment, None
                mark = Widget(classes="backfill-mark")
                await self.mount(mark)
                self._backfills.append(asyncio.create_task(self._backfill(continuing, later, mark)))
                end_offsets = [offset - end_start for offset in offsets if offset > end_start]
                await self._add_pieces(self._pieces(text[end_start:], end_offsets))
            else:
                await self._add_pieces(self._pieces(text, offsets))

    def _start_of_a_screenful(self, text: str, offsets: list[int]) -> int:
        """The latest block start with at least a screen's height of lines after it."""
        lines_wanted = self.screen.size.height or 40
        for offset in reversed(offsets):
            if text.count("\n", offset) >= lines_wanted:
                return offset
        return offsets[0]

    async def _backfill(
        self, continuing: ReplySegment | None, segments: list[str], mark: Widget
    ) -> None:
        """Renders the middle of a backlog above `mark`, frozen a few segments at a time;
        the first part ends `continuing`, the segment that was live when it arrived."""
        await next_frame(self)  # the end of the backlog first
        for start in range(0, len(segments), BACKFILL_SEGMENTS_PER_FRAME):
            if not self.is_attached:
                return
            async with self._freezing:
                with self.app.batch_update():
                    for source in segments[start : start + BACKFILL_SEGMENTS_PER_FRAME]:
                        if continuing is not None:
                            segment, continuing = continuing, None
                            await segment.append(source)
                        else:
                            segment = ReplySegment(source)
                            await self.mount(segment, before=mark)
                        self._closed_segments.append(segment)
            await self._freeze_after_layout()
        if continuing is not None:  # the backlog began with a new block: nothing to add
            self._closed_segments.append(continuing)
            await self._freeze_closed_segments()
        async with self._freezing:
            with self.app.batch_update():
                await mark.remove()
                await self._join_frozen_neighbours()

    def _pieces(self, text: str, offsets: list[int]) -> list[tuple[str, bool]]:
        """Cuts `text` where segments end: (fragment, whether the segment closes after it).
        `offsets` are the block starts the splitter found; those beyond `text` are ignored."""
        pieces: list[tuple[str, bool]] = []
        start = 0
        for offset in offsets:
            if offset >= len(text):
                break
            self._blocks_in_segment += 1
            if self._blocks_in_segment >= BLOCKS_PER_SEGMENT:
                self._blocks_in_segment = 0
                pieces.append((text[start:offset], True))
                start = offset
        if start < len(text):
            pieces.append((text[start:], False))
        return pieces

    async def _add_pieces(self, pieces: list[tuple[str, bool]]) -> None:
        for fragment, closes_segment in pieces:
            if fragment:
                await self._append_to_segment(fragment)
            if closes_segment:
                if self._segment is not None:
                    self._closed_segments.append(self._segment)
                self._segment = None

    async def _append_to_segment(self, text: str) -> None:
        if self._segment is None:
            self._segment = ReplySegment()
            await self.mount(self._segment)
        await self._segment.append(text)

    async def _freeze_after_layout(self) -> None:
        """Waits for the next frame (freezing needs laid-out widgets), then freezes."""
        await next_frame(self)
        await self._freeze_closed_segments()

    async def _freeze_closed_segments(self) -> None:
        async with self._freezing:
            await self._freeze_closed_segments_now()

    async def _freeze_closed_segments_now(self) -> None:
        closed, self._closed_segments = self._closed_segments, []
        mounted_new = False
        for segment in closed:
            width = segment.outer_size.width
            if not segment.is_attached:
                continue
            if not width:  # not laid out yet: try again after the next refresh
                self._closed_segments.append(segment)
                self._unlaid_retries += 1
                if self._unlaid_retries <= MAX_LAYOUT_RETRIES:
                    self.call_after_refresh(self._freeze_closed_segments)
                # else: hidden or off-screen for now; the next flush or finish tries again
                continue
            self._unlaid_retries = 0
            height = segment.get_content_height(self.size, self.screen.size, width)
            compositor = Compositor()
            compositor.reflow(segment, Size(width, height))
            lines = [strip.discard_meta() for strip in compositor.render_strips()]
            previous = self._frozen_before(segment)
            with self.app.batch_update():
                if previous is not None and previous.width_frozen == width:
                    previous.extend(segment.source, lines)
                else:
                    await self.mount(FrozenSegment(segment.source, lines, width), before=segment)
                    mounted_new = True
                await segment.remove()
        if mounted_new:  # a thawed or backfilled segment may sit before frozen text
            await self._join_frozen_neighbours()

    async def _join_frozen_neighbours(self) -> None:
        """Merges runs of frozen segments of one width (a backfill leaves a seam)."""
        previous: FrozenSegment | None = None
        absorbed: list[Widget] = []
        for child in self.children:
            if not isinstance(child, FrozenSegment):
                previous = None
            elif previous is not None and previous.width_frozen == child.width_frozen:
                previous.absorb(child)
                absorbed.append(child)
            else:
                previous = child
        await self.remove_children(absorbed)

    def _frozen_before(self, segment: Widget) -> FrozenSegment | None:
        children = list(self.children)
        index = children.index(segment)
        if index > 0 and isinstance(children[index - 1], FrozenSegment):
            return children[index - 1]
        return None

    @on(FrozenSegment.WidthChanged)
    async def _thaw(self, event: FrozenSegment.WidthChanged) -> None:
        """A frozen segment no longer fits the width: render it live again, then refreeze."""
        event.stop()
        frozen = event.segment
        if not frozen.is_attached:
            return
        live = ReplySegment(frozen.source)
        with self.app.batch_update():
            await self.mount(live, before=frozen)
            await frozen.remove()
        self._closed_segments.append(live)
        self.call_after_refresh(self._freeze_closed_segments)

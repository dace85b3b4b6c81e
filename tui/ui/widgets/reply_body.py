"""Renders a reply's Markdown while it streams, at a cost proportional to each delta.

Deltas are buffered and applied at most once per `FLUSH_INTERVAL` (every Textual frame
costs tens of milliseconds, so fewer frames matter more than fewer parses), with exactly
one `Markdown.append` in flight at a time (two at once corrupt the widget tree). The reply
is split into segments of at most `BLOCKS_PER_SEGMENT` top-level blocks so that an append
only re-lays-out the last segment, however long the reply grows.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual.widget import Widget
from textual.widgets import Markdown

from tui.chat.safe_text import make_safe
from tui.ui.segment_splitter import SegmentSplitter

FLUSH_INTERVAL = 1 / 12
BLOCKS_PER_SEGMENT = 16


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

    @property
    def rendered_text(self) -> str:
        """The (made-safe) Markdown handed to the widgets so far, for tests and copying."""
        return "".join(self._text_parts)

    async def on_mount(self) -> None:
        if self._initial_text:
            await self._append(make_safe(self._initial_text))

    def feed(self, text: str) -> None:
        """Queues a delta; it shows on the next flush, never blocking the caller."""
        self._pending.append(make_safe(text))
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

    async def _render_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()
            if self._finishing and not self._pending:
                return
            if not self._finishing:
                # Let deltas accumulate for a frame; `finish` cuts the wait short.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finish_requested.wait(), FLUSH_INTERVAL)

    async def _flush(self) -> None:
        if not self._pending or not self.is_attached:
            self._pending.clear()
            return
        text = "".join(self._pending)
        self._pending.clear()
        await self._append(text)

    async def _append(self, text: str) -> None:
        self._text_parts.append(text)
        offsets = self._splitter.feed(text)
        start = 0
        for offset in offsets:
            if self._segment is not None and len(self._segment.children) >= BLOCKS_PER_SEGMENT:
                if offset > start:
                    await self._segment.append(text[start:offset])
                self._segment = None
                start = offset
        remainder = text[start:]
        if not remainder:
            return
        if self._segment is None:
            self._segment = ReplySegment()
            await self.mount(self._segment)
        await self._segment.append(remainder)

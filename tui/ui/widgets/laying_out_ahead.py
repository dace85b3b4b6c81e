"""The replies a conversation log will mount next, laid out while the user reads: the
frame that mounted a batch of turns and laid out their replies itself held the event loop
60-90 ms; laid out ahead, one reply per turn of the loop, it takes their lines as kept.

A part of `ConversationLog` kept in its own file (a mixin), as `tui.ui.conversation_actions`
is of the chat screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual.widget import Widget
from textual.worker import WorkType

from tui.chat.message import Message, Role
from tui.ui.markdown_kept import KEPT_RUN_CHARS, Run, laying_out_kept
from tui.ui.markdown_references import SharedReferences
from tui.ui.widgets.rendered_markdown import RenderedMarkdown
from tui.ui.widgets.reply_body import stored_segments

# For mypy the mixin is the widget it is mixed into (its `query`, `run_worker`); at run
# time it is a plain class, so it hides none of the widget's own members.
if TYPE_CHECKING:
    _MixedInto = Widget
else:
    _MixedInto = object

SCROLL_BATCH = 4
"""Turns mounted (and unmounted at the other end) per step while scrolling: each costs
layout and styling, so small steps keep every stall short."""


class LayingOutAhead(_MixedInto):
    """Needs from the log: where its window is on the path, and the path."""

    first_shown: int
    end_shown: int | None

    @property
    def messages(self) -> list[Message]:
        raise NotImplementedError

    def _lay_out_ahead(self, *, below: bool = False) -> None:
        """Lays out the replies the next scroll to the top (or, `below`, to the bottom)
        will mount, while the user reads: the frame that mounts them then takes their
        lines as they are (laying out a batch's replies in that frame held the event loop
        60-90 ms). One direction at a time: the kept layouts hold about one batch."""
        if self._next_batch(below):
            # A function, not a coroutine: one replaced before it starts (`exclusive`)
            # would never be awaited, and Python says so.
            work: WorkType[None] = partial(self._laying_out_ahead, below)
            self.run_worker(work, name="_laying_out_ahead", group="ahead", exclusive=True)

    def _next_batch(self, below: bool) -> list[Message]:
        """The messages the next scroll to the top (or, `below`, the bottom) will mount;
        none when the window already reaches that end."""
        if below:
            end = self.end_shown
            return [] if end is None else self.messages[end : end + SCROLL_BATCH]
        return self.messages[max(0, self.first_shown - SCROLL_BATCH) : self.first_shown]

    def runs_of(self, messages: Sequence[Message]) -> list[Run] | None:
        """The runs the replies among `messages` are laid out in when shown at once, as
        stored (a reply that streamed in was cut a block at a time), at the width and in
        the look replies have now; None if no reply is laid out to tell them."""
        replies = [m for m in messages if m.role is Role.ASSISTANT and m.is_final]
        shown = next((m.laid_out_at for m in self.query(RenderedMarkdown) if m.laid_out_at), None)
        if not replies or shown is None:
            return None if replies else []
        width, look = shown
        runs: list[Run] = []
        for message in replies:
            segments = stored_segments(message.content) or []
            references = SharedReferences()  # as the reply's `RenderedMarkdown` has them
            references.insert(0, segments)
            runs += [
                (segment, width, look, references.for_segment(index))
                for index, segment in enumerate(segments)
            ]
        return runs

    async def _laying_out_ahead(self, below: bool) -> None:
        runs = self.runs_of(self._next_batch(below))
        if not runs:
            return
        # One look for all, as stored ones have it: code not highlighted yet, drawn plain.
        look = replace(runs[0][2], highlight_unbuilt=False)
        for segment, width, _, used in runs:
            if len(segment) > KEPT_RUN_CHARS:
                continue  # not kept: it would be laid out again when mounted
            steps = laying_out_kept(segment, width, look, used)
            try:  # a key or a frame goes first, and between steps
                await asyncio.sleep(0)
                for _ in steps:
                    await asyncio.sleep(0)
            finally:  # (a worker replaced half-way lets its parse tree go now)
                steps.close()

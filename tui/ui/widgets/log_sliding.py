"""The conversation log's window sliding as the user scrolls: a batch of turns mounted
at the end scrolled towards, and those far out of view at the other end unmounted, the
user's reading place kept. A part of `ConversationLog` kept in its own file (a mixin), as
`tui.ui.widgets.laying_out_ahead` is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from textual.widget import Widget

from tui.chat.message import Message, MessageStatus
from tui.ui.widgets.laying_out_ahead import SCROLL_BATCH
from tui.ui.widgets.message_log import MessageLog

MOST_MOUNTED_MESSAGES = 24
"""Beyond this many mounted turns, those farthest from where the user reads are unmounted."""

# For mypy the mixin is the log it is mixed into; at run time it is a plain class, so it
# hides none of the log's own members (nor `LayingOutAhead`'s, after it in the bases).
if TYPE_CHECKING:
    _MixedInto = MessageLog
else:
    _MixedInto = object


class SlidingWindow(_MixedInto):
    """Needs from the log: where its window is on the path, the path, and the members
    declared below (for mypy only)."""

    first_shown: int
    end_shown: int | None
    unread: int
    unread_later: bool
    _wanted_unread: Literal["", "earlier", "later"]
    _changing: asyncio.Lock

    if TYPE_CHECKING:

        @property
        def messages(self) -> list[Message]: ...

        def _views(self, messages: Sequence[Message]) -> list[Widget]: ...

        def _index_of(self, view: Widget) -> int | None: ...

        async def _tell_what_is_earlier(self) -> None: ...

        def _lay_out_ahead(self, *, below: bool = False) -> None: ...

    async def reached_top(self) -> None:
        """The user scrolled to the top (handled by the screen, as `ReachedTop` bubbles)."""
        # By now the log may have moved on: a rebuild (sending from far back) empties it,
        # which scrolls it to the top for a moment, and then follows the new end.
        if self.max_scroll_y > 0 and self.scroll_y <= 0:
            async with self._changing:
                await self._show_earlier(keep_reading_position=True)

    async def _show_earlier(self, *, keep_reading_position: bool) -> None:
        """Prepends a batch of earlier turns; past `MOST_MOUNTED_MESSAGES`, the turns at the
        bottom (far out of view) are unmounted. The user reading at the top keeps their
        place; a log being filled (too short to scroll) keeps following its end."""
        if not self.first_shown:
            if self.unread:
                self._wanted_unread = "earlier"
            return
        start = max(0, self.first_shown - SCROLL_BATCH)
        views = self._views(self.messages[start : self.first_shown])
        self.first_shown = start
        scroll_before = self.scroll_y
        first_view = next(iter(self.query_children(".message")), None)
        reading_at = first_view.virtual_region.y if first_view is not None else 0
        await self.mount_all(views, before=first_view)
        mounted = list(self.query(".message"))
        doomed = mounted[MOST_MOUNTED_MESSAGES:]
        end = self._index_of(doomed[0]) if doomed else None
        if end is not None and not any(_streaming(view) for view in doomed):
            # (A reply still streaming keeps the end mounted: its view is being fed.)
            self.anchor(False)  # the end is no longer mounted: nothing to follow
            self.end_shown = end
            await self.drop(doomed)
        await self._tell_what_is_earlier()

        def stay_at_the_same_turn(tries: int = 5) -> None:
            if first_view is None or not first_view.is_attached:
                return
            moved = first_view.virtual_region.y - reading_at
            if moved <= 0 and tries:  # the turns above are not laid out yet
                self.screen.call_after_refresh(stay_at_the_same_turn, tries - 1)
                return
            self.scroll_to(y=scroll_before + moved, animate=False)

        if keep_reading_position:
            self.screen.call_after_refresh(stay_at_the_same_turn)
        self._lay_out_ahead()

    async def show_more(self, *, earlier: bool, keep_reading_position: bool = True) -> None:
        """A batch of the turns above (or below) those mounted, wherever the log is
        scrolled: for keys that step past the mounted turns, and to fill a short log."""
        async with self._changing:
            if earlier:
                await self._show_earlier(keep_reading_position=keep_reading_position)
            else:
                await self._show_later(anywhere=True)

    async def reached_bottom(self) -> None:
        """The mirror of `_show_earlier`, once the user scrolls back down."""
        async with self._changing:
            await self._show_later()

    async def _show_later(self, *, anywhere: bool = False) -> None:
        end = self.end_shown
        if end is None or (self.scroll_y < self.max_scroll_y and not anywhere):
            return
        messages = self.messages
        if end >= len(messages):  # (the end of a part, the rest not read yet)
            self._wanted_unread = "later"
            return
        stop = min(len(messages), end + SCROLL_BATCH)
        await self.mount_all(self._views(messages[end:stop]))
        self.end_shown = None if stop >= len(messages) and not self.unread_later else stop
        mounted = list(self.query(".message"))
        doomed = mounted[: max(0, len(mounted) - MOST_MOUNTED_MESSAGES)]
        last_doomed = self._index_of(doomed[-1]) if doomed else None
        if last_doomed is not None:
            kept = mounted[len(doomed)]
            reading_at = kept.virtual_region.y
            scroll_before = self.scroll_y
            self.first_shown = last_doomed + 1
            await self.drop(doomed)
            await self._tell_what_is_earlier()

            def keep_reading_position() -> None:
                if not kept.is_attached:  # the log was rebuilt meanwhile (End, a send)
                    return
                moved = reading_at - kept.virtual_region.y
                self.scroll_to(y=max(0, scroll_before - moved), animate=False)

            self.screen.call_after_refresh(keep_reading_position)
        if self.end_shown is None:
            self.anchor()
        self._lay_out_ahead(below=True)


def _streaming(view: Widget) -> bool:
    message = getattr(view, "message", None)
    return message is not None and message.status is MessageStatus.STREAMING

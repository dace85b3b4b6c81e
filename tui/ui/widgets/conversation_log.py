"""The log of one conversation's path, showing a bounded window of it.

A long conversation is never mounted whole: every frame lays out every mounted widget,
and a 2,000-message history grew to 800 MB. The log shows about a screenful around where
the user reads, adds turns a batch at a time as they scroll towards either end, and
unmounts those far out of view. The path itself belongs to the session; this only views it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import Literal

from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widget import Widget

from tui.chat.conversation import Conversation
from tui.chat.message import Message
from tui.ui.frames import next_frame
from tui.ui.log_window import end_of_a_screenful, first_of_a_screenful
from tui.ui.markdown_kept import Run
from tui.ui.widgets.laying_out_ahead import LayingOutAhead
from tui.ui.widgets.log_sliding import SlidingWindow
from tui.ui.widgets.message_log import MessageLog
from tui.ui.widgets.message_views import (
    NoticeView,
    branch_label,
    message_view,
)

RESUMED_MESSAGES_SHOWN = 12
"""Most messages mounted when a log opens (at its end, or from far back)."""
TURN_ABOVE_FOCUS = 2
"""Messages shown above one opened from far back (a search hit, Home)."""


class ConversationLog(SlidingWindow, LayingOutAhead, MessageLog):
    class Filled(TextualMessage):
        """The first screenful is on screen: work that would delay it can start."""

    def __init__(
        self,
        conversation: Conversation,
        *notices: Widget,
        unread: int = 0,
        id: str | None = None,
    ):
        self.conversation = conversation
        self.first_shown = 0
        """Index of the earliest message mounted; earlier ones load on demand."""
        self.unread = unread
        """Messages on the path before the conversation's first, not read yet (a part of
        a long path is shown first: `rest_read`)."""
        self.unread_later = False
        """Whether messages after the conversation's last on the path are not read yet."""
        self._opened_at: Widget | None = None
        """The view of the message the log was last shown at (a search hit), if any."""
        self._fill_from: Widget | None = None
        """The view a fill started from waits for the rest below it (`fill`)."""
        self._wanted_unread: Literal["", "earlier", "later"] = ""
        """The user scrolled past a part's end (top or bottom) before the rest came."""
        self.shown_whole = asyncio.Event()
        """Set while the log shows a whole conversation, not a part of its path: what
        needs its true ends (Home, End) waits for it."""
        if not unread:
            self.shown_whole.set()
        self.end_shown: int | None = None
        """Index of the first message unmounted at the bottom, or None: the end is shown."""
        self._notices = notices
        self._tallest = 0
        """The terminal's most rows seen: how many lines a launch fills first, as
        `window_views` counts them. The most, since a terminal that hangs up reports 24
        rows as it goes (and a few turns more than needed cost nothing)."""
        self._changing = asyncio.Lock()
        """Held while views are mounted or removed: a scroll and a session event must not
        rebuild the window at the same time."""
        super().__init__(id=id)

    def compose(self) -> ComposeResult:
        # The first screenful is part of the first frame, not mounted after it.
        yield from self._notices
        yield from self.window_views()

    @property
    def messages(self) -> list[Message]:
        return self.conversation.messages

    def window_views(self, focus: Message | None = None) -> list[Widget]:
        """The views of the turns to show first (and a note of how many are earlier): the
        end of the path, or from `focus` on."""
        messages = self.messages
        if not messages:
            self.first_shown, self.end_shown = 0, None
            return []
        lines_wanted = self.size.height or self.app.size.height or 40
        first = first_of_a_screenful(messages, lines_wanted, RESUMED_MESSAGES_SHOWN)
        last = len(messages)
        if focus is not None and focus in messages:
            at = messages.index(focus)
            # A turn above it too: scrolled to the focus, the log is not at its top, so
            # scrolling up from there reaches the top and loads earlier turns.
            first = min(first, max(0, at - TURN_ABOVE_FOCUS))
            # From a message far back (Home, a search hit), a screenful: `fill` adds more.
            last = end_of_a_screenful(messages, at, lines_wanted, RESUMED_MESSAGES_SHOWN)
        self.first_shown = first
        self.end_shown = None if last == len(messages) and not self.unread_later else last
        return [*self._earlier_notice(), *self._views(messages[first:last])]

    def runs_at_end(self) -> list[Run] | None:
        """The runs of the replies a launch would show first (`window_views`), at the
        width and in the look replies have now: what `tui.ui.kept_layouts` keeps for it.
        None when that is not known (no reply laid out, the end not read)."""
        messages = self.messages
        if self.unread_later:
            return None
        self._tallest = max(self._tallest, self.app.size.height)
        first = first_of_a_screenful(messages, self._tallest or 40, RESUMED_MESSAGES_SHOWN)
        return self.runs_of(messages[first:])

    def on_resize(self) -> None:
        self._tallest = max(self._tallest, self.app.size.height)

    def _views(self, messages: Sequence[Message]) -> list[Widget]:
        return [message_view(self.conversation, message) for message in messages]

    @property
    def earlier(self) -> int:
        """Messages on the path above the first one mounted, read or not."""
        return self.first_shown + self.unread

    def _earlier_notice(self) -> list[Widget]:
        if not self.earlier:
            return []
        return [NoticeView(self._earlier_text(), classes="earlier")]

    def _earlier_text(self) -> str:
        return f"↑ {self.earlier} earlier messages: scroll to the top to show more"

    async def _tell_what_is_earlier(self) -> None:
        """The note above the messages, told how many are earlier now (made or dropped as
        needed): one widget while the window slides, not another per batch, each of which
        was garbage for a full collection to walk once the next batch came."""
        note = next(iter(self.query_children(NoticeView).filter(".earlier")), None)
        if not self.earlier:
            if note is not None:
                await self.drop([note])
        elif note is None:  # below the notices the log opened with, as `compose` puts it
            first_message = next(iter(self.query_children(".message")), None)
            await self.mount_all(self._earlier_notice(), before=first_message)
        else:
            note.update(Content(self._earlier_text()))

    # Showing another part of the path ---------------------------------------------------

    async def show(
        self,
        conversation: Conversation,
        focus: Message | None = None,
        *,
        select: Message | None = None,
        unread: int = 0,
        unread_later: bool = False,
    ) -> None:
        """Shows `conversation` afresh, at its end or at `focus` (scrolled to the top), with
        `select`'s view focused as soon as it is mounted; a part of a long path, with
        `unread` messages before it and more after it if `unread_later`."""
        async with self._changing:
            self.unread, self.unread_later, self._wanted_unread = unread, unread_later, ""
            self._fill_from = None
            if unread or unread_later:
                self.shown_whole.clear()
            else:
                self.shown_whole.set()
            await self._show(conversation, focus, select=select)

    async def _show(
        self,
        conversation: Conversation,
        focus: Message | None = None,
        *,
        select: Message | None = None,
    ) -> None:
        self.conversation = conversation
        # At the top before the old views go, without telling anyone: the drop to 0 that
        # emptying the log causes is not the user reaching the top (it loaded earlier
        # turns above a search hit, and the hit ended up screens below).
        self.set_reactive(MessageLog.scroll_y, 0)
        self.set_reactive(MessageLog.scroll_target_y, 0)
        await self.drop(list(self.query(".message, .earlier")))
        views = self.window_views(focus)
        self.anchor(self.end_shown is None)
        await self.mount_all(views)
        if select is not None and (selected := self.view_of(select)) is not None:
            # Before anything new is painted: a key pressed on seeing it (End right after
            # Home) reaches the message, not whatever held focus after the old views went.
            selected.focus(scroll_visible=False)
        target = next((v for v in views if getattr(v, "message", None) is focus), None)
        self._opened_at = target if focus is not None else None
        if focus is not None and target is not None:
            # Laid out first: scrolled before that, the log had no height to scroll, and
            # `fill` then took it for too short and loaded turns above the focus.
            await next_frame(self)
            self._bring_to_top(target)
        self.screen.call_after_refresh(self.fill, target)

    async def rest_read(self, conversation: Conversation, earlier: int) -> None:
        """The conversation shown from a part of its path is read whole: the same
        messages, `earlier` more before them. The views stay; the window's places move."""
        async with self._changing:
            self.conversation, self.unread, self.unread_later = conversation, 0, False
            fill_from, self._fill_from = self._fill_from, None
            self.first_shown += earlier
            if self.end_shown is not None:
                self.end_shown += earlier
            wanted, self._wanted_unread = self._wanted_unread, ""
            if fill_from is not None and not fill_from.is_attached:
                fill_from = None
            try:
                if wanted == "earlier":  # the user reached the top of the part meanwhile
                    await self._show_earlier(keep_reading_position=True)
                elif wanted == "later" and fill_from is None:
                    await self._show_later(anywhere=True)
                else:  # (filled with what was read, it may still be short: from the focus)
                    self.fill(fill_from or self._opened_at)
            finally:
                self.shown_whole.set()

    def _bring_to_top(self, view: Widget) -> None:
        """Scrolls `view` to the top of the log, if the log is long enough to scroll."""
        if view.is_attached and self.max_scroll_y > 0:
            self.scroll_to_widget(view, top=True, animate=False)

    async def show_from(self, index: int, focus: Message | None = None) -> None:
        """The path changed from `index` on: the views before it stay, the rest are made
        again (a window that does not reach that far is shown afresh around `focus`)."""
        async with self._changing:
            await self._show_from(index, focus)

    async def _show_from(self, index: int, focus: Message | None) -> None:
        mounted = [view for view in self.query(".message") if hasattr(view, "message")]
        whole = self.end_shown is not None or index < self.first_shown
        keep = 0 if whole else index - self.first_shown
        # A selection in a view that is made anew (a version switched or regenerated from
        # the log) goes to `focus`, the message in its place: left to Textual, it fell to
        # the message above, and the next Alt+Arrow acted on that.
        select = focus if _holds_focus(mounted[keep:]) else None
        if whole:
            await self._show(self.conversation, focus, select=select)
            return
        await self.drop(mounted[keep:])
        await self.mount_all(self._views(self.messages[index:]))
        for view in mounted[:keep]:  # the labels of the ones kept may have changed
            view.border_subtitle = branch_label(self.conversation, view.message)
        if select is not None and (its_view := self.view_of(select)) is not None:
            its_view.focus(scroll_visible=False)
        if focus is not None:
            target = self.view_of(focus)
            if target is not None:
                self.screen.call_after_refresh(self.scroll_to_widget, target, animate=False)

    async def show_whole_end(self, *, first: bool) -> tuple[Message | None, bool]:
        """Home / End: the first or last message of the whole conversation (once it is
        shown whole, not a part of its path), shown afresh if it is not mounted, with its
        view selected as soon as it is; and whether it was shown afresh."""
        while True:
            await self.shown_whole.wait()
            async with self._changing:
                if not self.shown_whole.is_set():  # (a part shown meanwhile: wait again)
                    continue
                if not (messages := self.messages):
                    return None, False
                target = messages[0] if first else messages[-1]
                if self.view_of(target) is not None:
                    return target, False
                await self._show(self.conversation, target if first else None, select=target)
                return target, True

    async def show_at_end(self, message: Message) -> Widget:
        """The view of a message just added at the end of the path (the end is shown
        first, if the user was reading far back)."""
        async with self._changing:
            if self.end_shown is not None:
                await self._show(self.conversation)
            return self.view_of(message) or self.add(message)

    def follow_the_end(self) -> None:
        """Before the user's prompt is added: the end in view, and the anchor held again, so
        the prompt and its reply are followed (read back with the end still mounted, they
        streamed below the screen). A log showing a window far back is shown afresh at its
        end when the prompt comes (`show_at_end`)."""
        if self.end_shown is None:  # (at the bottom already, it holds the anchor again)
            self.scroll_end(animate=False)

    def _index_of(self, view: Widget) -> int | None:
        """Where a mounted view's message is on the path now; None if it left the path
        (a delete or a switch queued meanwhile): then nothing is trimmed this time."""
        message = getattr(view, "message", None)
        path = self.messages
        return path.index(message) if message in path else None

    def add(self, message: Message) -> Widget:
        """Mounts the view of a message just added at the end of the path."""
        view = message_view(self.conversation, message)
        self.mount(view)
        return view

    def view_of(self, message: Message) -> Widget | None:
        for view in reversed(list(self.query(".message"))):
            if getattr(view, "message", None) is message:
                return view
        return None

    def fill(self, focus: Widget | None = None, *, loaded_later: bool = False) -> None:
        """Short turns on a tall terminal may not fill the log, and a log that cannot scroll
        never reaches its top: load earlier turns until it can scroll, or none are left (or
        later ones, for a window shown from far back). A window shown at `focus` (a search
        hit) loads later turns first, and then scrolls `focus` to the top again: turns
        loaded above it pushed it below the screen, and reaching the end made the log
        follow it (rendered Markdown can be far shorter than its source, and the window
        is a screenful of source lines)."""
        if focus is not None and not focus.is_attached:
            return  # the log was shown afresh since: that showing fills it
        short = self.max_scroll_y == 0 and self.size.height
        more_below = self.end_shown is not None and self.end_shown < len(self.messages)
        later_first = focus is not None and self.end_shown is not None
        if short and later_first and not more_below:  # (the part's end: the rest to come)
            self._fill_from = focus
            return
        if short and self.first_shown and not later_first:
            self.run_worker(self._show_more_then_fill(focus, earlier=True), group="history")
        elif short and more_below:
            self.run_worker(self._show_more_then_fill(focus, earlier=False), group="history")
        else:
            if focus is not None and loaded_later:
                self._bring_to_top(focus)
            self.post_message(self.Filled())
            self._lay_out_ahead(below=not self.first_shown)

    async def _show_more_then_fill(self, focus: Widget | None, *, earlier: bool) -> None:
        await self.show_more(earlier=earlier, keep_reading_position=False)
        self.screen.call_after_refresh(partial(self.fill, focus, loaded_later=not earlier))


def _holds_focus(views: Sequence[Widget]) -> bool:
    """Whether the focus is on one of `views` or inside one."""
    focused = views[0].screen.focused if views else None
    if focused is None:
        return False
    return any(view is focused or view in focused.ancestors for view in views)

"""Shows a streaming reply as the session reports it: its view, the status line's figures.

Kept apart from the screen because it is the hot path of the app: every delta of every
reply passes through `progress`, which must stay cheap (no layout, no query, no await).
"""

from __future__ import annotations

import time

from tui.chat.conversation import Conversation
from tui.chat.events import ChatError, ContentDelta, ReasoningDelta, Retrying
from tui.chat.message import Message
from tui.chat.parts import ToolResultPart
from tui.chat.session_events import ReplyProgress
from tui.error_words import tell_retry
from tui.ui.reply_stats import ReplyStats
from tui.ui.widgets.message_views import AssistantMessageView
from tui.ui.widgets.status_line import StatusLine

STATUS_INTERVAL = 0.5


class ReplyPresenter:
    def __init__(self, status: StatusLine) -> None:
        self.status = status
        self.view: AssistantMessageView | None = None
        """The view of the reply streaming now, if any."""
        self.last_ended = 0.0
        self._stats = ReplyStats(started=0.0)
        self._next_status = 0.0
        self._retry_notice_shown = False
        self._content_started = False
        self._rounds_fed = 0

    def start(self, view: AssistantMessageView) -> None:
        self.view = view
        view.body.on_flush = self._show_live_figures
        self._stats = ReplyStats(started=time.monotonic())
        self._next_status = 0.0
        self._retry_notice_shown = False
        self._content_started = False
        self._rounds_fed = 0
        self.status.wait("Connecting…", self._stats.started)

    def progress(self, event: ReplyProgress) -> None:
        view = self.view
        if view is None or view.message is not event.reply:
            return
        stream_event = event.event
        now = time.monotonic()
        if isinstance(stream_event, ContentDelta):
            if self._retry_notice_shown:
                self._retry_notice_shown = False
                view.show_outcome()
            if not self._content_started:
                self._content_started = True
                view.end_reasoning()
            rounds = _rounds_answered(event.reply)
            if rounds != self._rounds_fed:  # the model speaks again after tool results
                self._rounds_fed = rounds
                if view.body.deltas_fed:
                    view.body.feed("\n\n")
            self._stats.on_token(now, stream_event.chunks)
            view.body.feed(stream_event.text)
            return  # the figures change with the text's next flush (`_show_live_figures`)
        elif isinstance(stream_event, ReasoningDelta):
            self._stats.on_token(now, stream_event.chunks)
            view.feed_reasoning(stream_event.text)
        elif isinstance(stream_event, Retrying):
            self._retry_notice_shown = True
            notice = tell_retry(stream_event, in_app=True)
            view.show_retry(notice)
            self.status.show(notice)
            self._next_status = now + stream_event.delay
        if now >= self._next_status:
            self._next_status = now + STATUS_INTERVAL
            self.status.show(self._stats.live_text(now))

    def _show_live_figures(self) -> None:
        """After a flush of the reply: the figures at most every `STATUS_INTERVAL`, in the
        frame the text moves in (a frame of their own, twice a second, was a sixth of the
        frames of a slow stream)."""
        now = time.monotonic()
        if self.view is not None and now >= self._next_status:
            self._next_status = now + STATUS_INTERVAL
            self.status.show(self._stats.live_text(now))

    async def end(
        self,
        reply: Message,
        error: ChatError | None,
        view: AssistantMessageView | None,
        conversation: Conversation,
    ) -> None:
        """Shows how the reply ended, in its view (`view`, if it is no longer the one
        streaming) and in the status line with the conversation's totals."""
        if self.view is not None and self.view.message is reply:
            view = self.view
        if view is not None:
            view.body.on_flush = None
        self.view = None
        self.last_ended = time.monotonic()
        self._stats.finish(self.last_ended)
        # The figures first: the status line said "Streaming" until the last flush was laid
        # out, which after a fast reply is frames later than the reply's end.
        self.status.show(self._stats.summary_text(reply, conversation.usage_totals()))
        if view is not None:
            await view.body.finish()
            view.end_reasoning()
            view.show_outcome(error)

    def yield_to_typing(self) -> None:
        """Typing while a reply streams: the keys come first, the reply a moment later."""
        if self.view is not None:
            self.view.body.yield_to_typing()


def _rounds_answered(reply: Message) -> int:
    """How many tool results the reply has: each round of them starts a new paragraph."""
    parts = reply.parts
    if not parts or len(parts) == 1:  # the common case, on the hot path
        return 0
    return sum(1 for part in parts if isinstance(part, ToolResultPart))

"""Puts what a session reports onto the chat screen's widgets, in the order it happened.

Structural changes (a message added, a branch switched, another conversation opened)
mount and remove views, which must be awaited; they are queued for one worker, so a view
is never fed before it exists or after it was replaced. Text for the streaming reply is
the hot path: shown at once when nothing waits before it (a worker per delta cost a
third more CPU). The worker ends when nothing is left: an idle screen runs no worker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from time import monotonic

from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkType

from tui.chat.safe_text import make_safe
from tui.chat.session_events import (
    Compacting,
    ContextTooLong,
    ConversationOpened,
    DetailsChanged,
    MessageAdded,
    PathChanged,
    QueueChanged,
    ReplyEnded,
    ReplyProgress,
    ReplyStarted,
    RestOfConversationRead,
    SaveStateChanged,
    SessionEvent,
    ToolsChanged,
    ToolServersChanged,
    TurnsLeftOut,
)
from tui.error_words import tell as tell_error
from tui.session import ChatSession
from tui.ui.prompt_commands import tell
from tui.ui.reply_presenter import ReplyPresenter
from tui.ui.widgets.conversation_log import ConversationLog
from tui.ui.widgets.message_views import AssistantMessageView
from tui.ui.widgets.prompt_input import PromptInput

FOOTER_AFTER_END = 0.2
"""Seconds after a reply ends before the footer drops "Stop reply"."""
SETTLED_AFTER_END = 1.0
"""Seconds after a reply ends before its screen counts as settled (its code drawn
highlighted): `ReplySettled` is posted then."""
FOOTER_FOLLOWS = (
    ReplyStarted,
    QueueChanged,
    Compacting,
    MessageAdded,
    PathChanged,
    ConversationOpened,
    RestOfConversationRead,
)
"""What changes the keys the footer offers: whether Esc stops something, whether there is
a message to retry or to pick."""
QUEUED_SHOWN = 70
"""Characters of a waiting prompt shown above the prompt box."""


class ReplySettled(Message):
    """A reply ended a moment ago and the screen shows it whole: maybe what a launch
    reopening the conversation draws first (`tui.ui.kept_frame`, taken by the app)."""


class SessionFollower:
    def __init__(
        self,
        screen: Screen[None],
        prompt: PromptInput,
        session: ChatSession,
        log: ConversationLog,
        presenter: ReplyPresenter,
        queued: Static,
        on_details: Callable[[], None],
        on_context_full: Callable[[ContextTooLong], None],
    ) -> None:
        self.screen = screen
        self.prompt = prompt
        self.session = session
        self.log = log
        self.presenter = presenter
        self.queued = queued
        self.on_details = on_details
        """Called when the title, model or system prompt (or the whole conversation)
        changed: the header follows."""
        self.on_context_full = on_context_full
        """Called when the server refused a prompt as too long: the screen offers what to do."""
        self._events: deque[SessionEvent] = deque()
        self._worker: Worker[None] | None = None
        self._told_failed: set[str] = set()
        self._context_when_whole = False
        """The conversation opened is a part of a long path: how full the window is waits
        for the whole (at launch it waits for the first reply, as before)."""

    def __call__(self, event: SessionEvent) -> None:
        idle = self._worker is None or self._worker.is_finished
        if isinstance(event, ReplyProgress) and idle and not self._events:
            self.presenter.progress(event)
            return
        self._events.append(event)
        if idle:
            self._worker = self.screen.run_worker(self._apply_all(), group="session-events")

    async def _apply_all(self) -> None:
        while self._events:
            event = self._events.popleft()
            if isinstance(event, ReplyProgress):
                self.presenter.progress(event)  # no await on the hot path
            elif isinstance(event, ToolsChanged) and self._later_tools_change(event):
                continue  # each carries the whole state: only the last needs drawing
            else:
                await self._apply(event)

    async def _apply(self, event: SessionEvent) -> None:
        await self._show(event)
        if isinstance(event, ConversationOpened):  # (a part is counted once it is whole)
            self._context_when_whole = bool(event.earlier or event.later)
        if (
            isinstance(event, ReplyEnded)
            or (isinstance(event, ConversationOpened) and not self._context_when_whole)
            or (isinstance(event, RestOfConversationRead) and self._context_when_whole)
        ):
            # The method, not a coroutine: one replaced before it starts would never be
            # awaited (`exclusive`), and Python says so.
            show_context: WorkType[None] = self._show_context
            self.screen.run_worker(show_context, group="context", exclusive=True)
        if isinstance(event, ReplyEnded):
            # What Esc does has changed, and the footer rebuilds itself to say so (tens of
            # milliseconds): not in the frame that shows the reply's end, which it held up.
            self.screen.set_timer(FOOTER_AFTER_END, self.screen.refresh_bindings)
            screen = self.screen
            screen.set_timer(SETTLED_AFTER_END, lambda: screen.post_message(ReplySettled()))
        elif isinstance(event, FOOTER_FOLLOWS):
            self.screen.refresh_bindings()
        if isinstance(event, ReplyStarted | ReplyEnded):
            # A blinking cursor is a frame of its own twice a second, beside the reply's.
            self.prompt.cursor_blink = isinstance(event, ReplyEnded)

    async def _show(self, event: SessionEvent) -> None:
        log, conversation = self.log, self.session.conversation
        if isinstance(event, MessageAdded | ReplyStarted):
            message = event.message if isinstance(event, MessageAdded) else event.reply
            if message not in conversation.messages:
                return  # replaced since (Ctrl+R pressed again before this was shown)
            view = await log.show_at_end(message)
            if isinstance(event, ReplyStarted) and isinstance(view, AssistantMessageView):
                self.presenter.start(view)
        elif isinstance(event, ReplyEnded):
            found = log.view_of(event.reply)
            shown = found if isinstance(found, AssistantMessageView) else None
            await self.presenter.end(event.reply, event.error, shown, conversation)
        elif isinstance(event, PathChanged):
            await log.show_from(event.index, event.focus)
        elif isinstance(event, ConversationOpened):
            await log.show(
                event.conversation,
                event.focus,
                unread=event.earlier,
                unread_later=event.later,
            )
            self.on_details()
        elif isinstance(event, RestOfConversationRead):
            if event.error is None:
                await log.rest_read(event.conversation, event.earlier)
            else:
                await log.show(event.conversation)
                self.on_details()
                tell(
                    self.screen,
                    f"The rest of this conversation could not be read ({event.error}); "
                    "a new one is open. The history is as it was.",
                    error=True,
                )
        elif isinstance(event, DetailsChanged):
            self.on_details()
        elif isinstance(event, QueueChanged):
            self._show_queued(event.prompt)
        elif isinstance(event, SaveStateChanged):
            self._show_save_state(event)
        elif isinstance(event, ToolsChanged):
            found = log.view_of(event.reply)
            if isinstance(found, AssistantMessageView):
                found.show_tools(event.running, event.asking)
        elif isinstance(event, ToolServersChanged):
            self._show_failed_tool_servers()
        elif isinstance(event, TurnsLeftOut):
            for message in event.messages:
                left_out = log.view_of(message)
                if left_out is not None:
                    left_out.add_class("-not-sent")
                    left_out.border_subtitle = "not sent"
            count = len(event.messages)
            tell(self.screen, f"{count} earlier messages left out of this request to fit.")
        elif isinstance(event, Compacting):
            self._show_compacting(event)
        elif isinstance(event, ContextTooLong) and event.from_server:
            self.on_context_full(event)

    def _later_tools_change(self, event: ToolsChanged) -> bool:
        """A call's arguments stream in one event per piece: drawing each would cost the
        square of their length."""
        return any(
            isinstance(later, ToolsChanged) and later.reply is event.reply for later in self._events
        )

    async def _show_context(self) -> None:
        """How full the window is, once a reply has ended (or a conversation opened): the
        window may have to be asked of the server, never on the first frame's path."""
        status = self.presenter.status
        if not self.session.conversation.messages:  # nothing sent yet: nothing to show
            status.context, status.context_warning = "", False
            return
        fill = await self.session.context_fill()
        status.context = fill.label() if fill is not None else ""
        status.context_warning = fill is not None and fill.warning

    def _show_compacting(self, event: Compacting) -> None:
        status = self.presenter.status
        if not event.done:
            status.wait("Compacting: the model is summarising the conversation…", monotonic())
        elif event.stopped:
            status.show("Compacting stopped: the prompt was not sent")
        elif event.error is not None:
            told = tell_error(event.error, in_app=True)
            status.show("Compacting failed")
            tell(
                self.screen,
                f"Could not compact: {told.title}. The prompt was not sent.",
                error=True,
            )
        else:
            status.show("Compacted: a new branch starts from the summary (Alt+Left: the full one)")

    def _show_failed_tool_servers(self) -> None:
        """A server that failed is said once, with why (F4 shows them all)."""
        tools = self.session.tools
        for name, status in tools.servers.statuses.items() if tools is not None else []:
            if status.reason and name not in self._told_failed:
                self._told_failed.add(name)
                tell(
                    self.screen,
                    f"Tool server {name!r} failed: {status.reason} (F4 lists the servers)",
                    error=True,
                    timeout=10,
                )

    def _show_save_state(self, event: SaveStateChanged) -> None:
        status = self.presenter.status
        if not event.unsaved:
            if status.alert:
                status.alert = ""
                tell(self.screen, "Saved: every change is in the history file now.", timeout=4)
            return
        reason = event.reason or "the history is not open"
        status.alert = make_safe(f"⚠ not saved yet: {reason}")
        tell(
            self.screen,
            f"History could not be saved: {reason}. Nothing is lost: it is kept here and "
            "written as soon as the file can take it.",
            error=True,
            timeout=10,
        )

    def _show_queued(self, prompt: str | None) -> None:
        self.queued.display = prompt is not None
        if prompt is None:
            return
        line = " ".join(prompt.split())
        if len(line) > QUEUED_SHOWN:
            line = line[:QUEUED_SHOWN] + "…"
        note = "(sent when this reply ends · Esc takes it back)"
        self.queued.update(Content(make_safe(f"⏳ Waiting to send: {line}   {note}")))

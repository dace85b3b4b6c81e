"""The chat screen: the log, the prompt, and the worker that streams a reply into them."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.attachments import Attachment, with_attachments
from tui.backend import ChatBackend, load_client_library
from tui.chat.conversation import Conversation
from tui.chat.events import (
    ChatError,
    ContentDelta,
    Failed,
    Finished,
    ReasoningDelta,
    Retrying,
    UsageReport,
)
from tui.chat.message import Message, MessageStatus, Role
from tui.chat.safe_text import make_safe
from tui.config import Settings
from tui.config_file import save_first_profile
from tui.export import export_to_file
from tui.gc_tuning import fewer_collections, freeze_long_lived_objects
from tui.local_probe import USUAL_LOCAL_SERVERS, FoundServer, LocalServer
from tui.store import Store
from tui.ui.conversations_screen import ConversationsScreen, OpenConversation
from tui.ui.frames import next_frame
from tui.ui.help_screen import HelpScreen
from tui.ui.markdown_lines import build_highlighters
from tui.ui.message_actions import MessageActions
from tui.ui.model_picker_screen import ModelPickerScreen
from tui.ui.prompt_commands import PromptCommands
from tui.ui.reply_stats import ReplyStats
from tui.ui.search_screen import SearchScreen
from tui.ui.slash_commands import SlashCommand, parse_slash_command
from tui.ui.system_prompt_screen import SystemPromptScreen
from tui.ui.welcome_screen import WelcomeScreen
from tui.ui.widgets.message_log import MessageLog
from tui.ui.widgets.message_views import AssistantMessageView, NoticeView, UserMessageView
from tui.ui.widgets.prompt_input import PromptInput
from tui.ui.widgets.status_line import StatusLine

STATUS_INTERVAL = 0.5
SAVE_INTERVAL = 0.5
"""A streaming reply reaches the database at most this often: a crash loses at most this."""
RESUMED_MESSAGES_SHOWN = 12
SCROLL_BATCH = 4
"""Turns mounted (and unmounted at the other end) per step while scrolling: each costs
layout and styling, so small steps keep every stall short."""
COMMON_CODE_LANGUAGES = ("", "python", "bash", "sh", "javascript", "typescript", "json")
"""Highlighters built in the background after start-up, so the first code block of a
reply does not hold up its frame (guessing a fence's language loads every lexer: 130 ms)."""
IDLE_BEFORE_WARMING = 1.0
"""Seconds without a reply streaming before those highlighters are built."""
MOST_MOUNTED_MESSAGES = 24
"""Beyond this many mounted turns, those farthest from where the user reads are unmounted:
every frame lays out every mounted widget, and a 2,000-message history grew to 800 MB."""
REPLY_GROUP = "reply"
NO_KEY_NOTICE = (
    "No API key is set, so requests to OpenAI will fail.\n"
    "Set one with  export OPENAI_API_KEY=sk-...  and restart, or use a local server:\n"
    "  tui-chat --base-url http://127.0.0.1:11434/v1 --model llama3.2   (Ollama)"
)


class ChatScreen(MessageActions, PromptCommands, Screen[None]):
    BINDINGS = [
        Binding("escape", "cancel", "Stop reply", id="chat.cancel"),
        Binding("ctrl+r", "retry", "Retry", id="chat.retry"),
        Binding("ctrl+n", "new_conversation", "New chat", id="chat.new"),
        Binding(
            "alt+left", "previous_version", "Older version", id="chat.version.previous", show=False
        ),
        Binding("alt+right", "next_version", "Newer version", id="chat.version.next", show=False),
        Binding("ctrl+b", "conversations", "History", id="chat.conversations"),
        Binding("ctrl+f", "search", "Search", id="chat.search"),
        Binding("ctrl+up,alt+up", "select_messages", "Messages", id="chat.messages"),
        Binding("f2", "pick_model", "Model", id="chat.model"),
        Binding("f3", "edit_system_prompt", "System", id="chat.system"),
        Binding("f1", "help", "Help", id="chat.help"),
    ]

    def __init__(
        self,
        settings: Settings,
        store: Store | None,
        *,
        initial_prompt: str | None = None,
        resume: Conversation | None = None,
        startup_notice: str | None = None,
        local_servers: Sequence[LocalServer] = USUAL_LOCAL_SERVERS,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._local_servers = local_servers
        self.store = store
        self.backend = ChatBackend(settings)
        self.conversation = resume or self._new_conversation()
        self._initial_prompt = initial_prompt
        self._startup_notice = startup_notice
        self._reply_worker: Worker[None] | None = None
        self._store_failed = False
        self._first_shown = 0
        """Index of the earliest message mounted in the log; earlier ones load on demand."""
        self._preload_started = False
        self._last_reply_ended = 0.0
        self._end_shown: int | None = None
        self._streaming_view: AssistantMessageView | None = None
        """Index of the first message unmounted at the bottom, or None: the end is shown."""
        self._attachments: list[Attachment] = []
        self._editing: Message | None = None
        """The earlier prompt being edited, resent from its place on Enter."""
        self._delete_armed: Message | None = None

    def _new_conversation(self) -> Conversation:
        return Conversation(system_prompt=self.settings.system_prompt, model=self.settings.model)

    def compose(self) -> ComposeResult:
        yield Header()
        # A resumed conversation is part of the first frame, not mounted after it.
        yield MessageLog(*self._notices(), *self._history_views(), id="log")
        yield StatusLine("", id="status")
        yield Static("", id="attachments")
        yield PromptInput(id="prompt")
        yield Footer()

    @property
    def log_view(self) -> MessageLog:
        return self.query_one("#log", MessageLog)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one("#prompt", PromptInput)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    def _preload_when_shown(self) -> None:
        """Loads the client library once the first screenful is drawn: the import holds the
        interpreter for ~0.4 s, and started at once it put off a resumed conversation's
        first frame by 0.6 s (1.4 s instead of 0.8 s in a real terminal)."""
        if not self._preload_started:
            self._preload_started = True
            self.run_worker(self._preload, thread=True, group="preload")

    def _preload(self) -> None:
        try:
            load_client_library()
        finally:  # collection, off during start-up, comes back on whatever happened
            freeze_long_lived_objects()
        # Not while a reply streams or has just ended: building them holds the interpreter
        # for ~0.2 s, which put off the end of a first reply streamed at full speed.
        worker = get_current_worker()
        while self.is_streaming or time.monotonic() - self._last_reply_ended < IDLE_BEFORE_WARMING:
            if worker.is_cancelled:  # the app is closing
                return
            time.sleep(IDLE_BEFORE_WARMING / 4)
        build_highlighters(COMMON_CODE_LANGUAGES)
        freeze_long_lived_objects()  # every lexer module: out of full collections' way too

    def on_mount(self) -> None:
        self.title = "tui-chat"
        self._show_model_in_header()
        self.prompt.focus()
        self.query_one("#attachments").display = False
        if self.store is not None:
            with contextlib.suppress(sqlite3.Error):
                self.prompt.prompt_history = self.store.recent_prompts()
        if not self.settings.has_usable_key:
            config = self.settings.config_path
            if config is None or not config.exists():
                self.app.push_screen(
                    WelcomeScreen(self._local_servers, config), self._use_local_server
                )
        if self.conversation.messages:
            self.log_view.anchor(self._end_shown is None)
            self.call_after_refresh(self._fill_the_view)  # preloads once the view is full
        else:
            self.call_after_refresh(self._preload_when_shown)
        if self._initial_prompt:
            self.send_prompt(self._initial_prompt)

    def _notices(self) -> list[Widget]:
        notices: list[Widget] = []
        if self._startup_notice:
            notices.append(NoticeView(self._startup_notice, classes="warning"))
        if not self.settings.has_usable_key:
            notices.append(NoticeView(NO_KEY_NOTICE, classes="warning"))
        return notices

    def _show_history(self, focus_message_id: int | None = None) -> list[Widget]:
        """Mounts a resumed conversation; only the latest turns (or from a search match on),
        so opening stays instant. Scrolling to the top shows earlier turns, a batch at a time."""
        views = self._history_views(focus_message_id)
        self.log_view.anchor(self._end_shown is None)
        self.log_view.mount_all(views)
        self.call_after_refresh(self._fill_the_view)
        return views

    def _history_views(self, focus_message_id: int | None = None) -> list[Widget]:
        """The views of the turns to show first (and a note of how many are earlier)."""
        messages = self.conversation.messages
        if not messages:
            return []
        first = self._first_of_a_screenful(messages)
        if focus_message_id is not None:
            match = next((i for i, m in enumerate(messages) if m.id == focus_message_id), None)
            if match is not None:
                first = min(first, match)
        self._first_shown = first
        last = min(len(messages), first + MOST_MOUNTED_MESSAGES)
        self._end_shown = None if last == len(messages) else last
        return [*self._earlier_notice(), *self._message_views(messages[first:last])]

    def _first_of_a_screenful(self, messages: list[Message]) -> int:
        """Where to start showing a resumed conversation: enough of its end to fill the
        screen, judged by source lines (rendered Markdown is rarely shorter, and
        `_fill_the_view` loads more if it is), and at most `RESUMED_MESSAGES_SHOWN` messages.
        Each stored reply costs tens of milliseconds to mount; mounting 12 of them made
        opening a long conversation take 0.9 s."""
        lines_wanted = self.size.height or self.app.size.height or 40
        lines = 0
        first = len(messages)
        while first > max(0, len(messages) - RESUMED_MESSAGES_SHOWN) and lines < lines_wanted:
            first -= 1
            lines += messages[first].content.count("\n") + 2
        if (
            0 < first < len(messages)
            and messages[first].role is Role.ASSISTANT
            and messages[first - 1].role is Role.USER
        ):
            first -= 1  # a reply comes with the prompt it answers
        return first

    def _fill_the_view(self) -> None:
        """Short turns on a tall terminal may not fill the log, and a log that cannot scroll
        never reaches its top: load earlier turns until it can scroll, or none are left."""
        log = self.log_view
        if self._first_shown and log.max_scroll_y == 0 and log.size.height:
            self.run_worker(self._show_earlier_then_fill(), group="history")
        else:
            self._preload_when_shown()

    async def _show_earlier_then_fill(self) -> None:
        await self._show_earlier(keep_reading_position=False)
        self.call_after_refresh(self._fill_the_view)

    def _message_views(self, messages: list[Message]) -> list[Widget]:
        views: list[Widget] = []
        for message in messages:
            if message.role is Role.USER:
                views.append(UserMessageView(message))
            elif message.role is Role.ASSISTANT:
                views.append(self._assistant_view(message))
        return views

    def _earlier_notice(self) -> list[Widget]:
        if not self._first_shown:
            return []
        return [
            NoticeView(
                f"↑ {self._first_shown} earlier messages: scroll to the top to show more",
                classes="earlier",
            )
        ]

    @on(MessageLog.ReachedTop)
    async def _reached_top(self) -> None:
        log = self.log_view
        # By now the log may have moved on: a rebuild (sending from far back) empties it,
        # which scrolls it to the top for a moment, and then follows the new end.
        if log.max_scroll_y > 0 and log.scroll_y <= 0:
            await self._show_earlier(keep_reading_position=True)

    async def _show_earlier(self, *, keep_reading_position: bool) -> None:
        """Prepends a batch of earlier turns; past `MOST_MOUNTED_MESSAGES`, the turns at the
        bottom (far out of view) are unmounted, so the log stays light however far back the
        user reads. The user reading at the top keeps their place; a log being filled
        (too short to scroll) keeps following its end."""
        if not self._first_shown:
            return
        start = max(0, self._first_shown - SCROLL_BATCH)
        views = self._message_views(self.conversation.messages[start : self._first_shown])
        self._first_shown = start
        log = self.log_view
        scroll_before = log.scroll_y
        await log.query(".earlier").remove()
        first_view = next(iter(log.children), None)
        reading_at = first_view.virtual_region.y if first_view is not None else 0
        await log.mount_all([*self._earlier_notice(), *views], before=first_view)
        mounted = list(log.query(".message"))
        if len(mounted) > MOST_MOUNTED_MESSAGES:
            log.anchor(False)  # the end is no longer mounted: nothing to follow
            doomed = mounted[MOST_MOUNTED_MESSAGES:]
            self._end_shown = self.conversation.messages.index(doomed[0].message)
            await log.drop(doomed)

        def stay_at_the_same_turn() -> None:
            if first_view is not None and first_view.is_attached:
                moved = first_view.virtual_region.y - reading_at
                log.scroll_to(y=scroll_before + moved, animate=False)

        if keep_reading_position:
            self.call_after_refresh(stay_at_the_same_turn)

    @on(MessageLog.ReachedBottom)
    async def _show_later(self) -> None:
        """The mirror of `_show_earlier`, once the user scrolls back down."""
        end = self._end_shown
        if end is None or self.log_view.scroll_y < self.log_view.max_scroll_y:
            return
        messages = self.conversation.messages
        stop = min(len(messages), end + SCROLL_BATCH)
        log = self.log_view
        await log.mount_all(self._message_views(messages[end:stop]))
        self._end_shown = None if stop >= len(messages) else stop
        mounted = list(log.query(".message"))
        if len(mounted) > MOST_MOUNTED_MESSAGES:
            doomed = mounted[: len(mounted) - MOST_MOUNTED_MESSAGES]
            kept = mounted[len(doomed)]
            reading_at = kept.virtual_region.y
            scroll_before = log.scroll_y
            self._first_shown = messages.index(doomed[-1].message) + 1
            await log.query(".earlier").remove()
            await log.drop(doomed)
            await log.mount_all(self._earlier_notice(), before=kept)

            def keep_reading_position() -> None:
                moved = reading_at - kept.virtual_region.y
                log.scroll_to(y=max(0, scroll_before - moved), animate=False)

            self.call_after_refresh(keep_reading_position)
        if self._end_shown is None:
            log.anchor()

    async def _show_the_end(self) -> None:
        """Before anything is added at the end (a prompt, a reply), the end must be what
        the log shows."""
        if self._end_shown is None:
            return
        self._end_shown = None
        await self.log_view.drop()
        self._show_history()
        self.log_view.anchor()

    def _persist(self, message: Message | None = None) -> None:
        """Writes the conversation (and a message) to the store; a failure is told once and
        never stops the chat: the text stays on screen."""
        if self.store is None or self._store_failed:
            return
        try:
            if self.conversation.id is None or message is None:
                self.store.save_conversation(self.conversation, self.settings.endpoint_label)
            if message is not None:
                self.store.save_message(self.conversation, message)
        except sqlite3.Error as error:
            self._store_failed = True
            self.notify(
                f"History could not be saved ({error}); this conversation stays on screen.",
                severity="error",
                timeout=10,
            )

    def _show_model_in_header(self) -> None:
        where = self.settings.endpoint_label
        if self.settings.profile:
            where = f"{self.settings.profile} ({where})"
        self.sub_title = make_safe(f"{self.conversation.model} · {where}")

    @property
    def is_streaming(self) -> bool:
        worker = self._reply_worker
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    @on(PromptInput.Changed)
    def _typing(self) -> None:
        """Typing while a reply streams: the keys come first, the reply a moment later."""
        if self.is_streaming and self._streaming_view is not None:
            self._streaming_view.body.yield_to_typing()

    @on(PromptInput.Submitted)
    def on_prompt_submitted(self, event: PromptInput.Submitted) -> None:
        command = parse_slash_command(event.text)
        if isinstance(command, SlashCommand):
            self.run_slash_command(command)
            return
        text = command if isinstance(command, str) else event.text
        self.prompt.remember(event.text)
        text = with_attachments(text, self._attachments)
        self._set_attachments([])
        editing, self._editing = self._editing, None
        if editing is not None and editing in self.conversation.messages:
            self.run_worker(self._resend_edited(editing, text), group="send")
        else:
            self.send_prompt(text)

    def send_prompt(self, text: str) -> None:
        """Adds the user's turn and streams the answer; a reply in progress is stopped first."""
        self.run_worker(self._send(text), group="send", exclusive=False)

    async def _send(self, text: str) -> None:
        await self._stop_reply()
        await self._show_the_end()
        message = self.conversation.add_user_message(text)
        self._persist(message)  # stored before the request goes out: never lost
        await self.log_view.mount(UserMessageView(message))
        self._start_reply()

    def _assistant_view(self, message: Message) -> AssistantMessageView:
        view = AssistantMessageView(message)
        view.border_subtitle = self.conversation.version_label(message)
        return view

    def _start_reply(self, replacing: Message | None = None) -> None:
        reply = self.conversation.start_reply(self.conversation.model, replacing=replacing)
        self._persist(reply)
        view = self._assistant_view(reply)
        self.log_view.mount(view)
        self._streaming_view = view
        self._reply_worker = self._stream_reply(reply, view)

    async def _stop_reply(self) -> None:
        """Cancels the streaming worker and waits until it has marked its reply stopped."""
        worker = self._reply_worker
        if worker is None or worker.is_finished:
            return
        worker.cancel()
        with contextlib.suppress(Exception):
            await worker.wait()

    @work(group=REPLY_GROUP, exclusive=False, exit_on_error=False)
    async def _stream_reply(self, reply: Message, view: AssistantMessageView) -> None:
        with fewer_collections():
            await self._stream_into(reply, view)
            # The collections put off while streaming come due when the thresholds drop:
            # after the frame that shows the reply's end, not before it (+0.3 s of lag).
            await next_frame(view)
        self._last_reply_ended = time.monotonic()

    async def _stream_into(self, reply: Message, view: AssistantMessageView) -> None:
        """Streams one reply into `reply` and `view`; every way out leaves both consistent."""
        history = self.conversation.request_messages()
        stats = ReplyStats(started=time.monotonic())
        parts: list[str] = []
        reasoning: list[str] = []
        error: ChatError | None = None
        retry_notice_shown = False
        self.status.show("Connecting…")
        next_status = 0.0
        next_save = time.monotonic() + SAVE_INTERVAL
        try:
            async for event in self.backend.stream_reply(history, self.conversation.model or ""):
                if isinstance(event, ContentDelta):
                    if retry_notice_shown:
                        retry_notice_shown = False
                        view.show_outcome()
                    stats.on_token(time.monotonic(), event.chunks)
                    if not parts and reasoning:
                        view.end_reasoning()
                    parts.append(event.text)
                    view.body.feed(event.text)
                elif isinstance(event, ReasoningDelta):
                    stats.on_token(time.monotonic(), event.chunks)
                    reasoning.append(event.text)
                    view.feed_reasoning(event.text)
                elif isinstance(event, UsageReport):
                    reply.usage = event.usage
                elif isinstance(event, Finished):
                    reply.finish_reason = event.reason
                    reply.status = MessageStatus.DONE
                elif isinstance(event, Failed):
                    error = event.error
                    reply.status = MessageStatus.ERROR
                    reply.error = error.one_line()
                elif isinstance(event, Retrying):
                    retry_notice_shown = True
                    view.show_retry(event.describe())
                    self.status.show(event.describe())
                    next_status = time.monotonic() + event.delay
                now = time.monotonic()
                if now >= next_status:
                    next_status = now + STATUS_INTERVAL
                    self.status.show(stats.live_text(now))
                if now >= next_save:
                    next_save = now + SAVE_INTERVAL
                    reply.content = "".join(parts)
                    reply.reasoning = "".join(reasoning)
                    self._persist(reply)
        except asyncio.CancelledError:
            reply.status = MessageStatus.STOPPED
            raise
        finally:
            if reply.status is MessageStatus.STREAMING:
                reply.status = MessageStatus.STOPPED
            reply.content = "".join(parts)
            reply.reasoning = "".join(reasoning)
            stats.finish(time.monotonic())
            reply.time_to_first_token = stats.time_to_first_token
            reply.duration = stats.duration
            self._persist(reply)
            await view.body.finish()
            view.end_reasoning()
            view.show_outcome(error)
            self.status.show(stats.summary_text(reply, self.conversation.usage_totals()))

    def action_cancel(self) -> None:
        """Escape: stop the reply in progress (the text so far stays, marked stopped), or
        give up editing an earlier prompt."""
        if self.is_streaming and self._reply_worker is not None:
            self._reply_worker.cancel()
        elif self._editing is not None:
            self._editing = None
            self.prompt.clear()
            self.status.show("Edit cancelled")
        self.prompt.focus()

    def action_retry(self) -> None:
        """Ctrl+R: regenerate the last reply from the same history."""
        self.run_worker(self._retry(), group="send")

    async def _retry(self) -> None:
        await self._stop_reply()
        await self._show_the_end()
        if not self.conversation.can_retry:
            self.notify("Nothing to retry yet: send a prompt first.", severity="warning")
            return
        previous = self.conversation.drop_last_reply()
        if previous is not None:
            await self._remove_view_of(previous)
        self._start_reply(replacing=previous)
        if previous is not None:
            self._persist(previous)  # kept, marked replaced: Alt+Left steps back to it

    async def _remove_view_of(self, message: Message) -> None:
        for view in self.log_view.query(AssistantMessageView):
            if view.message is message:
                await view.remove()

    def action_previous_version(self) -> None:
        """Alt+Left: show the previous version of a regenerated reply."""
        self.run_worker(self._switch_version(-1), group="send")

    def action_next_version(self) -> None:
        """Alt+Right: show the next version of a regenerated reply."""
        self.run_worker(self._switch_version(+1), group="send")

    async def _switch_version(self, step: int) -> None:
        if self.is_streaming:
            return
        await self._show_the_end()
        switched = self.conversation.switch_last_reply(step)
        if switched is None:
            self.notify("No other version of the last reply.", timeout=2)
            return
        hidden, shown = switched
        await self._remove_view_of(hidden)
        await self.log_view.mount(self._assistant_view(shown))
        self._persist(hidden)
        self._persist(shown)

    def action_new_conversation(self) -> None:
        """Ctrl+N: stop any reply and start an empty conversation."""
        self.run_worker(self._new_chat(), group="send")

    async def _new_chat(self) -> None:
        await self._stop_reply()
        self.conversation = self._new_conversation()
        self._show_model_in_header()
        self._first_shown = 0
        self._end_shown = None
        await self.log_view.drop()
        self.log_view.anchor()
        self.status.show("New conversation")
        self.prompt.focus()

    def action_conversations(self) -> None:
        """Ctrl+B: browse stored conversations; open, rename or delete."""
        if self.store is None:
            self.notify("History is off, so there is nothing to browse.", severity="warning")
            return
        self.app.push_screen(ConversationsScreen(self.store), self._after_browsing)

    def _use_local_server(self, found: FoundServer | None) -> None:
        """Switches to a server picked on the welcome screen and saves it as a profile."""
        if found is None:
            return
        server = found.server
        model = found.models[0] if found.models else self.settings.model
        self.settings = replace(
            self.settings, base_url=server.base_url, model=model, profile=server.profile_name
        )
        old_backend, self.backend = self.backend, ChatBackend(self.settings)
        self.run_worker(old_backend.aclose(), exit_on_error=False)
        self.conversation.model = model
        self._show_model_in_header()
        self.query(".warning").remove()
        saved = ""
        config = self.settings.config_path
        if config is not None and not config.exists():
            try:
                save_first_profile(config, server.profile_name, server.base_url, model)
                saved = f" Saved as profile {server.profile_name!r} in {config}."
            except OSError as error:
                saved = f" (Could not save a profile: {error}.)"
        self.notify(f"Using {server.name}, model {make_safe(model)}.{saved} F2 changes the model.")
        self.prompt.focus()

    def action_pick_model(self) -> None:
        """F2: choose the model for this conversation's next requests."""
        self.app.push_screen(
            ModelPickerScreen(self.conversation.model or "", self.backend.list_models),
            self._use_model,
        )

    def _use_model(self, model: str | None) -> None:
        if not model or model == self.conversation.model:
            return
        self.conversation.model = model
        self._show_model_in_header()
        if self.conversation.messages:
            self._persist()
        self.notify(f"Model for this conversation: {make_safe(model)}", timeout=3)

    def action_edit_system_prompt(self) -> None:
        """F3: set or edit this conversation's system prompt, or pick a preset."""
        self.app.push_screen(
            SystemPromptScreen(self.conversation.system_prompt or "", self.settings.system_prompts),
            self._use_system_prompt,
        )

    def _use_system_prompt(self, prompt: str | None) -> None:
        if prompt is None:
            return
        self.conversation.system_prompt = prompt.strip() or None
        if self.conversation.messages:
            self._persist()
        said = "cleared" if self.conversation.system_prompt is None else "set"
        self.notify(f"System prompt {said} for this conversation.", timeout=3)

    def action_search(self) -> None:
        """Ctrl+F: search every stored message."""
        if self.store is None:
            self.notify("History is off, so there is nothing to search.", severity="warning")
            return
        self.app.push_screen(SearchScreen(self.store), self._after_browsing)

    def _after_browsing(self, result: OpenConversation | tuple[int, ...] | None) -> None:
        deleted = result.deleted_ids if isinstance(result, OpenConversation) else result or ()
        if isinstance(result, OpenConversation):
            self.run_worker(self._open_conversation(result), group="send")
        elif self.conversation.id in deleted:
            self.action_new_conversation()

    async def _open_conversation(self, request: OpenConversation) -> None:
        await self._stop_reply()
        assert self.store is not None
        conversation = self.store.load_conversation(request.conversation_id)
        if conversation is None:
            self.notify("That conversation no longer exists.", severity="warning")
            return
        self.conversation = conversation
        self._show_model_in_header()
        await self.log_view.drop()
        views = self._show_history(request.message_id)
        self.status.show(f"Opened: {make_safe(conversation.title)}")
        self.prompt.focus()
        target = next(
            (
                v
                for v in views
                if getattr(v, "message", None) is not None and v.message.id == request.message_id
            ),
            None,
        )
        if target is not None:
            self.call_after_refresh(self.log_view.scroll_to_widget, target, top=True, animate=False)

    def action_export(self, format: str = "md") -> None:
        """Writes the open conversation to a private file beside the history database."""
        if self.store is None or self.conversation.id is None:
            self.notify("Nothing to export yet: send a prompt first.", severity="warning")
            return
        try:
            path = export_to_file(self.conversation, self.settings.db_path.parent, format)
        except OSError as error:
            self.notify(f"Export failed: {error}", severity="error")
            return
        self.notify(f"Exported to {path}", timeout=8)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    async def on_unmount(self) -> None:
        await self.backend.aclose()

"""The chat screen: a view of one `ChatSession`.

It shows the session's conversation (the log, the status line, the prompt) and turns keys
into session commands; everything that changes a conversation happens in the session,
which tells the screen what changed through its events. The events are applied in order
by one worker, so a view is never fed before it exists or after it was replaced.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Static

from tui.attachments import Attachment
from tui.chat.conversation import Conversation
from tui.chat.message import Message
from tui.chat.safe_text import make_safe
from tui.commands import Scope
from tui.gc_tuning import start_up_is_over
from tui.session import ChatSession
from tui.ui.bindings import bindings_for
from tui.ui.conversation_actions import ConversationActions
from tui.ui.frames import frame_or_input_pending, next_frame
from tui.ui.inline_height import keep_the_prompt_in_view
from tui.ui.message_keys import MessageKeys
from tui.ui.prompt_commands import PromptCommands, tell
from tui.ui.prompt_sending import PromptSending
from tui.ui.reply_presenter import ReplyPresenter
from tui.ui.session_follower import SessionFollower
from tui.ui.slash_commands import SlashCommand, parse_slash_command
from tui.ui.tool_approvals import attach_tools
from tui.ui.warm_up import warm_up
from tui.ui.widgets.conversation_log import ConversationLog
from tui.ui.widgets.key_footer import KeyFooter
from tui.ui.widgets.message_views import NoticeView
from tui.ui.widgets.prompt_input import PromptInput
from tui.ui.widgets.selectable_message import SelectableMessage
from tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:  # the welcome screen's, imported when it is shown
    from tui.local_probe import FoundServer, LocalServer

COMMON_CODE_LANGUAGES = ("", "python", "bash", "sh", "javascript", "typescript", "json")
"""Highlighters built in the background after start-up, so the first code block of a
reply does not hold up its frame (guessing a fence's language loads every lexer: 130 ms)."""
IDLE_BEFORE_WARMING = 1.0
"""Seconds without a reply streaming before those highlighters are built."""
NEED_A_MESSAGE = frozenset(
    {"select_messages", "copy_last_reply", "export", "previous_version", "next_version"}
)
"""Actions with nothing to act on in an empty conversation: neither the footer nor the
palette offers them there."""
NO_KEY_NOTICE = (
    "No API key is set, so requests to OpenAI will fail.\n"
    "Set one with  export OPENAI_API_KEY=sk-...  and restart, or use a local server:\n"
    "  tui-chat --base-url http://127.0.0.1:11434/v1 --model llama3.2   (Ollama)"
)


class ChatScreen(ConversationActions, PromptSending, Screen[None]):
    BINDINGS = bindings_for(Scope.CHAT)
    AUTO_FOCUS = "#prompt"
    """Textual's default focused the log first (its first focusable widget), and the prompt
    a moment later: the log's blur restyled every message in it, 7 ms of the first frame."""

    def __init__(
        self,
        session: ChatSession,
        *,
        initial_prompt: str | None = None,
        startup_notice: str | None = None,
        local_servers: Sequence[LocalServer] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self._local_servers = local_servers
        self._initial_prompt = initial_prompt
        self._startup_notice = startup_notice
        self._preload_started = False
        self._shown_before = False
        self._presenter: ReplyPresenter
        self.message_keys = MessageKeys(self)
        self.prompt_commands: PromptCommands
        self._waiting: tuple[str, list[Attachment]] | None = None
        """The waiting prompt as it was typed, with its attachments apart."""

    @property
    def conversation(self) -> Conversation:
        return self.session.conversation

    @property
    def is_streaming(self) -> bool:
        return self.session.is_streaming

    def compose(self) -> ComposeResult:
        yield Header()
        # A resumed conversation is part of the first frame, not mounted after it.
        yield ConversationLog(
            self.conversation, *self._notices(), unread=self.session.unread_earlier, id="log"
        )
        status = StatusLine("", id="status")
        self._presenter = ReplyPresenter(status)
        yield status
        yield Static("", id="queued")
        yield Static("", id="attachments")
        yield PromptInput(id="prompt")
        yield KeyFooter()

    @property
    def log_view(self) -> ConversationLog:
        return self.query_one("#log", ConversationLog)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one("#prompt", PromptInput)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    def _notices(self) -> list[Widget]:
        notices: list[Widget] = []
        if self._startup_notice:
            notices.append(NoticeView(self._startup_notice, classes="warning"))
        for notice in self.session.settings.notices:
            notices.append(NoticeView(notice, classes="warning"))
        if not self.session.settings.has_usable_key:
            notices.append(NoticeView(NO_KEY_NOTICE, classes="warning"))
        return notices

    def on_mount(self) -> None:
        self.title = "tui-chat"
        self._show_model_in_header()
        self.prompt.focus()
        self.prompt_commands = PromptCommands(
            self, self.prompt, self.query_one("#attachments", Static)
        )
        self.prompt_commands.show([])
        self.prompt_commands.image_limit = self.session.settings.image_max_bytes
        queued = self.query_one("#queued", Static)
        queued.display = False
        self._follower = SessionFollower(
            self,
            self.prompt,
            self.session,
            self.log_view,
            self._presenter,
            queued,
            self._details_changed,
            self._offer_fitting,
        )
        self.session.subscribe(self._follower)
        self.session.reply_end_barrier = lambda: next_frame(self)
        self.session.prefetch.busy = partial(frame_or_input_pending, self.app)
        self.session.read_the_rest()  # (before any command: each waits for it)
        keep_the_prompt_in_view(self, self.log_view)
        attach_tools(self.app, self.session)
        store = self.session.store
        if store is not None:
            with contextlib.suppress(sqlite3.Error):
                self.prompt.prompt_history = store.recent_prompts()
        settings = self.session.settings
        if settings.starts_on_the_welcome_screen:
            from tui.local_probe import USUAL_LOCAL_SERVERS
            from tui.ui.welcome_screen import WelcomeScreen

            servers = self._local_servers
            if servers is None:
                servers = USUAL_LOCAL_SERVERS
            welcome = WelcomeScreen(servers, settings.config_path)
            self.app.push_screen(welcome, self._use_local_server)
        self.call_after_refresh(start_up_is_over)  # collection back on after the first frame
        if self.conversation.messages:
            self.log_view.anchor(self.log_view.end_shown is None)
            self.call_after_refresh(self.log_view.fill)  # preloads once the view is full
        else:
            self.call_after_refresh(self._preload_when_shown)
        if self._initial_prompt:
            self._submit(self._initial_prompt)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Shown the first time, every widget was styled as it mounted: Textual styled the
        whole screen again (5 ms of the first frame). Later (back from a dialog, after a
        theme change) it does, as it must."""
        if not self._shown_before:
            self._shown_before = True
            event.refresh_styles = False

    def on_key(self, event: events.Key) -> None:
        """A character that reached the screen itself: typed while the app started, before
        the prompt had focus (Textual hands such keys to the screen), or with nothing
        focused. It goes to the prompt, where the user looks for it."""
        if (
            event.is_printable
            and event.character
            and self.focused in (None, self.prompt)
            and event.key not in self.active_bindings  # (a key of the user's keymap)
        ):
            event.stop()
            self.prompt.focus()
            # As typing does: the character replaces a selection, the cursor after it.
            typed = self.prompt.replace(
                event.character, *self.prompt.selection, maintain_selection_offset=False
            )
            self.prompt.move_cursor(typed.end_location)

    def on_paste(self, event: events.Paste) -> None:
        """A paste that reached the screen with nothing focused (made while the app
        started, before the prompt had focus) goes to the prompt, as keys do."""
        if self.focused is None:
            event.stop()
            self.set_focus(self.prompt)  # (at once: the paste bubbles back up from it)
            self.prompt.post_message(events.Paste(event.text))

    # Start-up work that must not delay the first frame -----------------------------------

    @on(ConversationLog.Filled)
    def _preload_when_shown(self) -> None:
        """Once the first screenful is drawn (see `warm_up`), and the conversation read
        whole: a thread busy beside the read of the rest made each of its rows wait for
        Python's lock (the read's steps took 90 ms instead of 3)."""
        if not self._preload_started:
            self._preload_started = True
            self.run_worker(self._preload_once_whole(), group="preload")

    async def _preload_once_whole(self) -> None:
        await self.session.read_whole()
        warm = partial(warm_up, lambda: self.is_streaming, lambda: self._presenter.last_ended)
        self.run_worker(warm, thread=True, group="preload")

    @on(ConversationLog.ReachedTop)
    async def _reached_top(self) -> None:
        await self.log_view.reached_top()

    @on(ConversationLog.ReachedBottom)
    async def _reached_bottom(self) -> None:
        await self.log_view.reached_bottom()

    def _details_changed(self) -> None:
        if self.message_keys.editing not in self.conversation.messages:
            self.message_keys.editing = None  # another conversation, or that prompt is gone
        self._show_model_in_header()

    def _show_model_in_header(self) -> None:
        settings = self.session.settings
        where = settings.endpoint_label
        if settings.profile:
            where = f"{settings.profile} ({where})"
        self.sub_title = make_safe(f"{self.conversation.model} · {where}")

    # The prompt -------------------------------------------------------------------------

    @on(PromptInput.Changed)
    def _typing(self) -> None:
        """Typing while a reply streams: the keys come first, the reply a moment later."""
        self._presenter.yield_to_typing()

    @on(PromptInput.PastedImagePath)
    def _pasted_image(self, event: PromptInput.PastedImagePath) -> None:
        """A pasted path to an image is attached (the path is not typed in)."""
        self.prompt_commands.attach(event.path)

    @on(PromptInput.LargePaste)
    def _large_paste(self, event: PromptInput.LargePaste) -> None:
        self.prompt_commands.attach_text("pasted text", event.text)

    @on(PromptInput.Submitted)
    def _submitted(self, event: PromptInput.Submitted) -> None:
        self._submit(event.text)

    def _submit(self, typed: str) -> None:
        command = parse_slash_command(typed)
        if isinstance(command, SlashCommand):
            self.prompt_commands.run(command)
            return
        text = command if isinstance(command, str) else typed
        self.prompt.remember(typed)
        if not (self.session.is_streaming and self.session.queued is not None):  # (refused)
            self.log_view.follow_the_end()  # (here, not when a queued prompt goes out later)
        typed_and_attached = (typed, list(self.prompt_commands.attachments))
        text, images = self.prompt_commands.with_attachments(text)
        editing, self.message_keys.editing = self.message_keys.editing, None
        self.run_worker(self._send(text, images, typed_and_attached, editing), group="send")

    def action_pick_image(self) -> None:
        """F8: an image to attach, picked from the folders (only images are shown)."""
        from tui.ui.image_picker_screen import ImagePickerScreen  # only when asked for

        def attach(path: str | None) -> None:
            if path:
                self.prompt_commands.attach(path)

        self.app.push_screen(ImagePickerScreen(), attach)

    def action_attach(self, path: str = "") -> None:
        """/file PATH: attach a text file to the next prompt (alone: remove them)."""
        self.prompt_commands.attach(path)

    # Commands -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows the keys that do something now: "Stop reply" only while a
        reply streams, a prompt waits for it, or an earlier prompt is being edited;
        "Retry" and "Messages" once there is a message to answer again or to pick. (The
        palette lists what this allows, too.)"""
        if action == "cancel":
            return (
                self._presenter.view is not None  # a reply shown streaming
                or self.session.is_compacting
                or self.session.queued is not None
                or self.message_keys.editing is not None
            )
        if action == "retry":
            return self.session.can_retry
        if action in NEED_A_MESSAGE:
            return bool(self.session.conversation.messages)
        return True

    def action_cancel(self) -> None:
        """Escape: stop the reply (its text stays) and take back a waiting prompt, or give
        up editing an earlier prompt."""
        busy = self.session.is_streaming or self.session.is_compacting
        if busy or self.session.queued is not None:
            self.run_worker(self._cancel(), group="send")
        elif self.message_keys.editing is not None:
            self.message_keys.editing = None
            self.prompt.clear()
            self.status.show("Edit cancelled")
        self.prompt.focus()

    async def _cancel(self) -> None:
        waiting = await self.session.cancel()
        if waiting is not None:
            self._give_back(*(self._waiting or (waiting, [])))
        self._waiting = None

    def action_retry(self) -> None:
        """Ctrl+R: regenerate the last reply; the old one stays a version."""
        self.run_worker(self.retry(None), group="send")

    async def retry(self, reply: Message | None) -> None:
        """Regenerates `reply` (the last message when None) as a new version."""
        if not await self.session.retry(reply):
            self.notify("Nothing to retry yet: send a prompt first.", severity="warning")

    def action_previous_version(self) -> None:
        """Alt+Left: the previous version of the selected message (or of the last one
        that has versions)."""
        self.run_worker(self._switch(-1), group="send")

    def action_next_version(self) -> None:
        self.run_worker(self._switch(+1), group="send")

    async def _switch(self, step: int) -> None:
        focused = self.app.focused
        selected = focused.message if isinstance(focused, SelectableMessage) else None
        if self.session.is_streaming:
            self.notify("A reply is streaming: wait for it, or stop it with Esc.", timeout=3)
        elif await self.session.switch(selected, step) is None:
            self.notify("No other version here.", timeout=2)

    def action_help(self) -> None:
        from tui.ui.help_screen import HelpScreen

        self.app.push_screen(HelpScreen(self, self.session.settings.keymap))

    def action_select_messages(self) -> None:
        """Ctrl+Up: move from the prompt into the log; Up/Down pick a message."""
        views = list(self.log_view.query(".message"))
        if not views:
            self.notify("No messages yet.", timeout=2)
            return
        views[-1].focus()

    def on_selectable_message_action_requested(
        self, event: SelectableMessage.ActionRequested
    ) -> None:
        self.message_keys.handle(event)

    # The welcome screen's pick ---------------------------------------------------------------

    def _use_local_server(self, found: FoundServer | None) -> None:
        """Switches to a server picked on the welcome screen (saved as a profile)."""
        if found is None:
            return
        from tui.ui.welcome_screen import settings_for_found_server

        settings, said = settings_for_found_server(self.session.settings, found)
        self.run_worker(self.session.use_server(settings), group="send")
        self.query(".warning").remove()
        tell(self, said)
        self.prompt.focus()

    async def on_unmount(self) -> None:
        """The screen's widgets are going: stop following the session, then let it save
        the reply in progress as stopped."""
        self.session.unsubscribe(self._follower)
        self.session.reply_end_barrier = None
        await self.session.close()

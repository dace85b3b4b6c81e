"""The Textual application: styles, global keys and the command palette's actions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import RenderableType
from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui.chat.message import Message
from tui.commands import COMMANDS, keys_of
from tui.config import Settings
from tui.crash_report import CrashReported, save_crash_report
from tui.gc_tuning import full_collections_between_frames
from tui.remembered import load_remembered, remember
from tui.session import ChatSession
from tui.store import Store, StoreUnavailable
from tui.tool_calls import make_tool_caller
from tui.ui.chat_screen import ChatScreen
from tui.ui.component_styles import share_component_styles
from tui.ui.frames import frame_or_input_pending
from tui.ui.hangup_watch import (
    end_the_process_soon,
    quit_on_hang_up_signal,
    the_terminal_is_gone,
    watch_for_hang_up,
)
from tui.ui.kept_frame import LaunchRows, rows_as_launched
from tui.ui.kept_layouts import keep_layouts, recall_kept_layouts
from tui.ui.kept_lines import draw_only_changed_scrollbar_rows, keep_drawn_lines_when_height_changes
from tui.ui.parsed_styles import keep_parsed_styles, recall_parsed_styles, remember_parsed_styles
from tui.ui.session_follower import ReplySettled
from tui.ui.strip_caches import strip_caches_made_when_first_used, strip_caches_without_self_cycles
from tui.ui.terminal_scrolling import scroll_with_the_terminal
from tui.ui.textual_workarounds import (
    focus_without_repainting_the_screen,
    index_tall_regions_once,
    lay_out_once_per_frame,
    mark_only_cached_lines_dirty,
    render_only_the_rows_drawn,
)
from tui.ui.unsaved_screen import UnsavedChangesScreen  # (quitting must not fail on an import)
from tui.ui.widgets.conversation_log import ConversationLog
from tui.ui.widgets.message_views import AssistantMessageView
from tui.ui.widgets.rendered_markdown import RenderedMarkdown
from tui.ui.widgets.reply_body import ReplyBody

if TYPE_CHECKING:
    from tui.local_probe import LocalServer

mark_only_cached_lines_dirty()
index_tall_regions_once()
strip_caches_without_self_cycles()
strip_caches_made_when_first_used()
lay_out_once_per_frame()
keep_drawn_lines_when_height_changes(AssistantMessageView, ReplyBody, RenderedMarkdown)
draw_only_changed_scrollbar_rows()
scroll_with_the_terminal(ConversationLog)
render_only_the_rows_drawn()
focus_without_repainting_the_screen()
share_component_styles(RenderedMarkdown)
remember_parsed_styles()


ROWS_TAKEN_AFTER = 1.0
"""Seconds from the start to taking the rows the next launch paints (`kept_frame`), in
case the terminal goes before the app quits: time for the replies' code to be drawn
highlighted."""


class ChatApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "tui-chat"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        initial_prompt: str | None = None,
        *,
        resume_id: int | None = None,
        continue_last: bool = False,
        local_servers: Sequence[LocalServer] | None = None,
    ) -> None:
        """`local_servers`: where the welcome screen looks for a server (None: the usual
        ports)."""
        super().__init__()
        recall_parsed_styles(settings.db_path.parent)  # before any CSS is parsed
        recall_kept_layouts(settings.db_path.parent)  # before any reply is laid out
        self.set_keymap(dict(settings.keymap))
        self._local_servers = local_servers
        self.settings = settings
        self._initial_prompt = initial_prompt
        self._resume_id = resume_id
        self._continue_last = continue_last
        self._collections_as_before: Callable[[], None] = lambda: None
        self._hung_up = False
        self._on_a_terminal = False
        """Whether the app draws on a terminal (one that may go away), once mounted."""
        self._path_when_rows_taken: list[Message] | None = None
        """The conversation's path as the rows were taken (a new list at every change to
        the tree: a version switched, a message added or deleted)."""
        self.rows_for_next_launch: LaunchRows | None = None
        """The rows a launch reopening the conversation would draw first, as last seen (a
        second after the start, after each reply, and as the app quits): kept once it
        has ended."""
        self.session: ChatSession | None = None
        """The chat's session, once the screen is made (inline mode prints its
        conversation after the app has gone)."""

    def _handle_exception(self, error: Exception) -> None:
        """Textual prints a traceback with local variables (the API key among them) for an
        unhandled error; hand it a `CrashReported` instead, whose rich form is one sentence
        and the path of a scrubbed report. Test pilots still re-raise it.

        A write to a terminal that has gone is no crash (inline, Textual writes to it as
        the app ends): nobody is there to tell, and the hang-up saves and quits."""
        if isinstance(error, OSError) and self._on_a_terminal and the_terminal_is_gone():
            if not self._hung_up and self.is_running:
                self.run_worker(self._hang_up(), group="hang-up")
            return
        if not isinstance(error, CrashReported):
            report = save_crash_report(error, self.settings.db_path.parent, [self.settings.api_key])
            crash = CrashReported(report)
            crash.__cause__ = error
            error = crash
        super()._handle_exception(error)

    def on_mount(self) -> None:
        """The theme last picked in the app wins over the config file's, which wins over
        Textual's default; every pick (Ctrl+P → Change theme) is remembered."""
        folder = self.settings.db_path.parent
        picked = load_remembered(folder).get("theme")
        configured = self.settings.theme
        if isinstance(picked, str) and picked in self.available_themes:
            self.theme = picked
        elif configured and configured in self.available_themes:
            self.theme = configured
        elif configured:
            self.notify(f"Unknown theme {configured!r} in the config file.", severity="warning")
        self.theme_changed_signal.subscribe(self, lambda theme: remember(folder, theme=theme.name))
        if not self.is_headless:
            self._on_a_terminal = not the_terminal_is_gone()
            watch_for_hang_up(self._quit_on_hang_up)
            quit_on_hang_up_signal(lambda: self.run_worker(self._hang_up(), group="hang-up"))
        self._collections_as_before = full_collections_between_frames(
            asyncio.get_running_loop(), busy=lambda: frame_or_input_pending(self)
        )
        self.call_after_refresh(keep_parsed_styles, folder)  # what the first frame needed
        self.call_after_refresh(self._keep_layouts)  # and the replies it showed
        self.set_timer(ROWS_TAKEN_AFTER, self._keep_rows)  # the rows a hang-up ends with

    def exit(
        self,
        result: None = None,
        return_code: int = 0,
        message: RenderableType | None = None,
    ) -> None:
        """Every way out (Ctrl+Q, a hang-up, a command) ends here while the replies are
        still laid out: the end of the conversation is kept for the next launch."""
        self._keep_layouts(at_exit=True)
        self._keep_rows()
        with contextlib.suppress(LookupError):
            if self.chat.conversation.messages is not self._path_when_rows_taken:
                self.rows_for_next_launch = None  # (changed since, and not taken again)
        super().exit(result, return_code, message)

    def _keep_layouts(self, *, at_exit: bool = False) -> None:
        """The replies a launch would show first, as laid out now (`kept_layouts`). A
        cache: whatever goes wrong, the app goes on (or quits) without it."""
        chat = next(
            (screen for screen in self.screen_stack if isinstance(screen, ChatScreen)), None
        )
        if chat is None or not chat.is_mounted:
            return
        with contextlib.suppress(Exception):
            runs = chat.log_view.runs_at_end()
            if runs is not None:  # (not known: the file may still hold them as they are)
                keep_layouts(self.settings.db_path.parent, runs, at_exit=at_exit)

    def _keep_rows(self) -> None:
        """The screen's rows, for the next launch to paint before Textual loads
        (`kept_frame`): only from a full screen on a terminal that is still there (once
        it has gone, Textual lays the screen out at a size of its own), so the rows a
        hang-up ends with are those seen last."""
        if not self._on_a_terminal or self.is_inline or the_terminal_is_gone():
            return
        with contextlib.suppress(Exception):  # a cache: the app quits without it
            rows = rows_as_launched(self)
            if rows is not None:
                self.rows_for_next_launch = rows
                self._path_when_rows_taken = self.chat.conversation.messages

    def on_reply_settled(self, _: ReplySettled) -> None:
        """The rows a hang-up would end with, after this reply (`_keep_rows`)."""
        self._keep_rows()

    def on_unmount(self) -> None:
        self._collections_as_before()
        keep_parsed_styles(self.settings.db_path.parent, at_exit=True)  # and the footer's

    def _quit_on_hang_up(self) -> None:
        """From the watch's thread."""
        with contextlib.suppress(RuntimeError):  # the app already ended
            self.call_from_thread(lambda: self.run_worker(self._hang_up(), group="hang-up"))

    async def _hang_up(self) -> None:
        """The terminal is gone: one more try at anything unsaved, then quit (nobody is
        there to answer the dialog Ctrl+Q would show). Once: the signal and the watch
        both tell of one hang-up."""
        if self._hung_up:
            return
        self._hung_up = True
        end_the_process_soon()
        with contextlib.suppress(LookupError):  # no conversation open yet (welcome)
            saver = self.chat.session.saver
            if saver.unsaved:
                await saver.flush()
        self.exit()

    async def action_quit(self) -> None:
        """Quits, unless changes have not reached the history file: then one more try, and
        if that fails too, the user decides (write them to a file, quit, or stay)."""
        if isinstance(self.screen, UnsavedChangesScreen):
            self.screen.dismiss(True)  # Ctrl+Q again, in the dialog: quit without them
            return
        saver = self.chat.session.saver
        if saver.unsaved and not await saver.flush():
            dialog = UnsavedChangesScreen(list(saver.held), saver.reason)
            self.push_screen(dialog, self._quit_if_asked)
            return
        self.exit()

    def _quit_if_asked(self, quit: bool | None) -> None:
        if quit:
            self.exit()

    def get_default_screen(self) -> Screen:
        store, notice = open_store(self.settings)
        resume = None
        if store is not None:
            wanted = self._resume_id
            if wanted is None and self._continue_last:
                wanted = store.latest_conversation_id()
            if wanted is not None:
                # The end of its path is the first frame; the rest is read after it.
                resume = store.read_path_end(wanted)
                if resume is None:
                    notice = f"There is no conversation {wanted}; this is a new one."
        path = self.settings.db_path
        session = ChatSession(
            self.settings,
            store,
            conversation=resume.conversation if resume is not None else None,
            reopen_store=lambda: Store.open(path, busy_timeout=APP_BUSY_TIMEOUT),
            tools=make_tool_caller(self.settings),
            unread_earlier=resume.earlier if resume is not None else 0,
        )
        self.session = session
        return ChatScreen(
            session,
            initial_prompt=self._initial_prompt,
            startup_notice=notice,
            local_servers=self._local_servers,
        )

    @property
    def chat(self) -> ChatScreen:
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                return screen
        raise LookupError("no chat screen")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, then the chat commands from the one table that do
        something now (as the footer offers them), each with the keys that run it."""
        yield from super().get_system_commands(screen)
        from tui.ui.help_screen import readable_key

        chat = self.chat
        for command in COMMANDS:
            _, action_name, parameters = parse_action(command.action)
            if not command.palette or not chat.check_action(action_name, parameters):
                continue
            keys = keys_of(command, self.settings.keymap)
            shown = f" ({', '.join(readable_key(key) for key in keys)})" if keys else ""
            yield SystemCommand(
                command.title, command.help + shown, partial(chat.run_action, command.action)
            )


APP_BUSY_TIMEOUT = 0.25
"""Seconds a write waits on another process's lock before it is held and retried in the
background: the UI froze for 5 s on a lock before."""


def open_store(settings: Settings) -> tuple[Store | None, str | None]:
    """Opens the history; if it is in trouble (full disk, lock, permissions) the app still
    runs, keeps every conversation in memory, and writes them once the file can take them."""
    try:
        store = Store.open(settings.db_path, busy_timeout=APP_BUSY_TIMEOUT)
    except StoreUnavailable as error:
        return None, (
            f"The history at {settings.db_path} cannot be used now: {error.reason}. Nothing "
            "is lost: this conversation is kept and saved as soon as the file can take it."
        )
    return store, store.notice

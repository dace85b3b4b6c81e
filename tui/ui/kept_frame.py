"""The rows a launch shows first, kept from the last run and painted before Textual loads.

`tui-chat --continue` showed the conversation's end 0.43 s after it was started, in tmux at
120x40; Textual alone (Python, its imports and a frame of one line) takes 0.30 s there, and
the same screen made of Textual's stock widgets 0.34 s (benchmarks/README.md). So the app
keeps the rows a launch reopening the conversation would draw first (the status line
emptied, as the escape sequences Textual wrote for them), and the next launch that
reopens that conversation, unchanged, at the same terminal size, look and code paints them
at once, before Textual is imported. Textual's first frame, drawn over every cell, replaces
them a moment later with the same text. Anything else paints nothing.

The rows are taken when the screen is laid out as a launch lays it out (the log at its end,
the prompt empty and focused, the footer's keys built, nothing streaming, queued, attached
or notified): a second after the launch and after each reply, and as the app quits (not
once the terminal has gone: Textual lays the screen out at a size of its own then). They
are kept once the app has ended, and only if the history then holds the conversation as
they show it. The file holds conversation text: private, beside the history, read only
when only the user can have written it (`tui.ui.kept_pickles`); it goes when a message
or conversation is deleted. Nothing here imports Textual at once: the painting
runs before it loads.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.remembered import load_remembered
from tui.store_peek import ConversationState, conversation_state, state_shows
from tui.ui.kept_pickles import Fingerprint, files_fingerprint, read_kept, write_kept

if TYPE_CHECKING:
    from textual.strip import Strip

    from tui.config import Settings
    from tui.ui.app import ChatApp

FILE_NAME = "first-rows.pickle"

ENTER = "\x1b[?1049h\x1b7\x1b[?25l\x1b[?2026h"
"""The alternate screen (as Textual's own, which enters it again), the cursor kept where
the shell left it, hidden, and the rows drawn as one update where the terminal can."""
AFTER_ROWS = "\x1b[0m\x1b[?2026l\x1b8"
"""Back to the shell's cursor position: entering the alternate screen again (Textual)
saves it, in some terminals, and leaving restores what was saved."""
LEAVE = "\x1b[?1049l\x1b[?25h"
"""Undoes `ENTER`, when Textual never took the terminal over."""

_LOOK_VARIABLES = ("TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM")
"""The environment that decides how Textual writes colours (with every TEXTUAL_*)."""

Size = tuple[int, int]
FrameKey = tuple[object, ...]


def frame_key(settings: Settings, state: ConversationState, size: Size) -> FrameKey:
    """What the rows depend on besides the code: the conversation as stored, the terminal's
    size and kind, the header's words, the notices atop the log and the theme the app will
    pick."""
    environment = tuple(
        sorted(
            (name, value)
            for name, value in os.environ.items()
            if name in _LOOK_VARIABLES or name.startswith("TEXTUAL")
        )
    )
    remembered_theme = load_remembered(settings.db_path.parent).get("theme")
    header = (settings.endpoint_label, settings.profile)
    notices = (settings.notices, settings.has_usable_key)  # (shown atop the log)
    return (state, size, environment, header, notices, settings.theme, remembered_theme)


def _code_fingerprint() -> Fingerprint:
    """The interface's code and styles, and Textual's and Rich's releases (found, not
    imported): rows drawn by other code are not painted."""
    ours = Path(__file__).parent
    files = [path for pattern in ("*.py", "*.tcss", "widgets/*.py") for path in ours.glob(pattern)]
    for package, name in (("textual", "_compositor.py"), ("rich", "segment.py")):
        spec = find_spec(package)
        if spec is not None and spec.origin is not None:
            files += [Path(spec.origin), Path(spec.origin).with_name(name)]
    return files_fingerprint(path for path in files if path.exists())


class PaintedRows:
    """Rows painted before Textual: the terminal to hand over to it, or to take back if
    it never starts."""

    def __init__(self, terminal: int, keyboard: int, saved_modes: list[Any] | None) -> None:
        self._terminal = terminal
        self._keyboard = keyboard
        self._saved_modes = saved_modes
        self._handed_over = False

    def hand_over(self) -> None:
        """The terminal's modes as they were (Textual sets its own a moment later, and puts
        back those it found when it ends): call just before the app runs."""
        self._handed_over = True
        self._restore_modes()

    def take_back(self) -> None:
        """The shell's screen back, if the app never ran (once it has, its end did it)."""
        if not self._handed_over:
            self._handed_over = True
            self._restore_modes()
            with contextlib.suppress(OSError):
                os.write(self._terminal, LEAVE.encode())

    def _restore_modes(self) -> None:
        if self._saved_modes is not None:
            import termios

            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self._keyboard, termios.TCSANOW, self._saved_modes)
            self._saved_modes = None


def paint_kept_rows(settings: Settings, conversation_id: int | None) -> PaintedRows | None:
    """Paints the rows kept for conversation `conversation_id` (None: the latest, as
    `--continue` opens), if they are still right; None if nothing was painted."""
    if sys.platform == "win32" or sys.__stderr__ is None or sys.__stdin__ is None:
        return None
    try:
        terminal = sys.__stderr__.fileno()  # where Textual draws
        if not (os.isatty(terminal) and sys.__stdin__.isatty()):
            return None
        columns, rows = os.get_terminal_size(terminal)
    except (OSError, ValueError):
        return None
    state = conversation_state(settings.db_path, conversation_id)
    if state is None:
        return None
    kept = read_kept(settings.db_path.parent, FILE_NAME, _code_fingerprint())
    if not (isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[1], str)):
        return None
    if kept[0] != frame_key(settings, state, (columns, rows)):
        return None
    keyboard = sys.__stdin__.fileno()
    painted = PaintedRows(terminal, keyboard, _keys_kept_for_the_app(keyboard))
    try:
        _write_all(terminal, f"{ENTER}{kept[1]}{AFTER_ROWS}".encode(errors="replace"))
    except OSError:
        painted.take_back()
        return None
    return painted


def _write_all(terminal: int, data: bytes) -> None:
    while data:
        data = data[os.write(terminal, data) :]


def _keys_kept_for_the_app(keyboard: int) -> list[Any] | None:
    """Keys typed while the app loads wait for it as they are, as Textual will read them:
    not echoed over the rows, and Ctrl+Q and Ctrl+S not taken by the terminal for flow
    control (Ctrl+Q, quit, was lost). Ctrl+C still interrupts the load. Returns the modes
    as they were, to put back."""
    import termios

    try:
        saved = termios.tcgetattr(keyboard)
        waiting = termios.tcgetattr(keyboard)
        waiting[0] &= ~termios.IXON
        waiting[3] &= ~(termios.ECHO | termios.ICANON)
        termios.tcsetattr(keyboard, termios.TCSANOW, waiting)
    except (OSError, termios.error):
        return None
    return saved


@dataclass(frozen=True, slots=True)
class LaunchRows:
    """The rows a launch reopening a conversation draws first, and the conversation as
    they show it: its id, where its path ends, the path's length and its model."""

    conversation_id: int
    shows: tuple[object, ...]
    size: Size
    rows: str


def rows_as_launched(app: ChatApp) -> LaunchRows | None:
    """The screen's rows as the app draws them now (escape sequences), the status line
    emptied, if the next launch of this conversation at this size would draw the same;
    else None."""
    try:
        chat = app.chat
    except LookupError:
        return None
    from tui.ui.widgets.key_footer import KeyFooter

    log, prompt, conversation = chat.log_view, chat.prompt, chat.conversation
    path = conversation.messages
    laid_out_as_launched = (
        app.screen is chat
        and conversation.id is not None
        and path
        and path[-1].id is not None
        and not chat.is_streaming
        and app.focused is prompt
        and not prompt.text
        and not chat.query_one("#queued").size.height
        and not chat.query_one("#attachments").size.height
        and not app.screen.query("Toast")
        and chat.query_one(KeyFooter).shows_current_keys
        and log.end_shown is None
        and (log.scroll_y >= log.max_scroll_y or not log.max_scroll_y)  # (short: below 0)
    )
    if not laid_out_as_launched or conversation.id is None:
        return None
    strips = chat._compositor.render_strips()
    status = chat.status.region
    for row in range(status.y, status.bottom):  # its words at exit are not a launch's
        strips[row] = _emptied(strips[row])
    rows = "".join(
        f"\x1b[{row};1H{strip.render(app.console)}" for row, strip in enumerate(strips, 1)
    )
    shows = (path[-1].id, len(path) + chat.session.unread_earlier, conversation.model)
    size = chat._compositor.size  # (the rows', should the app's have changed meanwhile)
    return LaunchRows(conversation.id, shows, (size.width, size.height), rows)


def forget_kept_rows(folder: Path) -> None:
    """Removes the kept rows (a conversation or message they may show was deleted)."""
    with contextlib.suppress(OSError):
        (folder / FILE_NAME).unlink()


def _emptied(strip: Strip) -> Strip:
    """The row with its words gone: its last cell's background (the status line's padding)
    across it, as a launch draws the status line before it has anything to say."""
    from rich.segment import Segment
    from textual.strip import Strip

    last_cell = strip.crop(strip.cell_length - 1)
    style = next(iter(last_cell), Segment("")).style
    return Strip([Segment(" " * strip.cell_length, style)], strip.cell_length)


def keep_rows(settings: Settings, kept: LaunchRows) -> None:
    """Keeps the rows for the next launch, if the history holds the conversation as they
    show it: call once the app has ended, with everything saved, so that the state the
    next launch compares with is final."""
    state = conversation_state(settings.db_path, kept.conversation_id)
    if state is not None and state_shows(state) == kept.shows:
        key = frame_key(settings, state, kept.size)
        write_kept(settings.db_path.parent, FILE_NAME, _code_fingerprint(), (key, kept.rows))

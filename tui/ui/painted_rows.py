"""The kept rows (`tui.ui.kept_frame`) painted on the terminal before Textual loads, and
the terminal handed over to Textual once it starts, or taken back if it never does.

Painted on the alternate screen, as Textual draws, with the shell's cursor position kept
for the end. While the app loads, keys typed wait for it unechoed (over the rows) and as
Textual will read them, so that Ctrl+Q, Ctrl+S, Ctrl+Z and Enter reach it as keys; Ctrl+C
still interrupts the load. Textual's driver then starts over the rows without entering
the alternate screen again (`tui.ui.painted_driver`) and, as it ends, puts back the
terminal's modes as the shell had them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any

from tui.ui.kept_frame import kept_rows_for

if TYPE_CHECKING:
    from tui.config import Settings

ENTER = "\x1b[?1049h\x1b7\x1b[?25l\x1b[?2026h"
"""The alternate screen, the cursor's place on it kept (where the shell left it), the
cursor hidden, and the rows drawn as one update where the terminal can."""
AFTER_ROWS = "\x1b[0m\x1b[?2026l\x1b8"
"""Back to the shell's cursor position: in some terminals, leaving the alternate screen
restores the cursor saved by the last entering of it."""
LEAVE = "\x1b[0m\x1b[?2026l\x1b[?1049l\x1b[?25h"
"""Undoes `ENTER` (also if its rows were cut short), when Textual never took over."""


class PaintedRows:
    """Rows painted before Textual: the terminal to hand over to it, or to take back if
    it never starts."""

    def __init__(self, terminal: int, keyboard: int, shell_modes: list[Any] | None) -> None:
        self._terminal = terminal
        self._keyboard = keyboard
        self._shell_modes = shell_modes
        self.handed_over = False

    def taken_over(self) -> list[Any] | None:
        """Textual's driver has the terminal: the modes the shell had, for it to put back
        when it ends (it found the loading's own)."""
        self.handed_over = True
        return self._shell_modes

    def hand_over(self) -> None:
        """For a driver that does not take over (`tui.ui.painted_driver`): the shell's modes
        back just before the app runs, for Textual to find and put back."""
        self.handed_over = True
        self._restore_modes()

    def take_back(self) -> None:
        """The shell's screen and modes back, if Textual never took the terminal over (once
        it has, its end does that)."""
        if not self.handed_over:
            self.handed_over = True
            self._restore_modes()
            with contextlib.suppress(OSError):
                os.write(self._terminal, LEAVE.encode())

    def _restore_modes(self) -> None:
        if self._shell_modes is not None:
            import termios

            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self._keyboard, termios.TCSANOW, self._shell_modes)


def paint_kept_rows(settings: Settings, conversation_id: int | None) -> PaintedRows | None:
    """Paints the rows kept for conversation `conversation_id` (None: the latest, as
    `--continue` opens), if they are still right; None if nothing was painted."""
    if sys.platform == "win32" or sys.__stderr__ is None or sys.__stdin__ is None:
        return None
    try:
        terminal = sys.__stderr__.fileno()  # where Textual draws
        keyboard = sys.__stdin__.fileno()
        if not (os.isatty(terminal) and os.isatty(keyboard)):
            return None
        size = shutil.get_terminal_size()  # (as Textual's driver finds it)
    except (OSError, ValueError):
        return None
    try:
        rows = kept_rows_for(settings, conversation_id, (size.columns, size.lines))
    except Exception:  # a cache: whatever goes wrong, the app starts as it would without
        return None
    if rows is None:
        return None
    import termios

    try:
        painted = PaintedRows(terminal, keyboard, termios.tcgetattr(keyboard))
    except (OSError, termios.error):
        return None
    try:
        _keys_kept_for_the_app(keyboard)
        _write_all(terminal, f"{ENTER}{rows}{AFTER_ROWS}".encode(errors="replace"))
    except BaseException as error:  # Ctrl+C halfway through too: the shell's screen back
        painted.take_back()
        if isinstance(error, OSError):
            return None
        raise
    return painted


def _write_all(terminal: int, data: bytes) -> None:
    while data:
        data = data[os.write(terminal, data) :]


def _keys_kept_for_the_app(keyboard: int) -> None:
    """Sets the modes keys typed while the app loads wait in: as Textual's (not echoed
    over the rows; Ctrl+Q and Ctrl+S not taken for flow control, Enter not made a new
    line, nothing taken by line editing), but Ctrl+C still interrupts, and Ctrl+Z and
    Ctrl+\\ are keys (not a stopped or killed process over the rows)."""
    import termios

    with contextlib.suppress(termios.error):
        waiting = termios.tcgetattr(keyboard)
        waiting[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR)
        waiting[0] &= ~termios.IGNCR
        waiting[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)
        disabled = bytes([_disabled_character(keyboard)])
        waiting[6][termios.VSUSP] = waiting[6][termios.VQUIT] = disabled
        termios.tcsetattr(keyboard, termios.TCSANOW, waiting)


def _disabled_character(keyboard: int) -> int:
    """The value that turns a special character off (0 on Linux, 255 on macOS)."""
    try:
        return os.fpathconf(keyboard, "PC_VDISABLE") & 0xFF
    except (OSError, ValueError):
        return 0 if sys.platform == "linux" else 0xFF

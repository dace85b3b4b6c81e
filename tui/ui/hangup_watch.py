"""Quits the normal way when the terminal goes away, whether it tells the app or not.

A terminal that closes normally sends SIGHUP, whose default is to kill the process where it
stands: a reply streaming then was found cut off at the next start, and what is kept for
the next launch (the replies laid out) was not written. It saves what is unsaved and quits
instead (no dialog: nobody is there to answer it). And whatever the dead terminal does to
Textual then (inline, its input thread waited for good; full screen, the SIGCONT that
follows the hang-up restarts its output, which can block on the dead terminal), the process
ends `LAST_WORDS` seconds after the hang-up: never later than it would have died of it plus
that, and no worse off (SQLite's writes are whole or not at all).

A terminal that goes away otherwise (the app started detached from it, `setsid`, a
harness, some ssh set-ups) leaves stdin at end of file, and Textual's input thread then
reads nothing in a tight loop: the app spun at a full core for as long as nobody killed it
(found with three orphans of a killed test run, 50 minutes each). A thread here waits, at
no cost, for the hang-up the kernel reports on the terminal, then quits the app the normal
way (what is unsaved is saved).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

LAST_WORDS = 3.0
"""Seconds a hung-up app has to save and quit before the process ends anyway."""


def watch_for_hang_up(quit_app: Callable[[], None]) -> None:
    """Calls `quit_app` (from another thread) once the terminal on stdin hangs up. Linux
    only: macOS's poll() does not work on terminals (it answers POLLNVAL at once)."""
    stdin = sys.__stdin__
    if not sys.platform.startswith("linux") or stdin is None or not stdin.isatty():
        return
    fileno = stdin.fileno()

    def wait() -> None:
        poller = select.poll()
        poller.register(fileno, 0)  # no input wanted: hang-ups are reported regardless
        while True:
            events = 0
            for _fd, happened in poller.poll():
                events |= happened
            if events & select.POLLNVAL:  # not a descriptor poll can watch: stop watching
                return
            if events & (select.POLLHUP | select.POLLERR):
                quit_app()
                return

    threading.Thread(target=wait, name="hang-up watch", daemon=True).start()


def quit_on_hang_up_signal(quit_app: Callable[[], object]) -> None:
    """Calls `quit_app` (on the event loop's thread) when SIGHUP comes, instead of dying
    of it. Where there is no SIGHUP (Windows), nothing."""
    hang_up = getattr(signal, "SIGHUP", None)
    if hang_up is None:
        return
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(hang_up, quit_app)


def end_the_process_soon() -> None:
    """Ends the process `LAST_WORDS` seconds from now, if it has not ended by then."""

    def end() -> None:
        time.sleep(LAST_WORDS)
        os._exit(0)

    threading.Thread(target=end, name="hung-up process's end", daemon=True).start()


def the_terminal_is_gone() -> bool:
    """Whether the terminal Textual draws on (stderr) has gone: a write to it then fails
    (EIO), which is no crash of the app's."""
    stream = sys.__stderr__
    try:
        return stream is None or not os.isatty(stream.fileno())
    except (OSError, ValueError):  # (a closed stream)
        return True

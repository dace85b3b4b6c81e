"""Asking the terminal questions before Textual starts, without answers going astray.

A terminal answers a query by typing the answer into the program's input. textual-image
waits 0.1 s for each answer; over ssh one can come later. Arriving while the terminal
echoes, it was printed over the shell (`^[_Gi=1;OK^[\\`); arriving after, it would have
been read by Textual as keys typed into the prompt. So the questions are asked with echo
off, and then one more that every terminal answers (DA1, "what are you"), with everything
up to its answer read and dropped.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

DA1_QUESTION = b"\x1b[c"
_DA1_ANSWER_END = re.compile(rb"\?[0-9;]*c")
LATE_ANSWER_WAIT = 1.0
"""The longest wait for the last answer (a terminal that never answers DA1 is rare)."""


@contextmanager
def quiet_terminal() -> Iterator[None]:
    """Echo and line editing off while the questions are asked; as before afterwards."""
    if sys.platform == "win32" or sys.__stdin__ is None:
        yield
        return
    import termios
    import tty

    stdin = sys.__stdin__.fileno()
    try:
        saved = termios.tcgetattr(stdin)
        tty.setcbreak(stdin, termios.TCSANOW)
    except (OSError, termios.error):
        yield
        return
    try:
        yield
    finally:
        termios.tcsetattr(stdin, termios.TCSANOW, saved)


def swallow_late_answers(timeout: float = LATE_ANSWER_WAIT) -> None:
    """Asks DA1 and reads, without showing it, everything the terminal sends up to its
    answer: late answers to earlier questions included. Call inside `quiet_terminal`."""
    if sys.platform == "win32" or sys.__stdin__ is None or sys.__stdout__ is None:
        return
    import select

    stdin = sys.__stdin__.fileno()
    try:
        os.write(sys.__stdout__.fileno(), DA1_QUESTION)
        seen = b""
        deadline = time.monotonic() + timeout
        while not _DA1_ANSWER_END.search(seen):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdin], [], [], left)[0]:
                return
            seen += os.read(stdin, 4096)
    except OSError:
        return

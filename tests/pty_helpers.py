"""The real program in a pseudo-terminal: what the tests that need a terminal share."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence


def start_in_terminal(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    size: tuple[int, int] = (100, 30),
    pixels: tuple[int, int] = (0, 0),
    typed: bytes = b"",
    controlling: bool = False,
) -> tuple[subprocess.Popen[bytes], int]:
    """`python -m tui *args` in a new pseudo-terminal of `size` cells (`pixels` wide and
    high, if the terminal tells), with `typed` already waiting in its input; returns the
    process and the terminal's side. The app gets no controlling terminal (no SIGHUP when
    the terminal side closes) unless `controlling`: then it is the terminal's session
    leader, as in a terminal window or over `ssh -t`, and the kernel hangs it up."""
    primary, secondary = pty.openpty()
    columns, rows = size
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, *pixels))
    if typed:
        os.write(primary, typed)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=dict(env),
        start_new_session=True,
        preexec_fn=_take_the_terminal if controlling else None,
    )
    os.close(secondary)
    return process, primary


def _take_the_terminal() -> None:
    """In the child, after `setsid`: its terminal (stdin) becomes its controlling one."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def read_until(primary: int, wanted: bytes, seen: bytearray, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{wanted!r} never appeared; last output: {bytes(seen[-400:])!r}")
        ready, _, _ = select.select([primary], [], [], 0.1)
        if ready:
            try:
                seen += os.read(primary, 65536)
            except OSError:
                return


def read_for(primary: int, seen: bytearray, seconds: float) -> None:
    """Whatever the program writes in the next `seconds`."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([primary], [], [], min(left, 0.05))
        if ready:
            try:
                seen += os.read(primary, 65536)
            except OSError:
                return


def quit_and_close(process: subprocess.Popen[bytes], primary: int) -> None:
    """Ctrl+Q, a wait for the app to end (killed if it does not), the terminal closed."""
    try:
        os.write(primary, b"\x11")  # Ctrl+Q
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)

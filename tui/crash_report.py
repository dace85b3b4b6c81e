"""What happens to an unexpected exception: details to a private file, one sentence on screen.

Textual's own handler prints a traceback with every frame's local variables, and those can
hold the API key and pieces of the conversation. The user gets a plain sentence and the
path of a report (made readable by them alone, with the key removed) to attach to a bug.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterable
from pathlib import Path

from tui.private_files import make_private_folder


class CrashReported(Exception):
    """Raised in place of an unexpected error once it has been written down; its rich
    form is what the terminal shows when the app exits."""

    def __init__(self, report: Path | None) -> None:
        super().__init__(str(report) if report else "no report written")
        self.report = report

    def __rich__(self) -> str:
        where = f"Details (for a bug report): {self.report}" if self.report else ""
        return (
            "tui-chat stopped after an internal error. Your conversations are saved; "
            "`tui-chat -c` reopens the last one.\n" + where
        )


def save_crash_report(
    error: BaseException, directory: Path, secrets: Iterable[str | None]
) -> Path | None:
    """Writes the traceback (no local variables) with secrets removed; None if it can't."""
    text = "".join(traceback.format_exception(error))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = directory / f"crash-{stamp}-{os.getpid()}.txt"
    try:
        make_private_folder(directory)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as report:
            report.write(text)
    except OSError:
        return None
    return path

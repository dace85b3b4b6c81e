"""Folders and files that hold conversations, keys or settings: readable by the user alone,
whatever the umask (with umask 000, `mkdir(parents=True)` made world-writable folders)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FOLDER = 0o700


def make_private_folder(folder: Path) -> None:
    """Creates `folder` and any missing parents as 0700; folders that already exist are
    left as they are (a home or a shared data folder is not ours to change)."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=PRIVATE_FOLDER)
        os.chmod(path, PRIVATE_FOLDER)  # mkdir's mode is cut by the umask; chmod's is not

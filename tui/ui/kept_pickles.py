"""Private pickles beside the history: work a launch would otherwise redo (Textual's parsed
CSS, `parsed_styles`; replies laid out, `kept_layouts`), kept between launches.

A pickle runs what it says when loaded, so one is read only when only the user can have
written it: the folder is the user's and nobody else may write to it, and the file is a
regular file of the user's, with one name, that nobody else may read or write. (Not on
Windows, whose modes say nothing of this: nothing is kept there.) A file is written as a
new file of its own (0600, a name nobody could have made first) renamed over the old, so
no other process's write, and no link planted, is written through. A file that is missing,
damaged or made for other code (its fingerprint differs) reads as nothing, and is written
again.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tui.private_files import make_private_folder

Fingerprint = tuple[tuple[str, int, int, int], ...]
"""Name, inode, size and modification time of each file the kept work depends on."""


def files_fingerprint(files: Iterable[Path]) -> Fingerprint:
    """What tells that code changed without importing `importlib.metadata` (12 ms at
    launch) for versions: its files' inodes, sizes and times."""
    stats = [(path, path.stat()) for path in sorted(files)]
    return tuple(
        (path.name, status.st_ino, status.st_size, status.st_mtime_ns) for path, status in stats
    )


def read_kept(folder: Path, name: str, fingerprint: Fingerprint) -> object | None:
    """What was kept in `folder / name` for code of this `fingerprint` (None: nothing
    usable, or not kept safely)."""
    if not kept_safely(folder):
        return None
    try:
        descriptor = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as file:
            status = os.fstat(file.fileno())
            if not (stat.S_ISREG(status.st_mode) and status.st_nlink == 1 and _private(status)):
                return None
            kept_for, kept = pickle.load(file)
    except Exception:  # missing, unreadable or damaged: made again, and written again
        return None
    return kept if kept_for == fingerprint else None


def write_kept(folder: Path, name: str, fingerprint: Fingerprint, kept: object) -> bool:
    """Keeps `kept` in `folder / name` for code of this `fingerprint`; True if written."""
    if not kept_safely(folder):
        return False
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        make_private_folder(folder)
        descriptor, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                pickle.dump((fingerprint, kept), file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial, folder / name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
        return True
    return False


def kept_safely(folder: Path) -> bool:
    """Whether only the user can have written the folder's files."""
    if not hasattr(os, "getuid"):
        return False
    try:
        return _private(folder.stat())
    except FileNotFoundError:
        return True  # not made yet: it will be made private, with the file
    except OSError:
        return False


def _private(status: os.stat_result) -> bool:
    """The user's, and nobody else may write it (a file: nor read it)."""
    allowed = 0o022 if stat.S_ISDIR(status.st_mode) else 0o077
    return status.st_uid == os.getuid() and not status.st_mode & allowed

"""Opening the history file, and telling a damaged file from a file in trouble.

Only a file SQLite itself calls "not a database", or malformed with a failing integrity
check, is damaged: that one is moved aside (never deleted) and a fresh one started. A full
disk, a lock held by another process, a read-only folder or missing permission is
trouble: the file is left exactly as it is, and the caller is told what is wrong and how
to fix it, so a healthy history is never set aside.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from tui.private_files import make_private_folder
from tui.store_schema import migrate

DAMAGED = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT"})


class StoreUnavailable(Exception):
    """The history cannot be used now (full disk, lock, permissions); nothing was moved.
    The message says what and where, and how to fix it."""

    def __init__(self, path: Path, error: BaseException) -> None:
        self.path = path
        self.reason = describe_trouble(error)
        super().__init__(f"{path}: {self.reason}")


def describe_trouble(error: BaseException) -> str:
    """Why a write or an open failed, in words that say what to do."""
    name = getattr(error, "sqlite_errorname", "")
    text = str(error)
    if name.startswith("SQLITE_FULL") or "disk is full" in text or "No space" in text:
        return "the disk is full; free some space (nothing is lost meanwhile)"
    if name.startswith("SQLITE_BUSY") or "locked" in text:
        return "the database is locked by another process"
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN", "SQLITE_AUTH")) or (
        isinstance(error, PermissionError)
    ):
        return f"it cannot be written ({text}); check the permissions of the file and folder"
    if isinstance(error, OSError):
        return f"{error.strerror or text}"
    return text


def open_history(path: Path, busy_timeout: float) -> tuple[sqlite3.Connection, str | None]:
    """The open, migrated connection, and a notice if a damaged file had to be set aside.
    Raises `StoreUnavailable` for any other trouble."""
    try:
        return _connect(path, busy_timeout), None
    except sqlite3.DatabaseError as error:
        if not is_damaged(path, error):
            raise StoreUnavailable(path, error) from error
    except OSError as error:
        raise StoreUnavailable(path, error) from error
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                source.rename(Path(f"{aside}{suffix}"))
        connection = _connect(path, busy_timeout)
    except (OSError, sqlite3.Error) as error:
        raise StoreUnavailable(path, error) from error
    notice = (
        f"The history database was damaged; it was kept as {aside} and a fresh one was started."
    )
    return connection, notice


def is_damaged(path: Path, error: sqlite3.DatabaseError) -> bool:
    """SQLite says "not a database", or "malformed" and its own integrity check agrees."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return True
    if name not in DAMAGED:
        return False
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=1.0)) as check:
            result = check.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as second:
        return getattr(second, "sqlite_errorname", "") in DAMAGED
    return result is None or result[0] != "ok"


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    make_private_folder(path.parent)
    if not path.exists():
        # Create the file private before SQLite writes a byte of conversation into it.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    connection = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")  # see Store.checkpoint
        migrate(connection)  # foreign keys off: a migration may rebuild a table
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("SELECT COUNT(*) FROM messages").fetchone()
    except BaseException:
        connection.close()
        raise
    connection.isolation_level = "DEFERRED"  # back to transactions, driven by `with`
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.chmod(f"{path}{suffix}", 0o600)
    return connection

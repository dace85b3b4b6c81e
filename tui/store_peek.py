"""A glance at the history without opening it as a store: which conversation a launch will
show and how it stands, read before the app loads (`tui.ui.kept_frame`).

Opening the store (its checks and migrations) waits for the app; this reads one row of a
file that may be busy, damaged or of another schema, and any trouble reads as "not
known", never as an error: the app opens the file properly a moment later and says what
is wrong with it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import NamedTuple


class ConversationState(NamedTuple):
    """What differs whenever what a conversation shows first may: which file and
    conversation, its title, model and endpoint, its last change, and where its path ends
    (its last message, the path's length)."""

    database: str
    conversation_id: int
    title: str
    model: str | None
    endpoint: str | None
    updated_at: float
    path_end_id: int
    path_length: int

    @property
    def shown(self) -> tuple[object, ...]:
        """Where the path ends, how long it is and the model: what a screen showing the
        conversation can tell of it (`tui.ui.kept_frame.LaunchRows`)."""
        return (self.path_end_id, self.path_length, self.model)


_STATE = (
    "SELECT id, title, model, endpoint, updated_at, path_end_id, path_length FROM conversations"
)
_LATEST = f"{_STATE} ORDER BY updated_at DESC, id DESC LIMIT 1"
_ONE = f"{_STATE} WHERE id = ?"


def conversation_state(db_path: Path, conversation_id: int | None) -> ConversationState | None:
    """The state of conversation `conversation_id`, or of the latest (None), as the file
    holds it now; None if there is none or it cannot be read at once, or its path's end is
    not written down (another program changed it since)."""
    if not db_path.is_file():
        return None
    try:
        # (Read-only would leave the -wal and -shm files behind.)
        uri = f"{db_path.resolve().as_uri()}?mode=rw"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=0.05)) as connection:
            if conversation_id is None:
                row = connection.execute(_LATEST).fetchone()
            else:
                row = connection.execute(_ONE, (conversation_id,)).fetchone()
    except (sqlite3.Error, OSError, ValueError):
        return None
    if row is None or row[5] is None:
        return None
    return ConversationState(str(db_path.resolve()), *row)

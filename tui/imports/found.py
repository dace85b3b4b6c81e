"""What a reader found in a source: conversations ready to store, and what it skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tui.chat.conversation import Conversation


class ImportFailed(Exception):
    """A source that cannot be read as its format: names the file and the place."""


@dataclass
class Found:
    format: str
    conversations: list[tuple[str, Conversation, float]] = field(default_factory=list)
    """(the source's own id, the conversation, when it was last updated)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Why messages (or conversations) were left out, and how many."""


def utc_timestamp(value: object) -> float | None:
    """An ISO date and time as other clients store it (`YYYY-MM-DD HH:MM:SS[.f]`, SQLite's
    CURRENT_TIMESTAMP, UTC unless it says otherwise); None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

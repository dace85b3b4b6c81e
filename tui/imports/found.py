"""What a reader found in a source: conversations ready to store, and what it skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tui.chat.conversation import Conversation
from tui.chat.message import Role

ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}
"""The roles every source's text messages come in; others (system, tool) are skipped."""


class ImportFailed(Exception):
    """A source that cannot be read as its format: names the file and the place."""


@dataclass
class Found:
    format: str
    conversations: list[tuple[str, Conversation, float]] = field(default_factory=list)
    """(the source's own id, the conversation, when it was last updated)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Why messages (or conversations) were left out, and how many."""

    def add(self, source_id: str, conversation: Conversation, updated: float | None = None) -> None:
        """Keeps a conversation read from the source (one with no messages is counted as
        skipped); `updated` defaults to its latest message's time."""
        if not conversation.root.children:
            self.skipped["conversations with no messages"] += 1
            return
        if updated is None:
            updated = max(message.created_at for message in conversation.all_messages())
        self.conversations.append((source_id, conversation, updated))


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

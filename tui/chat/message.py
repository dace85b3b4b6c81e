"""One message of a conversation, with the status and figures of how it was produced."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    """Where a message is in its life; stored as text, so values never change."""

    STREAMING = "streaming"
    DONE = "done"
    STOPPED = "stopped"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    """The process died while this reply streamed; found on the next start."""


@dataclass(slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True, eq=False)
class Message:
    role: Role
    content: str = ""
    reasoning: str = ""
    status: MessageStatus = MessageStatus.DONE
    error: str | None = None
    finish_reason: str | None = None
    model: str | None = None
    usage: Usage | None = None
    time_to_first_token: float | None = None
    duration: float | None = None
    created_at: float = field(default_factory=time.time)
    id: int | None = None
    """Row id once stored; None until the store has seen it."""
    replaced: bool = False
    """An earlier (or later) version of a regenerated reply that is not the one shown."""
    versions: list[Message] | None = field(default=None, repr=False)
    """All versions of this reply, oldest first, shared by each of them; None if only one."""

    def detached_copy(self) -> Message:
        """The same message as a new, unstored one with no versions: for keeping a copy of
        a conversation branch."""
        return replace(self, id=None, versions=None, replaced=False)

    @property
    def is_final(self) -> bool:
        return self.status is not MessageStatus.STREAMING

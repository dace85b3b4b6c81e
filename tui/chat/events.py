"""What a streaming reply can tell its consumer, as plain typed values.

The backend turns wire chunks into these so that the UI and the pipe mode never see
openai or HTTP types, and tests can reason about a stream without a network.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.chat.message import Usage


@dataclass(frozen=True, slots=True)
class ContentDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class UsageReport:
    usage: Usage


@dataclass(frozen=True, slots=True)
class Finished:
    reason: str | None
    """The server's finish_reason: "stop", "length", "content_filter", or None if unsaid."""


@dataclass(frozen=True, slots=True)
class ChatError:
    """A failure told the way a person can act on it: what happened, and what to do."""

    title: str
    detail: str = ""
    hint: str = ""
    retryable: bool = True

    def one_line(self) -> str:
        parts = [self.title]
        if self.detail:
            parts.append(self.detail)
        if self.hint:
            parts.append(self.hint)
        return " — ".join(parts)


@dataclass(frozen=True, slots=True)
class Failed:
    error: ChatError


StreamEvent = ContentDelta | ReasoningDelta | UsageReport | Finished | Failed

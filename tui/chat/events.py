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
    chunks: int = 1
    """How many of the server's chunks this text came in (merged when they arrive together)."""


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str
    chunks: int = 1


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


@dataclass(frozen=True, slots=True)
class Retrying:
    """The request failed before any text arrived and will be sent again after `delay`:
    said out loud so that a user never waits on a silent retry."""

    error: ChatError
    delay: float
    attempt: int
    """The attempt about to start, counting the first request as 1."""
    attempts: int

    def describe(self) -> str:
        seconds = f"{self.delay:.1f}".removesuffix(".0")
        return (
            f"{self.error.title}; retrying in {seconds} s "
            f"(attempt {self.attempt} of {self.attempts})"
        )


StreamEvent = ContentDelta | ReasoningDelta | UsageReport | Finished | Failed | Retrying

"""Timing figures of one reply: time to first token, tokens per second, duration."""

from __future__ import annotations

from dataclasses import dataclass

from tui.chat.message import Message, Usage

RATE_AFTER_TOKENS = 10
RATE_AFTER_SECONDS = 0.5
"""A rate is shown once it means something: one token after a millisecond read as
"20907 tok/s"."""

FIGURE_SEPARATOR = " · "
"""Between the figures of a summary: where the status line may cut one that is too long."""


@dataclass
class ReplyStats:
    started: float
    first_token_at: float | None = None
    deltas: int = 0
    ended: float | None = None

    def on_token(self, now: float, chunks: int = 1) -> None:
        if self.first_token_at is None:
            self.first_token_at = now
        self.deltas += chunks

    def finish(self, now: float) -> None:
        self.ended = now

    @property
    def time_to_first_token(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.started

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def rate(self, now: float) -> float:
        if self.first_token_at is None or now <= self.first_token_at:
            return 0.0
        return self.deltas / (now - self.first_token_at)

    def live_text(self, now: float) -> str:
        if self.first_token_at is None:
            return f"Waiting for the first token… {now - self.started:.1f} s  (Esc stops)"
        if self.deltas < RATE_AFTER_TOKENS or now - self.first_token_at < RATE_AFTER_SECONDS:
            return f"Streaming · {self.deltas} tokens  (Esc stops)"  # a rate would mean nothing
        return f"Streaming · {self.rate(now):.0f} tok/s · {self.deltas} tokens  (Esc stops)"

    def summary_text(self, message: Message, totals: tuple[Usage, int] | None = None) -> str:
        """How the reply went, then what the whole conversation has cost so far."""
        parts = [message.status.value]
        if self.time_to_first_token is not None:
            parts.append(f"first token {self.time_to_first_token:.2f} s")
        if self.duration is not None:
            parts.append(f"total {self.duration:.2f} s")
        generating = (
            self.ended - self.first_token_at
            if self.ended is not None and self.first_token_at is not None
            else 0.0
        )
        if message.usage is not None:
            usage = message.usage
            parts.append(f"{usage.prompt_tokens} in / {usage.completion_tokens} out tokens")
            if generating >= RATE_AFTER_SECONDS and usage.completion_tokens >= RATE_AFTER_TOKENS:
                parts.append(f"{usage.completion_tokens / generating:.0f} tok/s")
        elif self.deltas:
            parts.append(f"{self.deltas} chunks (server sent no usage)")
        if totals is not None:
            spent, unreported = totals
            if spent.prompt_tokens or spent.completion_tokens:
                note = f" (+{unreported} without usage)" if unreported else ""
                parts.append(
                    f"conversation {spent.prompt_tokens} in / {spent.completion_tokens} out{note}"
                )
        return FIGURE_SEPARATOR.join(parts)

"""One message of a conversation: its parts, its place in the tree, and how it was made."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from tui.chat.images import ImagePart
from tui.chat.parts import Part, ReasoningPart, TextPart, ToolCallPart, ToolResultPart

_Growing = TypeVar("_Growing", TextPart, ReasoningPart)


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


class Message:
    """A node of the conversation tree.

    `parent` is the message it follows (None at the top); `children` are the messages that
    follow it, oldest first: several when a reply was regenerated or a prompt edited, and
    `chosen` is the one on the path the user sees, which is also the history sent.
    """

    __slots__ = (
        "children",
        "chosen",
        "created_at",
        "duration",
        "error",
        "finish_reason",
        "id",
        "model",
        "parent",
        "parts",
        "role",
        "skipped_events",
        "status",
        "time_to_first_token",
        "usage",
    )

    def __init__(
        self,
        role: Role,
        content: str = "",
        *,
        reasoning: str = "",
        status: MessageStatus = MessageStatus.DONE,
        error: str | None = None,
        finish_reason: str | None = None,
        model: str | None = None,
        usage: Usage | None = None,
        time_to_first_token: float | None = None,
        duration: float | None = None,
        created_at: float | None = None,
        id: int | None = None,
        parts: list[Part] | None = None,
    ) -> None:
        self.role = role
        self.parts: list[Part] = parts if parts is not None else []
        self.status = status
        self.error = error
        self.finish_reason = finish_reason
        self.model = model
        self.usage = usage
        self.time_to_first_token = time_to_first_token
        self.duration = duration
        self.created_at = time.time() if created_at is None else created_at
        self.id = id
        """Row id once stored; None until the store has seen it."""
        self.parent: Message | None = None
        self.children: list[Message] = []
        self.chosen: Message | None = None
        self.skipped_events = 0
        """Events of this reply's stream that could not be read (said at its end; not
        stored: the gap is in the text either way)."""
        if reasoning:
            self.reasoning = reasoning
        if content:
            self.content = content

    def __repr__(self) -> str:
        return f"Message({self.role.value}, {self.content[:30]!r}, id={self.id})"

    @property
    def content(self) -> str:
        """The message's text: the prompt, or the answer without the reasoning (the text
        of each round of a reply that used tools, a blank line between them)."""
        texts = [part.text for part in self.parts if isinstance(part, TextPart)]
        return texts[0] if len(texts) == 1 else "\n\n".join(text for text in texts if text)

    @content.setter
    def content(self, text: str) -> None:
        for part in self.parts:
            if isinstance(part, TextPart):
                part.text = text
                return
        if text:
            self.parts.append(TextPart(text))

    @property
    def reasoning(self) -> str:
        return "".join(part.text for part in self.parts if isinstance(part, ReasoningPart))

    @reasoning.setter
    def reasoning(self, text: str) -> None:
        for part in self.parts:
            if isinstance(part, ReasoningPart):
                part.text = text
                return
        if text:  # thinking comes before the answer it led to
            first_text = next(
                (i for i, part in enumerate(self.parts) if isinstance(part, TextPart)),
                len(self.parts),
            )
            self.parts.insert(first_text, ReasoningPart(text))

    def add_text(self, text: str) -> None:
        """Appends streamed text to this round's answer (after the last tool result)."""
        part = self._this_rounds(TextPart)
        if part is None:
            self.parts.append(TextPart(text))
        else:
            _append(part, text)

    def add_reasoning(self, text: str) -> None:
        """Appends streamed thinking to this round's, which comes before its answer."""
        part = self._this_rounds(ReasoningPart)
        if part is not None:
            _append(part, text)
            return
        start = self._round_start()
        answer = next(
            (i for i in range(start, len(self.parts)) if isinstance(self.parts[i], TextPart)),
            len(self.parts),
        )
        self.parts.insert(answer, ReasoningPart(text))

    def _round_start(self) -> int:
        for index in range(len(self.parts) - 1, -1, -1):
            if isinstance(self.parts[index], ToolResultPart):
                return index + 1
        return 0

    def _this_rounds(self, kind: type[_Growing]) -> _Growing | None:
        for index in range(len(self.parts) - 1, self._round_start() - 1, -1):
            part = self.parts[index]
            if isinstance(part, kind):
                return part
        return None

    @property
    def images(self) -> list[ImagePart]:
        return [part for part in self.parts if isinstance(part, ImagePart)]

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [part for part in self.parts if isinstance(part, ToolCallPart)]

    def result_of(self, call: ToolCallPart) -> ToolResultPart | None:
        """The first result with the call's id after the call itself."""
        after = self.parts[next(i for i, p in enumerate(self.parts) if p is call) :]
        return next(
            (p for p in after if isinstance(p, ToolResultPart) and p.call_id == call.call_id),
            None,
        )

    def unanswered_calls(self) -> list[ToolCallPart]:
        """Calls with no result after them yet (a result answers the earliest waiting
        call with its id)."""
        waiting: list[ToolCallPart] = []
        for part in self.parts:
            if isinstance(part, ToolCallPart):
                waiting.append(part)
            elif isinstance(part, ToolResultPart):
                answered = next((c for c in waiting if c.call_id == part.call_id), None)
                if answered is not None:
                    waiting.remove(answered)
        return waiting

    @property
    def is_final(self) -> bool:
        return self.status is not MessageStatus.STREAMING

    @property
    def is_empty(self) -> bool:
        """Nothing arrived: a reply that failed or was stopped before its first word."""
        return not any(
            isinstance(part, ToolCallPart | ToolResultPart | ImagePart) or part.text
            for part in self.parts
        )


_growing = threading.Lock()
"""Held while a part's text is grown in place, when it reads empty for a moment."""


def _append(part: TextPart | ReasoningPart, text: str) -> None:
    """Adds `text` to the part's, in place when nothing else holds the old text. `part.text
    += text` copies the whole reply at every append (the part and the expression each hold
    it): 50 appends to a 50 MB reply took 1.0 s. Taken out of the part first, the string is
    held by a local alone, and CPython resizes it where it lies (0.08 s). Meanwhile the part
    reads empty: a thread that reads parts while a reply streams (a held conversation
    written by the saver's retry) takes them through `texts_of`, under the same lock."""
    with _growing:
        grown = part.text
        part.text = ""
        grown += text
        part.text = grown


def texts_of(parts: list[Part]) -> list[str]:
    """Each part's text, read whole even while another thread appends to one."""
    with _growing:
        return [part.text for part in parts]

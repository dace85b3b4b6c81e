"""What a message is made of: parts of different kinds, in the order they were produced.

A reply that used tools is one message of several rounds: the model's text and its tool
calls, the results of those calls, then the model's next text (and so on). Each kind has a
stable name, stored as text; text and reasoning grow by appending while they stream, a tool
part is stored whole (as JSON) whenever it changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from tui.chat.images import ImagePart


@dataclass(slots=True)
class TextPart:
    """What the user typed, or the answer the model wrote (Markdown)."""

    text: str = ""
    kind = "text"


@dataclass(slots=True)
class ReasoningPart:
    """The model's thinking, shown apart and never sent back to the model."""

    text: str = ""
    kind = "reasoning"


@dataclass(slots=True)
class ToolCallPart:
    """A call the model asked for: `name` as the model sent it (the API-safe name, see
    `tui.tools.naming`), `arguments` as the raw JSON text it streamed."""

    call_id: str
    name: str = ""
    arguments: str = ""
    kind = "tool_call"

    @property
    def text(self) -> str:
        return json.dumps({"id": self.call_id, "name": self.name, "arguments": self.arguments})

    @classmethod
    def from_text(cls, text: str) -> ToolCallPart:
        data = json.loads(text)
        return cls(str(data["id"]), str(data.get("name", "")), str(data.get("arguments", "")))


class ToolOutcome(StrEnum):
    """How a call ended; stored as text, so values never change."""

    RAN = "ran"
    TOOL_ERROR = "tool_error"
    """The tool ran and its server marked the result as an error."""
    FAILED = "failed"
    """It could not run: unknown tool, arguments not JSON, server down, crash, timeout."""
    DENIED = "denied"
    STOPPED = "stopped"
    """The user pressed Esc while it ran."""
    INTERRUPTED = "interrupted"
    """The app died while it ran (found on the next start)."""


@dataclass(slots=True)
class ToolResultPart:
    """What came back from a call (or why nothing did), matched to it by `call_id`."""

    call_id: str
    outcome: ToolOutcome
    output: str = ""
    kind = "tool_result"

    @property
    def text(self) -> str:
        return json.dumps({"id": self.call_id, "outcome": self.outcome, "output": self.output})

    @classmethod
    def from_text(cls, text: str) -> ToolResultPart:
        data = json.loads(text)
        outcome = data.get("outcome")
        known = outcome in ToolOutcome.__members__.values()
        return cls(
            str(data["id"]),
            ToolOutcome(outcome) if known else ToolOutcome.FAILED,
            str(data.get("output", "")),
        )


Part = TextPart | ReasoningPart | ToolCallPart | ToolResultPart | ImagePart
APPENDED_KINDS = frozenset({TextPart.kind, ReasoningPart.kind})
"""Kinds whose text only grows while a reply streams (saved as appended pieces)."""


def part_of_kind(kind: str, text: str) -> Part | None:
    """A stored part back as an object; None for a kind this version does not know (a
    newer release wrote it) or a tool part that cannot be read, which is skipped rather
    than shown wrong."""
    if kind == TextPart.kind:
        return TextPart(text)
    if kind == ReasoningPart.kind:
        return ReasoningPart(text)
    try:
        if kind == ToolCallPart.kind:
            return ToolCallPart.from_text(text)
        if kind == ToolResultPart.kind:
            return ToolResultPart.from_text(text)
        if kind == ImagePart.kind:
            return ImagePart.from_text(text)
    except (ValueError, KeyError, TypeError):
        return None
    return None

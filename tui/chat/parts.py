"""What a message is made of: parts of different kinds, in the order they were produced.

Today a message holds text and the model's reasoning; tool calls, tool results and images
are further kinds of part, so they slot in without reshaping messages or the store. Each
kind has a stable name, stored as text.
"""

from __future__ import annotations

from dataclasses import dataclass


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


Part = TextPart | ReasoningPart

PART_KINDS: dict[str, type[TextPart] | type[ReasoningPart]] = {
    TextPart.kind: TextPart,
    ReasoningPart.kind: ReasoningPart,
}


def part_of_kind(kind: str, text: str) -> Part | None:
    """A stored part back as an object; None for a kind this version does not know (a
    newer release wrote it), which is skipped rather than shown wrong."""
    maker = PART_KINDS.get(kind)
    return None if maker is None else maker(text)

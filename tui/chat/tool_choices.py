"""What the user chose about tools for one conversation, stored with it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class ToolChoices:
    """Tools are named `server/tool` here (the user's words, stable across restarts)."""

    switched_off: set[str] = field(default_factory=set)
    always_allowed: set[str] = field(default_factory=set)
    """Allowed with `a` at an approval: they run without asking for the rest of it."""

    def to_text(self) -> str | None:
        if not self.switched_off and not self.always_allowed:
            return None
        return json.dumps(
            {"off": sorted(self.switched_off), "allowed": sorted(self.always_allowed)}
        )

    @classmethod
    def from_text(cls, text: str | None) -> ToolChoices:
        """Unreadable choices read as none (every tool on, each call asked): the safe way."""
        try:
            data = json.loads(text) if text else {}
            return cls(
                {str(name) for name in data.get("off", [])},
                {str(name) for name in data.get("allowed", [])},
            )
        except (ValueError, TypeError, AttributeError):
            return cls()

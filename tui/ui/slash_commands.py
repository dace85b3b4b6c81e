"""How a typed line is read as a slash command, and how a partial one completes.

A line starting with `/` is a command, never a request, so a typo cannot cost tokens;
`//text` sends the literal `/text`. The commands themselves are in `tui.commands`.
"""

from __future__ import annotations

from tui.commands import slash_names
from tui.frozen import frozen


@frozen
class SlashCommand:
    name: str
    argument: str


def parse_slash_command(text: str) -> SlashCommand | str | None:
    """A command; the literal text to send (for `//...`); or None when it is no command."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    if stripped.startswith("//"):
        return stripped[1:]
    name, _, argument = stripped.partition(" ")
    return SlashCommand(name.lower(), argument.strip())


def completions(prefix: str) -> list[str]:
    prefix = prefix.strip().lower()
    return [name for name in slash_names() if name.startswith(prefix)]

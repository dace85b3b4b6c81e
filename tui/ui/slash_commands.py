"""The prompt's slash commands: their names, what they do, and how a typed line is read.

A line starting with `/` is a command, never a request, so a typo cannot cost tokens;
`//text` sends the literal `/text`.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS = {
    "/model": "choose the model (or /model NAME)",
    "/system": "edit the system prompt (or /system TEXT)",
    "/new": "start a new conversation",
    "/clear": "clear the screen: a new conversation (the old one stays in history)",
    "/retry": "regenerate the last reply",
    "/copy": "copy the last reply",
    "/export": "export this conversation (/export md or /export json)",
    "/title": "rename this conversation (/title NEW TITLE)",
    "/file": "attach a text file (/file PATH; /file alone removes attachments)",
    "/help": "show every key and command",
}


@dataclass(frozen=True)
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
    return [name for name in COMMANDS if name.startswith(prefix)]

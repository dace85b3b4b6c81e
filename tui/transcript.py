"""A conversation as plain text for the terminal's scrollback (inline mode's exit): who
said what, in order, made safe."""

from __future__ import annotations

import shutil

from tui.chat.conversation import Conversation
from tui.chat.message import Role
from tui.chat.safe_text import make_safe


def transcript(conversation: Conversation) -> str:
    if not conversation.messages:
        return ""
    width = min(shutil.get_terminal_size((80, 24)).columns, 100)
    lines: list[str] = []
    for message in conversation.messages:
        who = "You" if message.role is Role.USER else (message.model or "Assistant")
        lines += [f"── {who} " + "─" * max(0, width - len(who) - 4), message.content]
        lines += [f"📷 {image.label()}" for image in message.images]
        if message.error:
            lines.append(f"✖ {message.error}")
        lines.append("")
    return make_safe("\n".join(lines)) + "\n"

"""A conversation: the ordered messages and what the next request must carry."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tui.chat.message import Message, MessageStatus, Role, Usage

TITLE_LENGTH = 60


@dataclass(slots=True)
class Conversation:
    system_prompt: str | None = None
    model: str | None = None
    title: str = ""
    messages: list[Message] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    id: int | None = None

    def add_user_message(self, text: str) -> Message:
        if not self.title:
            self.title = title_from_prompt(text)
        message = Message(role=Role.USER, content=text)
        self.messages.append(message)
        return message

    def start_reply(self, model: str | None, *, replacing: Message | None = None) -> Message:
        """Starts a reply; `replacing` (a reply taken off with `drop_last_reply`) is kept as
        an earlier version the user can step back to."""
        reply = Message(role=Role.ASSISTANT, status=MessageStatus.STREAMING, model=model)
        if replacing is not None:
            replacing.replaced = True
            group = replacing.versions or [replacing]
            group.append(reply)
            for version in group:
                version.versions = group
        self.messages.append(reply)
        return reply

    def switch_last_reply(self, step: int) -> tuple[Message, Message] | None:
        """Shows the previous (-1) or next (+1) version of the last reply; it is then the one
        sent as history. Returns (hidden, shown), or None if there is no such version."""
        if not self.messages or self.messages[-1].role is not Role.ASSISTANT:
            return None
        current = self.messages[-1]
        group = current.versions
        if not group:
            return None
        index = next(i for i, version in enumerate(group) if version is current) + step
        if not 0 <= index < len(group):
            return None
        shown = group[index]
        current.replaced = True
        shown.replaced = False
        self.messages[-1] = shown
        return current, shown

    def version_label(self, message: Message) -> str:
        group = message.versions
        if not group or len(group) < 2:
            return ""
        index = next(i for i, version in enumerate(group) if version is message)
        return f"version {index + 1}/{len(group)}"

    def drop_last_reply(self) -> Message | None:
        """Removes the trailing assistant reply so it can be generated again."""
        if self.messages and self.messages[-1].role is Role.ASSISTANT:
            return self.messages.pop()
        return None

    @property
    def can_retry(self) -> bool:
        """A retry needs a user turn to answer: the last message, or the one before a reply."""
        return any(message.role is Role.USER for message in self.messages)

    def remove_message(self, message: Message) -> None:
        self.messages.remove(message)

    def truncate_at(self, message: Message) -> list[Message]:
        """Drops `message` and everything after it (editing an earlier prompt replaces the
        turns that followed it); returns what was dropped."""
        index = self.messages.index(message)
        dropped = self.messages[index:]
        del self.messages[index:]
        return dropped

    def usage_totals(self) -> tuple[Usage, int]:
        """Tokens spent on every reply, regenerated versions included (they were paid
        for), and how many replies came without usage figures (never guessed)."""
        totals = Usage(prompt_tokens=0, completion_tokens=0)
        unreported = 0
        seen: set[int] = set()
        for message in self.messages:
            if message.role is not Role.ASSISTANT:
                continue
            for version in message.versions or [message]:
                if id(version) in seen:
                    continue
                seen.add(id(version))
                if version.usage is None:
                    unreported += version.status is not MessageStatus.STREAMING
                    continue
                totals.prompt_tokens += version.usage.prompt_tokens
                totals.completion_tokens += version.usage.completion_tokens
        return totals, unreported

    def request_messages(self) -> list[dict[str, str]]:
        """The history in the wire format, as the user sees it on screen.

        Partial replies are sent as they stand (the user saw them and may refer to them);
        reasoning is never sent back, and replies with no text (a failed request) are
        left out because empty assistant turns confuse many servers.
        """
        wire: list[dict[str, str]] = []
        if self.system_prompt:
            wire.append({"role": Role.SYSTEM.value, "content": self.system_prompt})
        for message in self.messages:
            if message.role is Role.ASSISTANT and not message.content:
                continue
            wire.append({"role": message.role.value, "content": message.content})
        return wire


def title_from_prompt(text: str) -> str:
    """A one-line title from the first prompt, so a conversation is findable at once."""
    line = " ".join(text.split())
    if len(line) <= TITLE_LENGTH:
        return line
    return line[: TITLE_LENGTH - 1].rstrip() + "…"

"""A conversation: a tree of messages, the path through it the user sees, and what the
next request must carry.

Regenerating a reply adds a sibling reply; editing an earlier prompt adds a sibling prompt.
Nothing is copied or thrown away: each message remembers which of its children is chosen,
and the chosen children from the top make the path, which is both what the screen shows
and the history sent to the model.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from tui.chat.message import Message, MessageStatus, Role, Usage
from tui.chat.tool_choices import ToolChoices
from tui.chat.wire import RESULT_LIMIT, wire_messages

TITLE_LENGTH = 60


class Conversation:
    def __init__(
        self,
        system_prompt: str | None = None,
        model: str | None = None,
        title: str = "",
        created_at: float | None = None,
        id: int | None = None,
    ) -> None:
        self.system_prompt = system_prompt
        self.model = model
        self.title = title
        self.created_at = time.time() if created_at is None else created_at
        self.id = id
        self.root = Message(Role.SYSTEM)
        """Not a message: the tree's top, whose children are the first prompts of each
        branch (editing the very first prompt adds one). Never stored or sent."""
        self._path: list[Message] | None = None
        self.tools = ToolChoices()
        """Which tools are switched off, and which run without asking, in this one."""

    # The path -------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """The chosen path from the top: what the screen shows and the model is sent.
        Read-only; change the tree through the methods below."""
        if self._path is None:
            path: list[Message] = []
            node = self.root.chosen
            while node is not None:
                path.append(node)
                node = node.chosen
            self._path = path
        return self._path

    def _changed(self) -> None:
        self._path = None

    @property
    def last(self) -> Message | None:
        path = self.messages
        return path[-1] if path else None

    def history_before(self, message: Message) -> list[Message]:
        """The messages `message` follows, from the top: what its request carries."""
        chain: list[Message] = []
        node = message.parent
        while node is not None and node is not self.root:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def contains(self, message: Message) -> bool:
        """Whether `message` is in this tree (not deleted, not from another conversation)."""
        node: Message | None = message
        while node is not None and node is not self.root:
            node = node.parent
        return node is self.root

    def all_messages(self) -> Iterator[Message]:
        """Every message on every branch, parents before children."""
        stack = list(reversed(self.root.children))
        while stack:
            message = stack.pop()
            yield message
            stack.extend(reversed(message.children))

    # Growing the tree -----------------------------------------------------------------

    def attach(self, message: Message, parent: Message | None = None) -> Message:
        """Adds `message` as the chosen child of `parent` (the top when None): it and the
        path through it become what the user sees."""
        parent = parent or self.root
        message.parent = parent
        parent.children.append(message)
        parent.chosen = message
        self._changed()
        return message

    def append(self, message: Message) -> Message:
        """Adds `message` at the end of the path."""
        return self.attach(message, self.last)

    def add_user_message(self, text: str, *, parent: Message | None = None) -> Message:
        if not self.title:
            self.title = title_from_prompt(text)
        message = Message(Role.USER, text)
        return self.attach(message, parent if parent is not None else self.last)

    def start_reply(self, model: str | None, *, parent: Message | None = None) -> Message:
        """A new, streaming reply to `parent` (the end of the path by default)."""
        reply = Message(Role.ASSISTANT, status=MessageStatus.STREAMING, model=model)
        return self.attach(reply, parent if parent is not None else self.last)

    # Moving through it ----------------------------------------------------------------

    def parent_of(self, message: Message) -> Message:
        return message.parent or self.root

    def siblings(self, message: Message) -> list[Message]:
        """`message` and its alternatives: other versions of a reply, other edits of a
        prompt, oldest first."""
        return self.parent_of(message).children

    def position(self, message: Message) -> tuple[int, int]:
        """(n, of): where `message` stands among its siblings, from 1."""
        siblings = self.siblings(message)
        if message not in siblings:  # taken out of the tree since
            return 1, 1
        return siblings.index(message) + 1, len(siblings)

    def switch(self, message: Message, step: int) -> Message | None:
        """Shows the previous (-1) or next (+1) sibling of `message` instead of it, with
        the path below it as last seen; None if there is no such sibling."""
        siblings = self.siblings(message)
        index = siblings.index(message) + step
        if not 0 <= index < len(siblings):
            return None
        shown = siblings[index]
        self.parent_of(message).chosen = shown
        self._changed()
        return shown

    def reveal(self, message: Message) -> None:
        """Makes the path run through `message` (a search hit on another branch)."""
        node: Message | None = message
        while node is not None and node.parent is not None:
            node.parent.chosen = node
            node = node.parent
        self._changed()

    def last_with_siblings(self) -> Message | None:
        """The deepest message on the path that has alternatives: what Alt+Left and
        Alt+Right switch when no message is selected."""
        for message in reversed(self.messages):
            if len(self.siblings(message)) > 1:
                return message
        return None

    def remove(self, message: Message) -> list[Message]:
        """Takes `message` alone out of the tree: what followed it moves up into its place,
        so deleting a prompt keeps the replies after it. Returns the messages that moved."""
        parent = self.parent_of(message)
        index = parent.children.index(message)
        moved = message.children
        for child in moved:
            child.parent = message.parent
        parent.children[index : index + 1] = moved
        if parent.chosen is message:
            parent.chosen = message.chosen or (
                parent.children[min(index, len(parent.children) - 1)] if parent.children else None
            )
        message.parent, message.children, message.chosen = None, [], None
        self._changed()
        return moved

    # What it costs and what is sent ---------------------------------------------------

    def usage_totals(self) -> tuple[Usage, int]:
        """Tokens spent on every reply, on every branch (they were all paid for), and how
        many replies came without usage figures (never guessed)."""
        totals = Usage(prompt_tokens=0, completion_tokens=0)
        unreported = 0
        for message in self.all_messages():
            if message.role is not Role.ASSISTANT:
                continue
            if message.usage is None:
                unreported += message.status is not MessageStatus.STREAMING
                continue
            totals.prompt_tokens += message.usage.prompt_tokens
            totals.completion_tokens += message.usage.completion_tokens
        return totals, unreported

    def request_messages(
        self,
        until: Message | None = None,
        result_limit: int = RESULT_LIMIT,
        start: Message | None = None,
    ) -> list[dict[str, Any]]:
        """The history in the wire format, as the user sees it on screen: the whole path,
        or the messages before `until` (the reply being generated), from `start` on when
        the earlier turns are left out to fit the window. See `tui.chat.wire`."""
        history = self.messages if until is None else self.history_before(until)
        if start is not None and start in history:
            history = history[history.index(start) :]
        return wire_messages(self.system_prompt, history, result_limit)


def title_from_prompt(text: str) -> str:
    """A one-line title from the first prompt, so a conversation is findable at once."""
    line = " ".join(text[: TITLE_LENGTH * 4].split())
    if len(line) <= TITLE_LENGTH:
        return line
    return line[: TITLE_LENGTH - 1].rstrip() + "…"

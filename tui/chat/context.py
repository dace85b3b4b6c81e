"""How full the model's context window is, and what to leave out when it would overflow.

No tokenizer can be downloaded here, so the count starts from the server's own figures:
the last reply's usage is exact for the history up to that reply, and what was added since
is estimated from its length, at the characters-per-token ratio that same usage shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tui.chat.images import ImagePart
from tui.chat.message import Message, Role
from tui.chat.parts import ToolCallPart, ToolResultPart
from tui.frozen import frozen

DEFAULT_CHARS_PER_TOKEN = 4.0
"""For a conversation with no usage figures yet (English prose and code average ~4)."""
FEWEST_CHARS, MOST_CHARS = 1.5, 6.0
"""Characters per token measured from usage are kept within what tokenizers give (CJK
text near 1.5, plain English near 4, long words and code up to ~6): a server whose usage
figures are off (a proxy, a cache) must not make a huge prompt look small."""
MESSAGE_OVERHEAD = 4
"""Tokens a chat template adds around each message (role markers, separators)."""
IMAGE_CHARS = 4 * 1000
"""An image counts as about a thousand tokens (vision models take 85 to ~1,500)."""
WARN_FROM = 0.8
ANSWER_RESERVE = 1024
"""Tokens kept free for the answer, unless the profile's `max_tokens` says otherwise."""


@frozen
class ContextFill:
    tokens: int
    window: int
    exact: bool
    """True when the count is the server's own figure (nothing added since)."""

    @property
    def share(self) -> float:
        return self.tokens / self.window if self.window else 0.0

    @property
    def warning(self) -> bool:
        return self.share >= WARN_FROM

    def label(self) -> str:
        """`ctx 41% of 128k` (`~` when estimated)."""
        about = "" if self.exact else "~"
        return f"ctx {about}{self.share * 100:.0f}% of {short_count(self.window)}"


def short_count(tokens: int) -> str:
    if (tokens >= 1000 and tokens % 1000 == 0) or tokens >= 10_000:
        return f"{tokens / 1000:.0f}k"
    if tokens >= 1000:
        return f"{tokens / 1000:.1f}k"
    return str(tokens)


def message_chars(message: Message) -> int:
    """The characters a message puts on the wire (reasoning is never sent back)."""
    total = 0
    for part in message.parts:
        if isinstance(part, ToolCallPart):
            total += len(part.name) + len(part.arguments) + 20
        elif isinstance(part, ToolResultPart):
            total += len(part.output) + 20
        elif isinstance(part, ImagePart):
            total += IMAGE_CHARS
        elif part.kind == "text":
            total += len(part.text)
    return total


@frozen
class Counter:
    """Counts a request's tokens for one conversation path."""

    system_prompt: str | None
    path: Sequence[Message]

    def _anchor(self) -> int | None:
        """The last reply whose usage counts its whole request (one round: a reply that
        used tools reports the sum of its requests)."""
        for index in range(len(self.path) - 1, -1, -1):
            message = self.path[index]
            if (
                message.role is Role.ASSISTANT
                and message.usage is not None
                and message.usage.prompt_tokens > 0
                and not message.tool_calls
            ):
                return index
        return None

    def chars_per_token(self) -> float:
        anchor = self._anchor()
        if anchor is None:
            return DEFAULT_CHARS_PER_TOKEN
        usage = self.path[anchor].usage
        assert usage is not None
        chars = self._chars(self.path[: anchor + 1], with_system=True)
        tokens = usage.prompt_tokens + usage.completion_tokens
        tokens -= MESSAGE_OVERHEAD * (anchor + 1)
        return (
            max(FEWEST_CHARS, min(MOST_CHARS, chars / tokens))
            if tokens > 0
            else DEFAULT_CHARS_PER_TOKEN
        )

    def tokens(self, extra_text: str = "") -> ContextFill:
        """What a request for the whole path (and a new prompt of `extra_text`) would
        take. `window` is left 0 for the caller to fill."""
        anchor = self._anchor()
        ratio = self.chars_per_token()
        if anchor is None:
            chars = self._chars(self.path, with_system=True) + len(extra_text)
            count = math.ceil(chars / ratio) + MESSAGE_OVERHEAD * (len(self.path) + 1)
            return ContextFill(count, 0, exact=False)
        usage = self.path[anchor].usage
        assert usage is not None
        later = self.path[anchor + 1 :]
        added = self._chars(later, with_system=False) + len(extra_text)
        count = usage.prompt_tokens + usage.completion_tokens
        count += math.ceil(added / ratio) + MESSAGE_OVERHEAD * (len(later) + bool(extra_text))
        return ContextFill(count, 0, exact=not later and not extra_text)

    def _chars(self, messages: Sequence[Message], *, with_system: bool) -> int:
        system = len(self.system_prompt or "") if with_system else 0
        return system + sum(message_chars(message) for message in messages)


def first_kept(
    system_prompt: str | None,
    path: Sequence[Message],
    prompt: str,
    room: int,
    ratio: float,
) -> int | None:
    """The index in `path` from which the history fits in `room` tokens with `prompt`
    after it, dropping whole turns (a prompt and its reply) from the front; None when
    not even the prompt alone fits."""
    need = math.ceil((len(system_prompt or "") + len(prompt)) / ratio) + 2 * MESSAGE_OVERHEAD
    if need > room:
        return None
    start = len(path)
    for index in range(len(path) - 1, -1, -1):
        need += math.ceil(message_chars(path[index]) / ratio) + MESSAGE_OVERHEAD
        if need > room:
            break
        if path[index].role is Role.USER:
            start = index  # a turn begins with its prompt
    return start

"""Which turns of a long conversation's path to mount first, judged by source lines.

Each stored reply costs tens of milliseconds to mount (its Markdown laid out before the
first frame shows it), so a log opens with a screenful, and `ConversationLog.fill` loads
more if rendered Markdown turns out shorter than its source (it rarely does).
"""

from __future__ import annotations

from tui.chat.message import Message, Role


def _lines(message: Message) -> int:
    """A message's source lines, and its border's two."""
    return message.content.count("\n") + 2


def _between_prompt_and_reply(messages: list[Message], index: int) -> bool:
    """Whether a window cut before `messages[index]` would part a reply from its prompt."""
    return (
        0 < index < len(messages)
        and messages[index].role is Role.ASSISTANT
        and messages[index - 1].role is Role.USER
    )


def first_of_a_screenful(messages: list[Message], lines_wanted: int, most: int) -> int:
    """Where a window at the path's end starts: enough of it to fill `lines_wanted`
    lines, at most `most` messages; a reply comes with the prompt it answers."""
    lines = 0
    first = len(messages)
    while first > max(0, len(messages) - most) and lines < lines_wanted:
        first -= 1
        lines += _lines(messages[first])
    return first - 1 if _between_prompt_and_reply(messages, first) else first


def end_of_a_screenful(messages: list[Message], start: int, lines_wanted: int, most: int) -> int:
    """Where a window shown from `start` (a search hit, Home) ends: the mirror of
    `first_of_a_screenful`; a prompt comes with its reply. Twelve messages from there,
    as it was, were six replies laid out before the first frame, where two fill 40 lines:
    a search hit in 2,000 messages opened in 0.18-0.23 s, against 0.33-0.38 s with the
    replies also laid out twice."""
    lines = 0
    end = start
    while end < min(len(messages), start + most) and lines < lines_wanted:
        lines += _lines(messages[end])
        end += 1
    return end + 1 if _between_prompt_and_reply(messages, end) else end

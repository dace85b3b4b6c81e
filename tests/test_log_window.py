"""Which turns a log mounts first: a screenful, judged by source lines."""

from __future__ import annotations

from tui.chat.conversation import Conversation
from tui.chat.message import Message
from tui.ui.log_window import end_of_a_screenful, first_of_a_screenful


def turns(count: int, reply_lines: int) -> list[Message]:
    """`count` turns of a one-line prompt and a reply of `reply_lines` lines."""
    conversation = Conversation(model="m")
    for turn in range(count):
        conversation.add_user_message(f"Question {turn}")
        reply = conversation.start_reply("m")
        reply.content = "\n".join(["words"] * reply_lines)
    return conversation.messages


def test_a_window_from_far_back_holds_a_screenful_and_ends_on_a_reply() -> None:
    messages = turns(50, reply_lines=30)  # a prompt is 3 lines, a reply 32
    # From the prompt at 20: 3 + 32 = 35 lines, then the next prompt (38), and its reply.
    assert end_of_a_screenful(messages, 20, lines_wanted=40, most=12) == 24
    # From a reply: 32 + 3, then that prompt's reply (67).
    assert end_of_a_screenful(messages, 21, lines_wanted=40, most=12) == 24
    assert end_of_a_screenful(messages, 20, lines_wanted=400, most=12) == 32  # at most 12
    assert end_of_a_screenful(messages, 98, lines_wanted=40, most=12) == 100  # the path's end
    # From a reply, 35 lines would end on the prompt after it: its reply comes too.
    assert end_of_a_screenful(messages, 21, lines_wanted=35, most=12) == 24


def test_a_window_at_the_end_holds_a_screenful_and_starts_on_a_prompt() -> None:
    messages = turns(50, reply_lines=30)
    assert first_of_a_screenful(messages, lines_wanted=40, most=12) == 96
    assert first_of_a_screenful(messages, lines_wanted=400, most=12) == 88
    assert first_of_a_screenful(turns(1, 1), lines_wanted=40, most=12) == 0

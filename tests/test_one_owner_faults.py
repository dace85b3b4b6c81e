"""The faults of a conversation with no single owner, as a user met them in the app.

Each was written before the fix, against the release that had the fault, and failed there.
"""

from __future__ import annotations

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    last_reply_settled,
    replies,
    screen_text,
    send_and_settle,
    wait_until,
)
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.system_prompt_screen import SystemPromptScreen


async def ask_then_regenerate(pilot, prompt: str, second_version: str) -> None:  # type: ignore[no-untyped-def]
    """Sends `prompt`, then Ctrl+R, and waits for the second version to end."""
    await send_and_settle(pilot, prompt)
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: replies(pilot)[-1].message.content == second_version)
    await wait_until(pilot, lambda: last_reply_settled(pilot))


async def test_a_rename_in_the_list_survives_saving_the_system_prompt(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test(size=(100, 34)) as pilot:
        await send_and_settle(pilot, "Tell me about penguins")
        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press("r", *"Birds", "enter")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SystemPromptScreen))
        await pilot.press(*"Be brief.", "ctrl+s")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, SystemPromptScreen))
        await pilot.pause()
    store = Store.open(settings.db_path)
    assert [c.title for c in store.list_conversations()] == ["Birds"]


async def test_deleting_a_prompt_after_a_regenerated_reply_keeps_the_next_reply(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["First one."]),
        StreamReply(deltas=["First two."]),
        StreamReply(deltas=["Second reply."]),
    )
    async with ChatApp(settings).run_test(size=(100, 34), notifications=True) as pilot:
        await ask_then_regenerate(pilot, "First question", "First two.")
        await send_and_settle(pilot, "Second question")
        await pilot.press("ctrl+up", "up")
        assert getattr(pilot.app.focused, "message", None) is not None
        assert pilot.app.focused.message.content == "Second question"  # type: ignore[union-attr]
        await pilot.press("d", "d")
        await wait_until(pilot, lambda: "Second question" not in screen_text(pilot))
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        text = screen_text(pilot)
        assert "First two." in text and "Second reply." in text
        server.queue(StreamReply(deltas=["Third reply."]))
        await send_and_settle(pilot, "Third question")
    assert server.requests[-1]["messages"] == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First two."},
        {"role": "assistant", "content": "Second reply."},
        {"role": "user", "content": "Third question"},
    ]


async def test_two_prompts_sent_in_one_frame_never_stream_at_once(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["One", " two", " three."], delay=0.6),
        StreamReply(deltas=["Second answer."]),
    )
    async with ChatApp(settings).run_test(size=(100, 34)) as pilot:
        screen = chat_screen(pilot)
        screen.prompt.insert("First prompt")
        await pilot.press("enter")
        screen.prompt.insert("Second prompt")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Second prompt" in screen_text(pilot))
        await wait_until(pilot, lambda: len(server.requests) >= 1)
        assert len(server.requests) == 1, "the second prompt waits for the first reply"
        assert "Waiting to send: Second prompt" in screen_text(pilot)
        await wait_until(
            pilot, lambda: len(replies(pilot)) == 2 and last_reply_settled(pilot), timeout=8
        )
        roles = [m.role.value for m in screen.conversation.messages]
        assert roles == ["user", "assistant", "user", "assistant"]
    assert server.requests[1]["messages"] == [
        {"role": "user", "content": "First prompt"},
        {"role": "assistant", "content": "One two three."},
        {"role": "user", "content": "Second prompt"},
    ]


async def test_ctrl_r_three_times_while_streaming_leaves_one_reply_streaming(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    slow = [f"word{n} " for n in range(40)]
    server.queue(*[StreamReply(deltas=slow, delay=0.05) for _ in range(5)])
    async with ChatApp(settings).run_test(size=(100, 34)) as pilot:
        chat_screen(pilot).prompt.insert("Go")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "word1" in replies(pilot)[-1].body.rendered_text)
        for _ in range(3):  # three presses handled before the next frame (a key repeat)
            chat_screen(pilot).action_retry()
        await pilot.pause(0.5)
        streaming = [
            view for view in replies(pilot) if view.message.status is MessageStatus.STREAMING
        ]
        assert len(streaming) <= 1
        await pilot.press("escape")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await pilot.pause(0.3)
    assert server.most_open_streams == 1
    assert server.open_streams == 0, "Esc closed the stream that was left"


async def test_editing_a_past_prompt_keeps_every_version_of_the_old_branch(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["Version one."]),
        StreamReply(deltas=["Version two."]),
        StreamReply(deltas=["After the edit."]),
    )
    async with ChatApp(settings).run_test(size=(100, 34), notifications=True) as pilot:
        await ask_then_regenerate(pilot, "Question", "Version two.")
        await pilot.press("ctrl+up", "up", "e")
        await pilot.press("end", *" again", "enter")
        await wait_until(pilot, lambda: "After the edit." in screen_text(pilot))
        await wait_until(pilot, lambda: last_reply_settled(pilot))
    store = Store.open(settings.db_path)
    stored_text = {
        message.content
        for summary in store.list_conversations()
        for message in _every_message(store, summary.id)
    }
    assert {"Version one.", "Version two.", "After the edit."} <= stored_text


def _every_message(store: Store, conversation_id: int) -> list:
    """Every message of a stored conversation, on any branch or version."""
    conversation = store.load_conversation(conversation_id)
    assert conversation is not None
    every = getattr(conversation, "all_messages", None)
    if every is not None:
        return list(every())
    found = []
    for message in conversation.messages:
        found.extend(message.versions or [message])
    return found

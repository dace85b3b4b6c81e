"""Stored conversations for tests, written as the app or another process would."""

from __future__ import annotations

from pathlib import Path

from tui.chat.conversation import Conversation
from tui.store import Store


def stored_conversation(store: Store, texts: list[str]) -> int:
    conversation = Conversation(model="m")
    store.save_conversation(conversation, None)
    for text in texts:
        store.save_message(conversation, conversation.add_user_message(text))
    assert conversation.id is not None
    return conversation.id


def appended_by_another_process(path: Path, conversation_id: int, text: str) -> None:
    """Another tui-chat, with a connection of its own, adds a message."""
    other = Store.open(path)
    conversation = other.load_conversation(conversation_id)
    assert conversation is not None
    other.save_message(conversation, conversation.add_user_message(text))
    other.close()

"""The chat domain: conversations and messages, free of UI and network code."""

from tui.chat.conversation import Conversation
from tui.chat.message import Message, MessageStatus, Role, Usage

__all__ = ["Conversation", "Message", "MessageStatus", "Role", "Usage"]

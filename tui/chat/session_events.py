"""What a chat session tells its observers (the screen, pipe mode) after each change.

Facts only: which message changed and how. The words a person reads are chosen by the
observer, so the same session drives a full-screen view and a plain stdout stream.
"""

from __future__ import annotations

from tui.chat.context import ContextFill
from tui.chat.conversation import Conversation
from tui.chat.events import ChatError, StreamEvent
from tui.chat.message import Message
from tui.frozen import frozen


@frozen(slots=True)
class ConversationOpened:
    """Another conversation is now the session's (new, opened, or the open one deleted);
    `focus` is the message to show first, if not the end."""

    conversation: Conversation
    focus: Message | None = None
    earlier: int = 0
    """Messages on the path before the conversation's first, not read yet (a part of a
    long path is shown first: `RestOfConversationRead` comes once the rest is read)."""
    later: bool = False
    """Whether messages after the conversation's last on the path are not read yet."""


@frozen(slots=True)
class RestOfConversationRead:
    """The conversation resumed from the end of its path is now read whole: `conversation`
    holds the same messages as the one shown, and its path has `earlier` more before them.
    Failing that (`error`, why), a new conversation is the session's and is opened."""

    conversation: Conversation
    earlier: int
    error: str | None = None


@frozen(slots=True)
class MessageAdded:
    """A message was added at the end of the path (a prompt)."""

    message: Message


@frozen(slots=True)
class ReplyStarted:
    reply: Message


@frozen(slots=True)
class ReplyProgress:
    """Something arrived for the streaming reply; `reply` already holds it."""

    reply: Message
    event: StreamEvent


@frozen(slots=True)
class ReplyEnded:
    """The reply stopped streaming: done, stopped, failed (`error` says why)."""

    reply: Message
    error: ChatError | None = None


@frozen(slots=True)
class PathChanged:
    """The path differs from position `index` on (a branch switched, a prompt edited, a
    message deleted): the view shows it again from there, with `focus` in view."""

    index: int
    focus: Message | None = None


@frozen(slots=True)
class DetailsChanged:
    """The title, model or system prompt of the open conversation changed."""

    conversation: Conversation


@frozen(slots=True)
class QueueChanged:
    """The prompt waiting for the streaming reply to end (None: none waits)."""

    prompt: str | None


@frozen(slots=True)
class SaveStateChanged:
    """Changes are waiting to reach the history file (`unsaved`, and why), or they all
    landed. Nothing is dropped meanwhile: it is written as soon as the file can take it."""

    unsaved: bool
    reason: str | None = None


@frozen(slots=True)
class ToolsChanged:
    """A reply's tool calls changed: one streamed in, is asked about, runs, or ended."""

    reply: Message
    running: str | None = None
    """The id of the call running now, if any."""
    asking: str | None = None
    """The id of the call waiting for the user's approval, if any."""


@frozen(slots=True)
class ContextTooLong:
    """A prompt was not sent (or the server refused one) because the conversation would
    not fit the model's context window; the user chooses what to do (`tui.session.Fit`)."""

    prompt: str
    fill: ContextFill
    from_server: bool = False
    """The server said so (the reply failed); else the app's own count did."""


@frozen(slots=True)
class TurnsLeftOut:
    """These messages were not sent with `reply`'s request, to fit the window."""

    reply: Message
    messages: list[Message]


@frozen(slots=True)
class Compacting:
    """The model is summarising the earlier turns (`done`: it has finished, or failed)."""

    done: bool = False
    error: ChatError | None = None
    stopped: bool = False
    """Esc stopped it: nothing was sent."""


@frozen(slots=True)
class ToolServersChanged:
    """A tool server connected, failed or changed its tools."""


SessionEvent = (
    ConversationOpened
    | RestOfConversationRead
    | MessageAdded
    | ReplyStarted
    | ReplyProgress
    | ReplyEnded
    | PathChanged
    | DetailsChanged
    | QueueChanged
    | SaveStateChanged
    | ToolsChanged
    | ToolServersChanged
    | ContextTooLong
    | TurnsLeftOut
    | Compacting
)

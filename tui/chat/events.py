"""What a streaming reply can tell its consumer, as plain typed values.

The backend turns wire chunks into these so that the UI and the pipe mode never see
openai or HTTP types, and tests can reason about a stream without a network.
"""

from __future__ import annotations

from enum import StrEnum

from tui.chat.message import Usage
from tui.frozen import frozen


@frozen(slots=True)
class ContentDelta:
    text: str
    chunks: int = 1
    """How many of the server's chunks this text came in (merged when they arrive together)."""


@frozen(slots=True)
class ReasoningDelta:
    text: str
    chunks: int = 1


@frozen(slots=True)
class ToolCallDelta:
    """A piece of a tool call: the first piece of call `index` carries its id and name,
    the rest carry pieces of its arguments (JSON text, cut anywhere)."""

    index: int
    call_id: str = ""
    name: str = ""
    arguments: str = ""


@frozen(slots=True)
class UsageReport:
    usage: Usage


@frozen(slots=True)
class Finished:
    reason: str | None
    """The server's finish_reason: "stop", "length", "content_filter", or None if unsaid."""


class ErrorKind(StrEnum):
    """What went wrong, as a fact: the words (and what to press or set) are chosen by
    whoever shows it, the app or pipe mode (`tui.error_words`)."""

    NO_KEY = "no key"
    AUTH = "auth"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not found"
    RATE_LIMIT = "rate limit"
    CONTEXT_LENGTH = "context length"
    TOO_LARGE = "too large"
    BAD_REQUEST = "bad request"
    REQUEST_TIMEOUT = "request timeout"
    BAD_GATEWAY = "bad gateway"
    UNAVAILABLE = "unavailable"
    GATEWAY_TIMEOUT = "gateway timeout"
    SERVER = "server"
    HTTP = "http"
    CONNECT_TIMEOUT = "connect timeout"
    NO_ANSWER = "no answer"
    STALLED = "stalled"
    HOST_NOT_FOUND = "host not found"
    TLS = "tls"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    DROPPED = "dropped"
    STREAM_ERROR = "stream error"
    ENDED_EARLY = "ended early"
    EMPTY_REPLY = "empty reply"
    NOT_A_STREAM = "not a stream"
    REQUEST_FAILED = "request failed"


@frozen(slots=True)
class ChatError:
    """A failure as the backend saw it: its kind and the facts around it."""

    kind: ErrorKind
    detail: str = ""
    """The server's or the library's own words (scrubbed of secrets), if any."""
    status: int | None = None
    endpoint: str = ""
    model: str = ""
    seconds: float | None = None
    """The timeout that ran out, or the wait a server asked for."""
    retryable: bool = True
    tools_offered: int = 0
    images_sent: bool = False
    """The refused request carried images (the model may not take them)."""
    """How many tool definitions the refused request carried (a schema may be the cause)."""


@frozen(slots=True)
class Failed:
    error: ChatError


@frozen(slots=True)
class Retrying:
    """The request failed before any text arrived and will be sent again after `delay`:
    said out loud so that a user never waits on a silent retry."""

    error: ChatError
    delay: float
    attempt: int
    """The attempt about to start, counting the first request as 1."""
    attempts: int


@frozen(slots=True)
class SkippedEvents:
    """Events the server sent that could not be read (not JSON, absurdly nested or huge):
    left out, and said at the reply's end so that a gap in the text is not a mystery."""

    count: int


StreamEvent = (
    ContentDelta
    | ReasoningDelta
    | ToolCallDelta
    | UsageReport
    | Finished
    | Failed
    | Retrying
    | SkippedEvents
)

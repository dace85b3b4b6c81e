"""The words a person reads for a failure, chosen by who shows it.

The backend reports facts (`ChatError`: a kind, the server's own words, a status, the
endpoint); this turns them into a title, the detail and a hint. The app's hints name its
keys ("Ctrl+R"); pipe mode's name flags and settings, never keys it does not have.
"""

from __future__ import annotations

from tui.chat.events import ChatError, ErrorKind, Retrying
from tui.frozen import frozen


@frozen(slots=True)
class Told:
    title: str
    detail: str
    hint: str

    def one_line(self) -> str:
        return " — ".join(part for part in (self.title, self.detail, self.hint) if part)


KEY_HINT = (
    "Set OPENAI_API_KEY (export OPENAI_API_KEY=sk-...), or point OPENAI_BASE_URL / "
    "--base-url at a local server such as Ollama."
)
_PROXY = "A proxy or gateway in front of the model server got no good answer from it."


def tell(error: ChatError, *, in_app: bool) -> Told:
    """`in_app`: hints may name the app's keys; otherwise (pipe mode) only flags."""
    title, hint = _words(error, in_app)
    again = "Press Ctrl+R to try again." if in_app else ""
    if error.kind in _TRY_AGAIN and again:
        hint = f"{hint} {again}".strip()
    return Told(title, error.detail or _DEFAULT_DETAIL.get(error.kind, ""), hint)


def summary(error: ChatError) -> str:
    """What is stored with a failed reply: what happened, without any hint."""
    told = tell(error, in_app=False)
    return f"{told.title}: {told.detail}" if told.detail else told.title


def tell_retry(event: Retrying, *, in_app: bool) -> str:
    seconds = f"{event.delay:.1f}".removesuffix(".0")
    title = tell(event.error, in_app=in_app).title
    return f"{title}; retrying in {seconds} s (attempt {event.attempt} of {event.attempts})"


def tell_skipped(count: int) -> str:
    events = "event" if count == 1 else "events"
    return (
        f"{count} {events} from the server could not be read (not valid JSON, or far too "
        "large) and were left out"
    )


_TRY_AGAIN = frozenset(ErrorKind) - {
    ErrorKind.NO_KEY,
    ErrorKind.AUTH,
    ErrorKind.FORBIDDEN,
    ErrorKind.NOT_FOUND,
    ErrorKind.TOO_LARGE,
    ErrorKind.CONTEXT_LENGTH,
    ErrorKind.BAD_REQUEST,
}
_DEFAULT_DETAIL = {
    ErrorKind.ENDED_EARLY: "the server closed the stream without saying it was finished",
    ErrorKind.EMPTY_REPLY: "the stream ended without any text, finish reason or error",
    ErrorKind.STREAM_ERROR: "no details given",
}


def _words(error: ChatError, in_app: bool) -> tuple[str, str]:
    """(title, hint) for each kind."""
    kind, where, status = error.kind, error.endpoint, error.status
    seconds = f"{error.seconds:g}" if error.seconds is not None else "?"
    new_chat = "start a new one with Ctrl+N" if in_app else "start a new conversation"
    kept = "The text so far is kept."
    match kind:
        case ErrorKind.NO_KEY:
            return "No API key is set", KEY_HINT
        case ErrorKind.AUTH:
            return "The server rejected the API key (401)", KEY_HINT
        case ErrorKind.FORBIDDEN:
            return "Access denied (403)", "The key lacks access to this model or endpoint."
        case ErrorKind.NOT_FOUND:
            return (
                f"Not found (404): model {error.model!r} at {where}",
                "Check the model name (--model) and that the base URL ends where the API "
                "lives (often …/v1).",
            )
        case ErrorKind.RATE_LIMIT:
            wait = f"The server asks to wait {seconds} s." if error.seconds else ""
            return "Rate limited (429)", wait
        case ErrorKind.TOO_LARGE:
            return "The request is too large (413)", f"Shorten the prompt, or {new_chat}."
        case ErrorKind.CONTEXT_LENGTH:
            code = f" ({status})" if status else ""
            return (
                f"The conversation is too long for the model{code}",
                f"Delete or shorten earlier messages, or {new_chat}.",
            )
        case ErrorKind.BAD_REQUEST if error.images_sent:
            model = f"The model {error.model!r}" if error.model else "This model"
            pick = "pick a model that sees images (F2)" if in_app else "use a vision model (-m)"
            return (
                "The server refused the request (400)",
                f"{model} may not accept images: {pick}, or send the prompt without them.",
            )
        case ErrorKind.BAD_REQUEST if error.tools_offered:
            switch_off = "switch tools off with F4" if in_app else "leave out --tools"
            return (
                "The server refused the request (400)",
                f"It offered {error.tools_offered} tools: if the server refuses a tool's "
                f"schema, {switch_off} and try again.",
            )
        case ErrorKind.BAD_REQUEST:
            return (
                "The server refused the request (400)",
                f"If the conversation is too long for the model, {new_chat}.",
            )
        case ErrorKind.REQUEST_TIMEOUT:
            return "The server timed out the request (408)", ""
        case ErrorKind.BAD_GATEWAY:
            return "Bad gateway (502)", _PROXY
        case ErrorKind.UNAVAILABLE:
            return (
                "Service unavailable (503)",
                "The server is overloaded, down for maintenance or still loading the model.",
            )
        case ErrorKind.GATEWAY_TIMEOUT:
            return "Gateway timeout (504)", _PROXY
        case ErrorKind.SERVER:
            return f"Server error ({status})", "The server failed."
        case ErrorKind.HTTP:
            return f"HTTP error {status}", ""
        case ErrorKind.CONNECT_TIMEOUT:
            return (
                f"Connecting to {where} timed out",
                "The host may be down, firewalled or unreachable from this network.",
            )
        case ErrorKind.NO_ANSWER:
            return (
                "The server did not answer in time",
                "The server may be overloaded or loading a model.",
            )
        case ErrorKind.STALLED:
            return "The reply stalled", kept
        case ErrorKind.HOST_NOT_FOUND:
            return (
                f"Cannot find the host of {where}",
                "Check the spelling of the base URL (--base-url / OPENAI_BASE_URL) and your "
                "network or DNS.",
            )
        case ErrorKind.TLS:
            return (
                f"The secure connection to {where} failed",
                "If the server speaks plain HTTP (most local servers do), use an http:// "
                "base URL; otherwise check its certificate.",
            )
        case ErrorKind.REFUSED:
            return (
                f"Nothing is listening at {where}",
                "Start the server, or fix the base URL (--base-url / OPENAI_BASE_URL).",
            )
        case ErrorKind.UNREACHABLE:
            return (
                f"Cannot reach {where}",
                "Check that the server is running and the base URL (--base-url / "
                "OPENAI_BASE_URL) is right.",
            )
        case ErrorKind.DROPPED:
            return "The connection dropped mid-reply", kept
        case ErrorKind.STREAM_ERROR:
            return "The server reported an error mid-reply", kept
        case ErrorKind.ENDED_EARLY:
            return "The reply ended early", kept
        case ErrorKind.EMPTY_REPLY:
            return "The server sent an empty reply", ""
        case ErrorKind.NOT_A_STREAM:
            return (
                "The server's answer is not a chat reply",
                "Check that the base URL points at the API (often …/v1), not a web page.",
            )
        case ErrorKind.REQUEST_FAILED:
            return "The request failed", ""

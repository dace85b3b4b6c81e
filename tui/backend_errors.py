"""Turns a failed request into a fact: a `ChatError` with its kind, scrubbed of secrets.

Separate from `tui.backend`, which makes the requests and decides on retries, because
reading a failure is a job of its own: the exception chain (name lookup, TLS, nobody
listening), the status, the server's explanation in whatever shape it came (JSON, plain
text, an HTML page), its Retry-After, and the scrubbing every detail passes before anyone
shows or keeps it. Like `tui.backend` it never imports openai when imported (the SDK's
types are for the type checker only), so it costs nothing before the first frame.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tui.chat.events import ChatError, ErrorKind, Failed
from tui.completions_events import is_about_context_length
from tui.config import Settings
from tui.redaction import Redactor, url_secrets

if TYPE_CHECKING:
    import openai


class FailureDescriber:
    """Describes the failures of one endpoint's requests, each scrubbed of its secrets
    (the API key, the base URL's credentials, the header values)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._redact = Redactor(
            [settings.api_key, *url_secrets(settings.base_url), *settings.headers.values()]
        )

    def unreadable_certificates(self, error: OSError) -> ChatError:
        detail = (
            f"the certificates to verify servers cannot be read ({error}); check "
            "SSL_CERT_FILE and SSL_CERT_DIR"
        )
        return ChatError(ErrorKind.REQUEST_FAILED, self.scrub(detail), retryable=False)

    def describe_timeout(self, received_anything: bool, error: BaseException) -> ChatError:
        import httpx2

        where = self.settings.endpoint_label
        if caused_by(error, httpx2.ConnectTimeout):
            seconds = self.settings.connect_timeout
            return ChatError(
                ErrorKind.CONNECT_TIMEOUT,
                f"no connection within {seconds:g} s",
                endpoint=where,
                seconds=seconds,
            )
        seconds = self.settings.idle_timeout
        if received_anything:
            return ChatError(
                ErrorKind.STALLED, f"no data from the server for {seconds:g} s", seconds=seconds
            )
        return ChatError(
            ErrorKind.NO_ANSWER,
            f"no response within {seconds:g} s from {where}",
            endpoint=where,
            seconds=seconds,
        )

    def describe_connection_error(self, error: BaseException) -> ChatError:
        """Names the layer that failed (name lookup, TLS, nobody listening), because each
        has a different fix."""
        root = _root_cause(error)
        detail = self.scrub(f"{type(root).__name__}: {root}")
        if caused_by(error, socket.gaierror):
            kind = ErrorKind.HOST_NOT_FOUND
        elif caused_by(error, ssl.SSLError):
            kind = ErrorKind.TLS
        elif caused_by(error, ConnectionRefusedError):
            kind = ErrorKind.REFUSED
        else:
            kind = ErrorKind.UNREACHABLE
        return ChatError(kind, detail, endpoint=self.settings.endpoint_label)

    def describe_status_error(self, error: openai.APIStatusError, model: str) -> ChatError:
        status = error.status_code
        detail = self.scrub(_server_message(error))
        kind = _STATUS_KINDS.get(status)
        if kind is None:
            kind = ErrorKind.SERVER if status >= 500 else ErrorKind.HTTP
        if status in (400, 413) and is_about_context_length(detail):
            kind = ErrorKind.CONTEXT_LENGTH
        seconds = retry_after_seconds(error.response.headers) if status == 429 else None
        return ChatError(
            kind,
            detail,
            status=status,
            endpoint=self.settings.endpoint_label,
            model=model,
            seconds=seconds,
            retryable=kind not in (ErrorKind.AUTH, ErrorKind.NOT_FOUND),
        )

    def scrub(self, text: str) -> str:
        """Removes the key (in any of its usual encodings) and URL credentials from text
        that came back from a server or a library."""
        return self._redact(text)

    def scrub_error(self, error: ChatError) -> ChatError:
        """The one place every failure passes before anyone shows or keeps it."""
        redact = self._redact
        return replace(
            error,
            detail=redact(error.detail),
            endpoint=redact(error.endpoint),
            model=redact(error.model),
        )

    def scrubbed(self, event: Failed) -> Failed:
        return Failed(self.scrub_error(event.error))


_STATUS_KINDS = {
    400: ErrorKind.BAD_REQUEST,
    401: ErrorKind.AUTH,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    408: ErrorKind.REQUEST_TIMEOUT,
    413: ErrorKind.TOO_LARGE,
    429: ErrorKind.RATE_LIMIT,
    502: ErrorKind.BAD_GATEWAY,
    503: ErrorKind.UNAVAILABLE,
    504: ErrorKind.GATEWAY_TIMEOUT,
}


def caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _root_cause(error: BaseException) -> BaseException:
    """The innermost exception with a message: the SDK's own says only "Connection error"."""
    best = error
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if str(current) and not isinstance(current, asyncio.CancelledError):
            best = current
        current = current.__cause__ or current.__context__
    return best


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, `Retry-After` in seconds, or
    `Retry-After` as an HTTP date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # a date here is rare; the module took 3-4 ms of every launch

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(error: openai.APIStatusError) -> str:
    """The server's explanation, whether it sent OpenAI-style JSON, plain text or HTML."""
    body: Any = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if body.get("message"):
            return str(body["message"])
    text = ""
    try:
        text = error.response.text
    except Exception:
        text = ""
    if "<html" in text.lower() or "<!doctype" in text.lower():
        return "the server sent an HTML page instead of JSON (a proxy or a wrong base URL?)"
    text = " ".join(text.split())
    return text[:300] if text else error.message

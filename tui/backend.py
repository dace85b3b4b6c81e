"""The only module that talks to the API: requests a streamed reply and yields typed events.

The SDK still does the HTTP work (auth, base URL, status errors), but the body is read raw
(`tui.stream_reading`), which is cheaper per token and survives what the SDK's decoder
would choke on. Retries are ours, not the SDK's: the SDK retries silently, and a user
waiting on a rate limit should see that a retry is coming and when. Failures are reported
as facts (`ChatError` with a kind); the words are chosen by whoever shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from tui.chat.events import (
    ChatError,
    ContentDelta,
    ErrorKind,
    Failed,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    ToolCallDelta,
)
from tui.client_library_loading import load_less_of_the_client_library
from tui.completions_events import CompletionsEvents, is_about_context_length
from tui.config import OPENAI_BASE_URL, Settings
from tui.error_words import tell
from tui.read_ahead import read_ahead
from tui.redaction import Redactor, url_secrets
from tui.responses_events import ResponsesEvents, responses_input, responses_tools
from tui.stream_reading import ReplyReader
from tui.tls_context import CertificatesUnreadable, TlsContextOnFirstUse, verified_tls_context

if TYPE_CHECKING:
    import httpx2
    import openai

load_less_of_the_client_library()  # before anything imports openai

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
WINDOW_ASK_TIMEOUT = 2.0
LONGEST_AUTOMATIC_WAIT = 30.0
"""A server that asks for a longer pause gets no automatic retry: the user decides."""
FIRST_BACKOFF = 0.5
LONGEST_BACKOFF = 8.0


class ModelListUnavailable(Exception):
    """Why the server's model list could not be read, in words for the picker."""


@dataclass
class _AttemptFailure:
    """Why an attempt failed before any text arrived, so that it may be retried."""

    error: ChatError
    retry_after: float | None = None


def load_client_library() -> None:
    """Imports openai (about 0.4 s) and builds the TLS context (20 ms): the app calls this
    in a thread after its first frame so that start-up does not wait for it and the first
    message's request leaves without doing any of it on the event loop."""
    importlib.import_module("openai")
    # What the first request would import on the event loop: anyio's asyncio backend
    # (about 17 ms, on the first connection) and the chunked reader.
    with contextlib.suppress(ImportError):
        importlib.import_module("anyio._backends._asyncio")
    from tui.chunked_bodies import read_chunked_bodies_a_read_at_a_time

    read_chunked_bodies_a_read_at_a_time()
    with contextlib.suppress(OSError):  # unreadable certificates: said at the first request
        verified_tls_context()


class ChatBackend:
    """Streams replies from one endpoint; cheap to build, the client is made lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: openai.AsyncOpenAI | None = None
        self._redact = Redactor(
            [settings.api_key, *url_secrets(settings.base_url), *settings.headers.values()]
        )

    def _get_client(self) -> openai.AsyncOpenAI:
        import httpx2
        import openai

        if self._client is None:
            from tui.chunked_bodies import read_chunked_bodies_a_read_at_a_time

            read_chunked_bodies_a_read_at_a_time()
            api_key = self.settings.api_key
            if not api_key and not self.settings.needs_key:
                # Local servers ignore the key, but the SDK insists on having one.
                api_key = "no-key-needed"
            timeout = httpx2.Timeout(
                self.settings.idle_timeout, connect=self.settings.connect_timeout
            )
            self._client = openai.AsyncOpenAI(
                api_key=api_key,
                # Never None: the SDK would read OPENAI_BASE_URL itself, which a profile
                # picked by name does not follow (its key would go to that server).
                base_url=self.settings.base_url or OPENAI_BASE_URL,
                max_retries=0,  # retries are ours: see stream_reply
                default_headers=dict(self.settings.headers) or None,
                timeout=timeout,
                # The SDK's own default client, with the shared TLS context.
                http_client=openai.DefaultAsyncHttpxClient(timeout=timeout, verify=self._tls()),
            )
        return self._client

    def _tls(self) -> ssl.SSLContext:
        """The shared verifying context; for an `http://` server, one built only if a
        connection needs it (a redirect to `https://`)."""
        base_url = (self.settings.base_url or OPENAI_BASE_URL).lower()
        if base_url.startswith("http://"):
            return cast("ssl.SSLContext", TlsContextOnFirstUse())
        return verified_tls_context()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def stream_reply(
        self,
        messages: Sequence[dict[str, Any]],
        model: str,
        tools: Sequence[dict[str, Any]] = (),
    ) -> AsyncIterator[StreamEvent]:
        """Yields the reply's events; always ends with `Finished` or `Failed`.

        A failure before the first token (connection refused, 429, 5xx) is retried with
        backoff, announced by a `Retrying` event; once text has arrived nothing is re-sent,
        because a second answer would silently replace what the user is reading.
        Cancelling the consumer closes the HTTP response at once, so the server sees the
        connection go away instead of generating tokens nobody reads.
        """
        import openai

        try:
            client = self._get_client()
        except openai.OpenAIError:
            yield Failed(ChatError(ErrorKind.NO_KEY, retryable=False))
            return
        except OSError as error:  # the certificates (SSL_CERT_FILE, SSL_CERT_DIR) unreadable
            yield Failed(self._unreadable_certificates(error))
            return
        attempts = max(0, self.settings.max_retries) + 1
        for attempt in range(1, attempts + 1):
            failure: list[_AttemptFailure] = []
            async for event in self._attempt(client, messages, model, tools, failure):
                yield self._scrubbed(event) if isinstance(event, Failed) else event
            if not failure:
                return
            delay = _retry_delay(failure[0].retry_after, attempt)
            if attempt == attempts or delay is None:
                yield Failed(self._scrub_error(failure[0].error))
                return
            yield Retrying(self._scrub_error(failure[0].error), delay, attempt + 1, attempts)
            await asyncio.sleep(delay)

    async def _attempt(
        self,
        client: openai.AsyncOpenAI,
        messages: Sequence[dict[str, Any]],
        model: str,
        tools: Sequence[dict[str, Any]],
        failure: list[_AttemptFailure],
    ) -> AsyncIterator[StreamEvent]:
        """One request. A failure that may be retried is put in `failure` instead of being
        yielded; that only happens while no text has been yielded."""
        import httpx2
        import openai

        received_anything = False
        try:
            async with self._request(client, messages, model, tools) as response:
                reader = ReplyReader(
                    ResponsesEvents() if self.settings.api == "responses" else CompletionsEvents()
                )
                async with contextlib.aclosing(read_ahead(response.aiter_bytes())) as body:
                    async for event in reader.events(body):
                        if isinstance(event, ContentDelta | ReasoningDelta | ToolCallDelta):
                            received_anything = True
                        yield event
        except openai.APIStatusError as error:
            described = self._describe_status_error(error, model)
            if error.status_code in RETRYABLE_STATUSES:
                failure.append(_AttemptFailure(described, _retry_after(error.response.headers)))
            else:
                yield Failed(described)
        except openai.APITimeoutError as error:
            described = self._describe_timeout(received_anything, error)
            if _caused_by(error, httpx2.ConnectTimeout):
                failure.append(_AttemptFailure(described))
            else:
                yield Failed(described)  # it already waited a whole idle timeout
        except openai.APIConnectionError as error:
            failure.append(_AttemptFailure(self.describe_connection_error(error)))
        except httpx2.TimeoutException as error:
            yield Failed(self._describe_timeout(received_anything, error))
        except httpx2.TransportError as error:
            described = ChatError(
                ErrorKind.DROPPED, self._scrub(str(error) or type(error).__name__)
            )
            if received_anything:
                yield Failed(described)
            else:
                failure.append(_AttemptFailure(described))
        except openai.OpenAIError as error:
            yield Failed(ChatError(ErrorKind.REQUEST_FAILED, self._scrub(str(error))))
        except CertificatesUnreadable as error:  # a plain-HTTP server sent us on to https
            yield Failed(self._unreadable_certificates(error))

    def _unreadable_certificates(self, error: OSError) -> ChatError:
        detail = (
            f"the certificates to verify servers cannot be read ({error}); check "
            "SSL_CERT_FILE and SSL_CERT_DIR"
        )
        return ChatError(ErrorKind.REQUEST_FAILED, self._scrub(detail), retryable=False)

    @contextlib.asynccontextmanager
    async def _request(
        self,
        client: openai.AsyncOpenAI,
        messages: Sequence[dict[str, Any]],
        model: str,
        tools: Sequence[dict[str, Any]],
    ) -> AsyncIterator[httpx2.Response]:
        """The streaming request; gives the response, its body not read yet.

        Made with the client's own `post` (its documented way to any endpoint): its auth,
        base URL, headers, timeouts and errors, without `client.chat` and
        `client.responses`, which import their typed resources and parsing helpers (about
        50 ms each, and the first request waited for them) for a body read raw anyway
        (`tui.stream_reading`). The history is already in the wire format. Tools go only
        when there are some: an empty list is refused by some servers; the profile's
        parameters go last, as the SDK's `extra_body` does."""
        import httpx2

        params = dict(self.settings.params)
        body: dict[str, Any]
        if self.settings.api != "responses":
            path = "/chat/completions"
            body = {
                "model": model,
                "messages": list(messages),
                "stream": True,
                "stream_options": {"include_usage": True},
                **({"tools": list(tools)} if tools else {}),
            }
        else:
            path = "/responses"
            reasoning = reasoning_request(params)
            body = {
                "model": model,
                "input": responses_input(messages),
                "stream": True,
                **({"reasoning": reasoning} if reasoning else {}),
                **({"tools": responses_tools(tools)} if tools else {}),
            }
        response = await client.post(
            path,
            cast_to=httpx2.Response,
            body={**body, **params},
            # As `create` asks: the API key alone (by default, with no API key, the client
            # would send an admin key found in the environment, OPENAI_ADMIN_KEY).
            options={"security": {"bearer_auth": True}},
            stream=True,
        )
        try:
            yield response
        finally:
            await response.aclose()

    async def context_window(self, model: str) -> int | None:
        """The model's context window as the server states it (see
        `tui.context_window` for where each kind of server says it); None when none does.
        Asked in turn, each with a short timeout; errors mean "not this kind"."""
        # Off the event loop: this may run before the client library has been loaded.
        httpx2 = await asyncio.to_thread(importlib.import_module, "httpx2")

        from tui import context_window as read

        base = (self.settings.base_url or OPENAI_BASE_URL).rstrip("/")
        root = base.removesuffix("/v1")
        headers = dict(self.settings.headers)
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        asks: list[tuple[str, str, Any]] = [
            ("GET", f"{base}/models", lambda body: read.from_models_list(body, model)),
        ]
        if self.settings.base_url is not None and not self.settings.needs_key:
            asks += [  # local servers: LM Studio, llama.cpp, Ollama
                ("GET", f"{root}/api/v0/models/{model}", read.from_model_entry_body),
                ("GET", f"{root}/props", read.from_llama_cpp_props),
                ("POST", f"{root}/api/show", read.from_ollama_show),
            ]
        try:
            tls = self._tls()
        except OSError:  # unreadable certificates: the reply's request says so
            return None
        async with httpx2.AsyncClient(
            timeout=WINDOW_ASK_TIMEOUT, headers=headers, verify=tls
        ) as http:
            for method, url, reader in asks:
                try:
                    if method == "GET":
                        response = await http.get(url)
                    else:
                        response = await http.post(url, json={"model": model})
                    if response.status_code != 200:
                        continue
                    window = reader(response.json())
                except (httpx2.HTTPError, ValueError):
                    continue
                if window is not None:
                    return int(window)
        return None

    async def list_models(self) -> list[str]:
        """The server's model names (`GET /models`), sorted; raises `ModelListUnavailable`
        when there is no list to show, so the picker can fall back to a typed name."""
        import openai

        try:
            client = self._get_client()
            page = await client.models.list()
            names = sorted({model.id for model in page.data if getattr(model, "id", None)})
        except openai.APIStatusError as error:
            raise ModelListUnavailable(
                f"the server has no model list ({error.status_code})"
            ) from error
        except openai.APIConnectionError as error:
            told = tell(self.describe_connection_error(error), in_app=False)
            raise ModelListUnavailable(told.title) from error
        except (openai.OpenAIError, ValueError, TypeError, OSError) as error:
            raise ModelListUnavailable(self._scrub(str(error)) or "no model list") from error
        if not names:
            raise ModelListUnavailable("the server listed no models")
        return names

    def _describe_timeout(self, received_anything: bool, error: BaseException) -> ChatError:
        import httpx2

        where = self.settings.endpoint_label
        if _caused_by(error, httpx2.ConnectTimeout):
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
        detail = self._scrub(f"{type(root).__name__}: {root}")
        if _caused_by(error, socket.gaierror):
            kind = ErrorKind.HOST_NOT_FOUND
        elif _caused_by(error, ssl.SSLError):
            kind = ErrorKind.TLS
        elif _caused_by(error, ConnectionRefusedError):
            kind = ErrorKind.REFUSED
        else:
            kind = ErrorKind.UNREACHABLE
        return ChatError(kind, detail, endpoint=self.settings.endpoint_label)

    def _describe_status_error(self, error: openai.APIStatusError, model: str) -> ChatError:
        status = error.status_code
        detail = self._scrub(_server_message(error))
        kind = _STATUS_KINDS.get(status)
        if kind is None:
            kind = ErrorKind.SERVER if status >= 500 else ErrorKind.HTTP
        if status in (400, 413) and is_about_context_length(detail):
            kind = ErrorKind.CONTEXT_LENGTH
        seconds = _retry_after(error.response.headers) if status == 429 else None
        return ChatError(
            kind,
            detail,
            status=status,
            endpoint=self.settings.endpoint_label,
            model=model,
            seconds=seconds,
            retryable=kind not in (ErrorKind.AUTH, ErrorKind.NOT_FOUND),
        )

    def _scrub(self, text: str) -> str:
        """Removes the key (in any of its usual encodings) and URL credentials from text
        that came back from a server or a library."""
        return self._redact(text)

    def _scrub_error(self, error: ChatError) -> ChatError:
        """The one place every failure passes before anyone shows or keeps it."""
        redact = self._redact
        return replace(
            error,
            detail=redact(error.detail),
            endpoint=redact(error.endpoint),
            model=redact(error.model),
        )

    def _scrubbed(self, event: Failed) -> Failed:
        return Failed(self._scrub_error(event.error))


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


def reasoning_request(params: dict[str, Any]) -> dict[str, str] | None:
    """The Responses API's `reasoning` field, when the profile asks for reasoning (a
    `reasoning_effort` or `reasoning` param, taken out of `params`): a summary is asked for
    too, or the model's thinking is never shown."""
    effort = params.pop("reasoning_effort", None)
    asked = params.pop("reasoning", None)
    if effort is None and asked is None:
        return None
    reasoning = dict(asked) if isinstance(asked, dict) else {}
    if effort is not None:
        reasoning.setdefault("effort", str(effort))
    reasoning.setdefault("summary", "auto")
    return reasoning


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
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


def _retry_after(headers: Any) -> float | None:
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
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retry_delay(retry_after: float | None, attempt: int) -> float | None:
    """How long to wait before the next attempt, or None when waiting is the user's call."""
    if retry_after is not None:
        return retry_after if retry_after <= LONGEST_AUTOMATIC_WAIT else None
    backoff = min(LONGEST_BACKOFF, FIRST_BACKOFF * 2.0 ** (attempt - 1))
    return backoff * random.uniform(0.8, 1.2)


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

"""The only module that talks to the API: requests a streamed reply and yields typed events.

The SDK still does the HTTP work (auth, base URL, status errors), but the body is read raw
(`tui.stream_reading`), which is cheaper per token and survives what the SDK's decoder
would choke on. Retries are ours, not the SDK's: the SDK retries silently, and a user
waiting on a rate limit should see that a retry is coming and when. Failures are reported
as facts (`ChatError` with a kind); the words are chosen by whoever shows them. Reading a
failure into that fact (the exception chain, the status, the server's message, the
scrubbing of secrets) is `tui.backend_errors`: this module makes the requests, streams the
replies and decides when to retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import random
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from tui.backend_errors import FailureDescriber, caused_by, retry_after_seconds
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
from tui.completions_events import CompletionsEvents
from tui.config import OPENAI_BASE_URL, Settings
from tui.error_words import tell
from tui.read_ahead import read_ahead
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
        self._failures = FailureDescriber(settings)

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
    ) -> AsyncGenerator[StreamEvent, None]:
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
            yield Failed(self._failures.unreadable_certificates(error))
            return
        attempts = max(0, self.settings.max_retries) + 1
        for attempt in range(1, attempts + 1):
            failure: list[_AttemptFailure] = []
            # Closed with this generator (a consumer that stops reading closes it): left
            # to the garbage collector, the request stayed open and its close failed.
            attempt_events = self._attempt(client, messages, model, tools, failure)
            async with contextlib.aclosing(attempt_events):
                async for event in attempt_events:
                    yield self._failures.scrubbed(event) if isinstance(event, Failed) else event
            if not failure:
                return
            delay = _retry_delay(failure[0].retry_after, attempt)
            if attempt == attempts or delay is None:
                yield Failed(self._failures.scrub_error(failure[0].error))
                return
            yield Retrying(
                self._failures.scrub_error(failure[0].error), delay, attempt + 1, attempts
            )
            await asyncio.sleep(delay)

    async def _attempt(
        self,
        client: openai.AsyncOpenAI,
        messages: Sequence[dict[str, Any]],
        model: str,
        tools: Sequence[dict[str, Any]],
        failure: list[_AttemptFailure],
    ) -> AsyncGenerator[StreamEvent, None]:
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
            described = self._failures.describe_status_error(error, model)
            if error.status_code in RETRYABLE_STATUSES:
                failure.append(
                    _AttemptFailure(described, retry_after_seconds(error.response.headers))
                )
            else:
                yield Failed(described)
        except openai.APITimeoutError as error:
            described = self._failures.describe_timeout(received_anything, error)
            if caused_by(error, httpx2.ConnectTimeout):
                failure.append(_AttemptFailure(described))
            else:
                yield Failed(described)  # it already waited a whole idle timeout
        except openai.APIConnectionError as error:
            failure.append(_AttemptFailure(self.describe_connection_error(error)))
        except httpx2.TimeoutException as error:
            yield Failed(self._failures.describe_timeout(received_anything, error))
        except httpx2.TransportError as error:
            described = ChatError(
                ErrorKind.DROPPED, self._failures.scrub(str(error) or type(error).__name__)
            )
            if received_anything:
                yield Failed(described)
            else:
                failure.append(_AttemptFailure(described))
        except openai.OpenAIError as error:
            yield Failed(ChatError(ErrorKind.REQUEST_FAILED, self._failures.scrub(str(error))))
        except CertificatesUnreadable as error:  # a plain-HTTP server sent us on to https
            yield Failed(self._failures.unreadable_certificates(error))

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
            raise ModelListUnavailable(
                self._failures.scrub(str(error)) or "no model list"
            ) from error
        if not names:
            raise ModelListUnavailable("the server listed no models")
        return names

    def describe_connection_error(self, error: BaseException) -> ChatError:
        """Kept on the backend, where callers have always asked for it: see
        `FailureDescriber.describe_connection_error`."""
        return self._failures.describe_connection_error(error)


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


def _retry_delay(retry_after: float | None, attempt: int) -> float | None:
    """How long to wait before the next attempt, or None when waiting is the user's call."""
    if retry_after is not None:
        return retry_after if retry_after <= LONGEST_AUTOMATIC_WAIT else None
    backoff = min(LONGEST_BACKOFF, FIRST_BACKOFF * 2.0 ** (attempt - 1))
    return backoff * random.uniform(0.8, 1.2)

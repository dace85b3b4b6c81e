"""The only module that talks to the API: requests a streamed reply and yields typed events.

The SDK still does the HTTP work (auth, base URL, retries before the first byte, status
errors), but the body is read as raw SSE lines (see `tui.sse`), which is cheaper per token
and survives frames the SDK's own decoder would choke on.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from tui.chat.events import (
    ChatError,
    ContentDelta,
    Failed,
    Finished,
    ReasoningDelta,
    StreamEvent,
)
from tui.config import Settings
from tui.sse import StreamDone, events_from_line

if TYPE_CHECKING:
    import openai

KEY_HINT = (
    "Set OPENAI_API_KEY (export OPENAI_API_KEY=sk-...), or point OPENAI_BASE_URL / "
    "--base-url at a local server such as Ollama."
)
RETRY_HINT = "Press Ctrl+R to try again."


def load_client_library() -> None:
    """Imports openai (about 0.4 s); the app calls this in a thread after its first frame
    so that start-up does not wait for it and the first request finds it loaded."""
    importlib.import_module("openai")


class ChatBackend:
    """Streams replies from one endpoint; cheap to build, the client is made lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: openai.AsyncOpenAI | None = None

    def _get_client(self) -> openai.AsyncOpenAI:
        import httpx2
        import openai

        if self._client is None:
            api_key = self.settings.api_key
            if not api_key and not self.settings.needs_key:
                # Local servers ignore the key, but the SDK insists on having one.
                api_key = "no-key-needed"
            self._client = openai.AsyncOpenAI(
                api_key=api_key,
                base_url=self.settings.base_url,
                max_retries=self.settings.max_retries,
                timeout=httpx2.Timeout(
                    self.settings.idle_timeout, connect=self.settings.connect_timeout
                ),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def stream_reply(
        self, messages: Sequence[dict[str, str]], model: str
    ) -> AsyncIterator[StreamEvent]:
        """Yields the reply's events; always ends with `Finished` or `Failed`.

        Cancelling the consumer closes the HTTP response at once, so the server sees the
        connection go away instead of generating tokens nobody reads.
        """
        import httpx2
        import openai

        try:
            client = self._get_client()
        except openai.OpenAIError:
            yield Failed(ChatError("No API key is set", hint=KEY_HINT, retryable=False))
            return
        received_anything = False
        try:
            async with client.chat.completions.with_streaming_response.create(
                model=model,
                messages=list(messages),  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            ) as response:
                finish_reason: str | None = None
                async for line in response.iter_lines():
                    try:
                        for event in events_from_line(line):
                            if isinstance(event, Finished):
                                finish_reason = event.reason
                                continue
                            if isinstance(event, ContentDelta | ReasoningDelta):
                                received_anything = True
                            yield event
                            if isinstance(event, Failed):
                                return
                    except StreamDone:
                        yield Finished(finish_reason or "stop")
                        return
                if finish_reason is not None:
                    # Some servers end with a finish reason but no [DONE]: still complete.
                    yield Finished(finish_reason)
                    return
                yield Failed(
                    ChatError(
                        "The reply ended early",
                        "the server closed the stream without saying it was finished",
                        RETRY_HINT,
                    )
                )
        except openai.APIStatusError as error:
            yield Failed(self._describe_status_error(error, model))
        except openai.APITimeoutError:
            yield Failed(self._describe_timeout(received_anything))
        except openai.APIConnectionError as error:
            yield Failed(self._describe_connection_error(error))
        except httpx2.TimeoutException:
            yield Failed(self._describe_timeout(received_anything))
        except httpx2.TransportError as error:
            yield Failed(
                ChatError(
                    "The connection dropped mid-reply",
                    self._scrub(str(error) or type(error).__name__),
                    "The text so far is kept. " + RETRY_HINT,
                )
            )
        except openai.OpenAIError as error:
            yield Failed(ChatError("The request failed", self._scrub(str(error)), RETRY_HINT))

    def _describe_timeout(self, received_anything: bool) -> ChatError:
        seconds = self.settings.idle_timeout
        if received_anything:
            return ChatError(
                "The reply stalled",
                f"no data from the server for {seconds:g} s",
                "The text so far is kept. " + RETRY_HINT,
            )
        return ChatError(
            "The server did not answer in time",
            f"no response within {seconds:g} s from {self.settings.endpoint_label}",
            "The server may be overloaded or loading a model. " + RETRY_HINT,
        )

    def _describe_connection_error(self, error: openai.APIConnectionError) -> ChatError:
        cause = error.__cause__
        detail = f"{type(cause).__name__}: {cause}" if cause else str(error)
        return ChatError(
            f"Cannot reach {self.settings.endpoint_label}",
            self._scrub(detail),
            "Check that the server is running and the base URL (--base-url / "
            "OPENAI_BASE_URL) is right. " + RETRY_HINT,
        )

    def _describe_status_error(self, error: openai.APIStatusError, model: str) -> ChatError:
        status = error.status_code
        detail = self._scrub(_server_message(error))
        where = self.settings.endpoint_label
        if status == 401:
            return ChatError("The server rejected the API key (401)", detail, KEY_HINT, False)
        if status == 403:
            return ChatError(
                "Access denied (403)", detail, "The key lacks access to this model or endpoint."
            )
        if status == 404:
            return ChatError(
                f"Not found (404): model {model!r} at {where}",
                detail,
                "Check the model name (--model) and that the base URL ends where the API "
                "lives (often …/v1).",
                False,
            )
        if status == 429:
            retry_after = error.response.headers.get("retry-after")
            wait = f"The server asks to wait {retry_after} s. " if retry_after else ""
            return ChatError("Rate limited (429)", detail, wait + RETRY_HINT)
        if status == 413:
            return ChatError(
                "The request is too large (413)",
                detail,
                "Start a new conversation (Ctrl+N) or shorten the prompt.",
            )
        if status == 400:
            return ChatError(
                "The server refused the request (400)",
                detail,
                "If the conversation is too long for the model, start a new one with Ctrl+N.",
            )
        if status >= 500:
            return ChatError(f"Server error ({status})", detail, "The server failed; " + RETRY_HINT)
        return ChatError(f"HTTP error {status}", detail, RETRY_HINT)

    def _scrub(self, text: str) -> str:
        """Removes the API key from text that came back from a server or a library."""
        key = self.settings.api_key
        if key and key in text:
            text = text.replace(key, "sk-…")
        return text


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

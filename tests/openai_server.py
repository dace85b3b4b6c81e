"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat streaming protocol.

Tests queue scripted replies (chunks, delays, usage, errors, abrupt disconnects); the server
records every request body and every client disconnect, so a test can assert on what the
real openai client sent and on whether the app closed the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamReply:
    deltas: list[str] = field(default_factory=lambda: ["Hello", " from", " the", " server."])
    reasoning: list[str] = field(default_factory=list)
    delay: float = 0.0
    """Seconds between chunks."""
    rate: float = 0.0
    """Deltas per second on an absolute schedule (0: as fast as possible); for benchmarks."""
    first_delay: float = 0.0
    finish_reason: str | None = "stop"
    usage: dict[str, int] | None = field(
        default_factory=lambda: {"prompt_tokens": 7, "completion_tokens": 4, "total_tokens": 11}
    )
    send_done: bool = True
    disconnect_after: int | None = None
    """Drop the connection, without ending the HTTP body, after this many deltas."""
    error_event_after: int | None = None
    """Send a `data: {"error": ...}` event after this many deltas."""
    raw_lines_before: list[str] = field(default_factory=list)
    headers_delay: float = 0.0
    """Seconds before the response's headers are sent (a server slow to answer at all)."""


@dataclass
class ErrorReply:
    status: int
    body: str = '{"error": {"message": "something went wrong", "type": "server_error"}}'
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RawStream:
    """The exact bytes of an SSE body, sent as `piece_size`-byte HTTP chunks (0: one chunk),
    each written and drained on its own, so events and UTF-8 characters arrive split."""

    body: bytes
    piece_size: int = 0
    piece_delay: float = 0.0


Reply = StreamReply | ErrorReply | RawStream


def chunk_event(
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    *,
    choices: list[Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One `chat.completion.chunk`; `choices` overrides the single-choice default."""
    if choices is None:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": choices,
        **extra,
    }


def sse_body(
    events: list[dict[str, Any] | str], *, line_end: str = "\n", done: bool = True
) -> bytes:
    """Encodes chunks (dicts) and raw payloads (str) as `data:` events, then `[DONE]`."""
    lines = []
    for event in events:
        payload = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        lines.append(f"data: {payload}{line_end}{line_end}")
    if done:
        lines.append(f"data: [DONE]{line_end}{line_end}")
    return "".join(lines).encode()


class OpenAIStyleServer:
    """Runs on its own thread and event loop so sync and async tests can both use it."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self.disconnects = 0
        self.completed_streams = 0
        self.open_streams = 0
        self.most_open_streams = 0
        """The most streams that were open at the same moment: a client streams one reply at a
        time."""
        self.models: list[str] | None = ["test-model"]
        """What `GET /models` lists; None answers 404 like servers without a list."""
        self.model_list_requests = 0
        self.last_chunk_at = 0.0
        """time.monotonic() when the last content delta was written (comparable across
        processes on Linux), for measuring render lag."""
        self._script: deque[Reply] = deque()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = port

    def start(self) -> OpenAIStyleServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(5)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *replies: Reply) -> None:
        self._script.extend(replies)

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        try:
            if method == "GET" and path.rstrip("/").endswith("/models"):
                self.model_list_requests += 1
                if self.models is None:
                    body404 = '{"error": {"message": "no model list here"}}'
                    await self._send_plain(writer, 404, body404, "application/json", {})
                else:
                    data = [{"id": name, "object": "model"} for name in self.models]
                    payload = json.dumps({"object": "list", "data": data})
                    await self._send_plain(writer, 200, payload, "application/json", {})
            elif method == "POST" and path.endswith("/chat/completions"):
                self.requests.append(json.loads(body or b"{}"))
                self.request_headers.append(headers)
                reply = self._script.popleft() if self._script else StreamReply()
                if isinstance(reply, ErrorReply):
                    await self._send_plain(
                        writer, reply.status, reply.body, reply.content_type, reply.headers
                    )
                elif isinstance(reply, RawStream):
                    await self._send_raw(writer, reply)
                else:
                    await self._stream(reader, writer, reply)
            else:
                await self._send_plain(
                    writer, 404, '{"error": {"message": "no route"}}', "application/json", {}
                )
        except (ConnectionError, asyncio.CancelledError):
            self.disconnects += 1
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _send_plain(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: str,
        content_type: str,
        headers: dict[str, str],
    ) -> None:
        data = body.encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(data)}\r\n{extra}Connection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()

    async def _send_raw(self, writer: asyncio.StreamWriter, reply: RawStream) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        size = reply.piece_size or len(reply.body) or 1
        for start in range(0, len(reply.body), size):
            piece = reply.body[start : start + size]
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
            if reply.piece_delay:
                await asyncio.sleep(reply.piece_delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        self.completed_streams += 1

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: StreamReply
    ) -> None:
        if reply.headers_delay:
            await asyncio.sleep(reply.headers_delay)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        gone = asyncio.ensure_future(reader.read(1))  # EOF here means the client hung up
        self.open_streams += 1
        self.most_open_streams = max(self.most_open_streams, self.open_streams)

        async def send(text: str) -> None:
            if gone.done():
                raise ConnectionResetError("client went away")
            data = text.encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()

        async def pause(seconds: float) -> None:
            if seconds > 0:
                await asyncio.wait({gone}, timeout=seconds)
            if gone.done():
                raise ConnectionResetError("client went away")

        def event(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
            return f"data: {json.dumps(chunk_event(delta, finish, **extra))}\n\n"

        try:
            for line in reply.raw_lines_before:
                await send(line)
            await pause(reply.first_delay)
            await send(event({"role": "assistant", "content": ""}))
            started = time.monotonic()
            for piece in reply.reasoning:
                await send(event({"reasoning_content": piece}))
                await pause(reply.delay)
            for index, piece in enumerate(reply.deltas):
                if reply.disconnect_after is not None and index == reply.disconnect_after:
                    writer.transport.abort()
                    return
                if reply.error_event_after is not None and index == reply.error_event_after:
                    error = {"error": {"message": "model overloaded mid-stream", "type": "x"}}
                    await send(f"data: {json.dumps(error)}\n\n")
                    await send("")
                    return
                await send(event({"content": piece}))
                self.last_chunk_at = time.monotonic()
                if reply.rate:
                    ahead = started + (index + 1) / reply.rate - time.monotonic()
                    if ahead > 0.002:
                        await pause(ahead)
                else:
                    await pause(reply.delay)
            if reply.finish_reason is not None:
                await send(event({}, reply.finish_reason))
            if reply.usage is not None:
                await send(event(None, usage=reply.usage))
            if reply.send_done:
                await send("data: [DONE]\n\n")
            await send("")  # the zero-length chunk ends the HTTP body
            self.completed_streams += 1
        finally:
            self.open_streams -= 1
            gone.cancel()

"""A real HTTP server on 127.0.0.1 that speaks the OpenAI streaming protocols.

Two routes share one script of replies: `POST .../chat/completions` (Chat Completions
chunks, ended by `[DONE]`) and `POST .../responses` (the Responses API's typed
`event:`/`data:` events, ended by `response.completed` and friends). Tests queue scripted
replies (deltas, delays, usage, errors, abrupt disconnects); the server records every request
body, header set and path, and every client disconnect, so a test can assert on what the real
openai client sent, which API it called, and on whether the app closed the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamReply:
    """A scripted streamed reply; each route encodes it in its own protocol."""

    deltas: list[str] = field(default_factory=lambda: ["Hello", " from", " the", " server."])
    reasoning: list[str] = field(default_factory=list)
    delay: float = 0.0
    """Seconds between chunks."""
    rate: float = 0.0
    """Deltas per second on an absolute schedule (0: as fast as possible); for benchmarks."""
    first_delay: float = 0.0
    finish_reason: str | None = "stop"
    """On `/responses`: "stop" (or any other reason) ends with `response.completed`, "length"
    and "content_filter" with `response.incomplete`, None with no final event at all."""
    usage: dict[str, int] | None = field(
        default_factory=lambda: {"prompt_tokens": 7, "completion_tokens": 4, "total_tokens": 11}
    )
    send_done: bool = True
    """Chat route only: the Responses API never sends `[DONE]`."""
    disconnect_after: int | None = None
    """Drop the connection, without ending the HTTP body, after this many deltas."""
    error_event_after: int | None = None
    """Send an error event (chat: `data: {"error": ...}`, responses: `event: error`) after this
    many deltas, then end the body."""
    failed_after: int | None = None
    """`/responses` only: send `response.failed` after this many deltas, then end the body."""
    raw_lines_before: list[str] = field(default_factory=list)
    tool_calls: list[list[dict[str, Any]]] = field(default_factory=list)
    """Chat route: `delta.tool_calls` lists, one chunk each, after the text (see
    `tool_call_chunks`); set `finish_reason="tool_calls"` with them."""
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
    """The exact bytes of a 200 body, sent as `piece_size`-byte HTTP chunks (0: one chunk),
    each written and drained on its own, so events and UTF-8 characters arrive split.
    `content_type` lets a test answer 200 with JSON or HTML where a stream was expected."""

    body: bytes
    piece_size: int = 0
    piece_delay: float = 0.0
    content_type: str = "text/event-stream"


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


def tool_call_chunks(
    calls: list[tuple[str, str, dict[str, Any]]], pieces: int = 3, together: bool = False
) -> list[list[dict[str, Any]]]:
    """`delta.tool_calls` chunks for (id, name, arguments) calls, as servers stream them:
    the first chunk of a call carries its id and name, then its JSON arguments in
    `pieces` cuts; `together`: each round of pieces of every call in one chunk (parallel
    calls interleaved)."""
    per_call: list[list[dict[str, Any]]] = []
    for index, (call_id, name, arguments) in enumerate(calls):
        text = json.dumps(arguments)
        size = max(1, -(-len(text) // pieces))
        chunks = [
            {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
        ]
        for start in range(0, len(text), size):
            chunks.append({"index": index, "function": {"arguments": text[start : start + size]}})
        per_call.append(chunks)
    if not together:
        return [[chunk] for chunks in per_call for chunk in chunks]
    longest = max(len(chunks) for chunks in per_call)
    return [[chunks[step] for chunks in per_call if step < len(chunks)] for step in range(longest)]


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


def responses_event(type_: str, **fields: Any) -> dict[str, Any]:
    """One Responses API stream event: `{"type": type_, **fields}`. Nothing is filled in, not
    even `sequence_number`, so byte-exact tests control every field."""
    return {"type": type_, **fields}


def _responses_sse(event: dict[str, Any]) -> str:
    """The Responses API names each event twice: in the SSE `event:` line and in `"type"`."""
    return f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def responses_sse_body(events: list[dict[str, Any]]) -> bytes:
    """Encodes Responses events as `event: <type>` + `data: <json>` pairs, with no `[DONE]`."""
    return "".join(_responses_sse(event) for event in events).encode()


def response_object(
    status: str = "in_progress", output: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    """The `response` carried by the lifecycle events, with every field the openai client's
    `Response` model requires; `extra` adds or overrides (usage, error, incomplete_details)."""
    return {
        "id": "resp_test",
        "object": "response",
        "created_at": 0,
        "status": status,
        "model": "test-model",
        "output": output or [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "usage": None,
        **extra,
    }


def _responses_usage(usage: dict[str, int] | None) -> dict[str, Any] | None:
    """Chat-style usage (prompt/completion tokens) renamed the way the Responses API names it."""
    if usage is None:
        return None
    prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": usage.get("total_tokens", prompt + completion),
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }


_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}
"""Chat `finish_reason`s that the Responses API reports as `response.incomplete`, and the
`incomplete_details.reason` it gives for each."""

_STREAM_HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)


class _Channel:
    """One open chunked event-stream body, shared by both routes.

    `gone` is a pending read on the request socket: the client sends nothing after its
    request, so the read finishing (EOF) means it hung up. Every write and every pause checks
    it and raises ConnectionResetError, which `_handle` counts as a disconnect; that is how a
    test sees that the app really closed a stream it cancelled."""

    def __init__(self, writer: asyncio.StreamWriter, gone: asyncio.Future[bytes]) -> None:
        self.writer = writer
        self.gone = gone

    async def send(self, text: str) -> None:
        """Writes `text` as one HTTP chunk and drains it, so it reaches the client now."""
        if self.gone.done():
            raise ConnectionResetError("client went away")
        data = text.encode()
        self.writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await self.writer.drain()

    async def end(self) -> None:
        """The zero-length chunk ends the HTTP body cleanly."""
        await self.send("")

    async def pause(self, seconds: float) -> None:
        """Sleeps, but wakes at once if the client hangs up meanwhile."""
        if seconds > 0:
            await asyncio.wait({self.gone}, timeout=seconds)
        if self.gone.done():
            raise ConnectionResetError("client went away")

    def abort(self) -> None:
        """Drops the connection mid-body, the way a crashed proxy or server would."""
        self.writer.transport.abort()


class OpenAIStyleServer:
    """Runs on its own thread and event loop so sync and async tests can both use it."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self.request_paths: list[str] = []
        """The path of each streaming request, in step with `requests`: which API was called."""
        self.disconnects = 0
        self.completed_streams = 0
        self.open_streams = 0
        self.most_open_streams = 0
        """The most streams that were open at the same moment: a client streams one reply at a
        time."""
        self.json_routes: dict[tuple[str, str], Any] = {}
        """(method, path ending) -> a JSON body answered with 200, before any other route:
        the model details, `/props` and `/api/show` of other kinds of server."""
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
        route = path.split("?", 1)[0].rstrip("/")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        scripted = next(
            (v for (m, end), v in self.json_routes.items() if m == method and route.endswith(end)),
            None,
        )
        try:
            if scripted is not None:
                await self._send_plain(writer, 200, json.dumps(scripted), "application/json", {})
            elif method == "GET" and route.endswith("/models"):
                self.model_list_requests += 1
                if self.models is None:
                    body404 = '{"error": {"message": "no model list here"}}'
                    await self._send_plain(writer, 404, body404, "application/json", {})
                else:
                    data = [{"id": name, "object": "model"} for name in self.models]
                    payload = json.dumps({"object": "list", "data": data})
                    await self._send_plain(writer, 200, payload, "application/json", {})
            elif method == "POST" and route.endswith(("/chat/completions", "/responses")):
                self.requests.append(json.loads(body or b"{}"))
                self.request_headers.append(headers)
                self.request_paths.append(path)
                reply = self._script.popleft() if self._script else StreamReply()
                if isinstance(reply, ErrorReply):
                    await self._send_plain(
                        writer, reply.status, reply.body, reply.content_type, reply.headers
                    )
                elif isinstance(reply, RawStream):
                    await self._send_raw(writer, reply)
                elif route.endswith("/responses"):
                    await self._stream_responses(reader, writer, reply)
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
            f"HTTP/1.1 200 OK\r\nContent-Type: {reply.content_type}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
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

    @contextlib.asynccontextmanager
    async def _open_stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: StreamReply
    ) -> AsyncIterator[_Channel]:
        """Sends the 200 headers (after `headers_delay`), the `raw_lines_before` and the
        `first_delay`, and counts the stream as open until the route's body is done, so
        `open_streams` and `most_open_streams` mean the same on both routes."""
        if reply.headers_delay:
            await asyncio.sleep(reply.headers_delay)
        writer.write(_STREAM_HEADERS)
        gone = asyncio.ensure_future(reader.read(1))  # EOF here means the client hung up
        self.open_streams += 1
        self.most_open_streams = max(self.most_open_streams, self.open_streams)
        try:
            channel = _Channel(writer, gone)
            for line in reply.raw_lines_before:
                await channel.send(line)
            await channel.pause(reply.first_delay)
            yield channel
        finally:
            self.open_streams -= 1
            gone.cancel()

    async def _send_deltas(
        self,
        channel: _Channel,
        reply: StreamReply,
        started: float,
        delta_event: Callable[[str], str],
        cut_event: Callable[[int], str | None],
    ) -> bool:
        """Sends each content delta with the reply's pacing (`delay`, or `rate` on an absolute
        schedule from `started`), honouring `disconnect_after`. `delta_event` encodes a delta
        for the route; `cut_event(index)` returns the route's event that ends the stream early
        at that index (an error), or None. Returns False when the stream was cut short, so the
        caller sends nothing more and does not count it as completed."""
        for index, piece in enumerate(reply.deltas):
            if reply.disconnect_after is not None and index == reply.disconnect_after:
                channel.abort()
                return False
            cut = cut_event(index)
            if cut is not None:
                await channel.send(cut)
                await channel.end()
                return False
            await channel.send(delta_event(piece))
            self.last_chunk_at = time.monotonic()
            if reply.rate:
                ahead = started + (index + 1) / reply.rate - time.monotonic()
                if ahead > 0.002:
                    await channel.pause(ahead)
            else:
                await channel.pause(reply.delay)
        return True

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: StreamReply
    ) -> None:
        """The Chat Completions stream: `data:` chunks, then usage and `[DONE]`."""

        def event(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
            return f"data: {json.dumps(chunk_event(delta, finish, **extra))}\n\n"

        def content(piece: str) -> str:
            return event({"content": piece})

        def cut_event(index: int) -> str | None:
            if index == reply.error_event_after:
                error = {"error": {"message": "model overloaded mid-stream", "type": "x"}}
                return f"data: {json.dumps(error)}\n\n"
            return None

        async with self._open_stream(reader, writer, reply) as channel:
            await channel.send(event({"role": "assistant", "content": ""}))
            started = time.monotonic()
            for piece in reply.reasoning:
                await channel.send(event({"reasoning_content": piece}))
                await channel.pause(reply.delay)
            if not await self._send_deltas(channel, reply, started, content, cut_event):
                return
            for calls in reply.tool_calls:
                await channel.send(event({"tool_calls": calls}))
                await channel.pause(reply.delay)
            if reply.finish_reason is not None:
                await channel.send(event({}, reply.finish_reason))
            if reply.usage is not None:
                await channel.send(event(None, usage=reply.usage))
            if reply.send_done:
                await channel.send("data: [DONE]\n\n")
            await channel.end()
            self.completed_streams += 1

    async def _stream_responses(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: StreamReply
    ) -> None:
        """The Responses API stream, in the real API's order: the response is created, a
        reasoning item (when scripted) streams its summary, the message item streams its
        text, and a lifecycle event (completed, incomplete, failed) ends it; no `[DONE]`."""
        sequence = 0

        def event(type_: str, **fields: Any) -> str:
            nonlocal sequence
            sequence += 1
            return _responses_sse(responses_event(type_, sequence_number=sequence - 1, **fields))

        def cut_event(index: int) -> str | None:
            if index == reply.error_event_after:
                return event(
                    "error", code="server_error", message="model overloaded mid-stream", param=None
                )
            if index == reply.failed_after:
                error = {"code": "server_error", "message": "The model failed mid-response"}
                return event("response.failed", response=response_object("failed", error=error))
            return None

        output: list[dict[str, Any]] = []
        async with self._open_stream(reader, writer, reply) as channel:
            await channel.send(event("response.created", response=response_object()))
            await channel.send(event("response.in_progress", response=response_object()))
            started = time.monotonic()
            if reply.reasoning:
                item = {"id": "rs_test", "type": "reasoning", "summary": []}
                at = {"item_id": "rs_test", "output_index": len(output), "summary_index": 0}
                part = {"type": "summary_text", "text": ""}
                await channel.send(
                    event("response.output_item.added", output_index=len(output), item=item)
                )
                await channel.send(event("response.reasoning_summary_part.added", **at, part=part))
                for piece in reply.reasoning:
                    await channel.send(
                        event("response.reasoning_summary_text.delta", **at, delta=piece)
                    )
                    await channel.pause(reply.delay)
                text = "".join(reply.reasoning)
                part = {"type": "summary_text", "text": text}
                await channel.send(event("response.reasoning_summary_text.done", **at, text=text))
                await channel.send(event("response.reasoning_summary_part.done", **at, part=part))
                item = {**item, "summary": [part]}
                await channel.send(
                    event("response.output_item.done", output_index=len(output), item=item)
                )
                output.append(item)

            item = {
                "id": "msg_test",
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
            at = {"item_id": "msg_test", "output_index": len(output), "content_index": 0}
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            await channel.send(
                event("response.output_item.added", output_index=len(output), item=item)
            )
            await channel.send(event("response.content_part.added", **at, part=part))

            def content(piece: str) -> str:
                return event("response.output_text.delta", **at, delta=piece, logprobs=[])

            if not await self._send_deltas(channel, reply, started, content, cut_event):
                return
            text = "".join(reply.deltas)
            part = {**part, "text": text}
            incomplete = _INCOMPLETE_REASONS.get(reply.finish_reason or "")
            status = "incomplete" if incomplete else "completed"
            await channel.send(event("response.output_text.done", **at, text=text, logprobs=[]))
            await channel.send(event("response.content_part.done", **at, part=part))
            item = {**item, "status": status, "content": [part]}
            await channel.send(
                event("response.output_item.done", output_index=len(output), item=item)
            )
            output.append(item)

            usage = _responses_usage(reply.usage)
            if incomplete:
                details = {"reason": incomplete}
                final = response_object(
                    "incomplete", output, usage=usage, incomplete_details=details
                )
                await channel.send(event("response.incomplete", response=final))
            elif reply.finish_reason is not None:
                final = response_object("completed", output, usage=usage)
                await channel.send(event("response.completed", response=final))
            await channel.end()
            self.completed_streams += 1

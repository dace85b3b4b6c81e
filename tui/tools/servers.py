"""Connections to the configured MCP servers, and the calls made through them.

Each server lives in one task of its own that opens its transport and session, lists its
tools, and holds both open until `aclose` (anyio insists that a session is closed by the
task that opened it). Calls go through the open session from the reply's task. A server's
failure is a state with a reason, never an exception for the caller: the chat goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TextIO, cast

from tui.chat.parts import ToolOutcome
from tui.frozen import frozen
from tui.tools.catalog import Catalog, ToolInfo
from tui.tools.config import ToolLimits, ToolServerConfig

if TYPE_CHECKING:
    from mcp import ClientSession

CONNECT_TIMEOUT = 30.0
"""Seconds a server has to start and answer `initialize` and `tools/list`."""
STOP_TIMEOUT = 5.0
MCP_MISSING = "the mcp extra is not installed: pip install 'tui-chat[mcp]'"


class ServerState(StrEnum):
    CONNECTING = "connecting"
    READY = "ready"
    FAILED = "failed"


@dataclass
class ServerStatus:
    config: ToolServerConfig
    state: ServerState = ServerState.CONNECTING
    reason: str = ""
    tools: list[ToolInfo] = field(default_factory=list)


@frozen
class ToolRun:
    """What a call gave: its outcome and the text shown, stored and (cut) sent back."""

    outcome: ToolOutcome
    output: str


class ToolServers:
    def __init__(
        self,
        configs: Sequence[ToolServerConfig],
        limits: ToolLimits | None = None,
        secrets: Iterable[str | None] = (),
    ) -> None:
        """`secrets`: values no server may be given (tui-chat's API key): a server whose
        settings hold one is refused."""
        self.limits = limits or ToolLimits()
        self.statuses = {config.name: ServerStatus(config) for config in configs}
        self.listeners: list[Callable[[], None]] = []
        """Called whenever a server's state or tools change."""
        self._secrets = [secret for secret in secrets if secret and len(secret) >= 12]
        """Only real-length keys: a placeholder such as "x" is in every command line."""
        self._sessions: dict[str, ClientSession] = {}
        self._stops: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Connects every server in the background (call once, from the event loop)."""
        if self._tasks:
            return
        for status in self.statuses.values():
            self._stops[status.config.name] = asyncio.Event()
            self._tasks.append(asyncio.get_running_loop().create_task(self._run(status)))

    def restart_failed(self) -> list[str]:
        """Connects the failed servers again (one that crashed, or was started before its
        program was installed); returns their names."""
        again = [s for s in self.statuses.values() if s.state is ServerState.FAILED]
        for status in again:
            status.state, status.reason, status.tools = ServerState.CONNECTING, "", []
            self._stops[status.config.name] = asyncio.Event()
            self._tasks.append(asyncio.get_running_loop().create_task(self._run(status)))
        if again:
            self._changed()
        return [status.config.name for status in again]

    @property
    def connecting(self) -> bool:
        return any(s.state is ServerState.CONNECTING for s in self.statuses.values())

    async def wait_ready(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Returns once no server is still connecting (pipe mode waits on this)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.connecting and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)

    def catalog(self, switched_off: Iterable[str] = ()) -> Catalog:
        off = set(switched_off)
        return Catalog(
            tool
            for status in self.statuses.values()
            if status.state is ServerState.READY
            for tool in status.tools
            if tool.key not in off
        )

    def pre_allowed(self, tool: ToolInfo) -> bool:
        status = self.statuses.get(tool.server)
        return status is not None and status.config.allows(tool.name)

    async def call(self, tool: ToolInfo, arguments: dict[str, Any]) -> ToolRun:
        """Runs one call, with the server's (or the default) timeout. Cancelling the
        caller (Esc) cancels the call."""
        status = self.statuses.get(tool.server)
        session = self._sessions.get(tool.server)
        if status is None or session is None or status.state is not ServerState.READY:
            reason = status.reason if status is not None else "it is not configured"
            return ToolRun(ToolOutcome.FAILED, f"server {tool.server!r} is not ready: {reason}")
        timeout = status.config.timeout or self.limits.timeout
        try:
            result = await asyncio.wait_for(session.call_tool(tool.name, arguments), timeout)
        except TimeoutError:
            return ToolRun(ToolOutcome.FAILED, f"no answer from {tool.server!r} in {timeout:g} s")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the SDK's errors, a dead process, a broken pipe
            self._fail(status, f"it stopped during a call ({_describe(error)})")
            return ToolRun(
                ToolOutcome.FAILED,
                f"server {tool.server!r} stopped while the call ran: {_describe(error)}",
            )
        outcome = ToolOutcome.TOOL_ERROR if result.is_error else ToolOutcome.RAN
        return ToolRun(outcome, result_text(result.content, result.structured_content))

    async def aclose(self) -> None:
        for stop in self._stops.values():
            stop.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
            for task in pending:
                task.cancel()
        self._tasks.clear()

    # Each server's own task ------------------------------------------------------------

    async def _run(self, status: ServerStatus) -> None:
        config = status.config
        if config.missing:
            names = ", ".join(f"${{{name}}}" for name in config.missing)
            self._fail(status, f"{names} not set in the environment")
            return
        if any(secret in value for secret in self._secrets for value in _values(config)):
            self._fail(status, "its settings hold tui-chat's API key, which no tool server gets")
            return
        try:
            await asyncio.to_thread(importlib.import_module, "mcp.client.stdio")
        except ImportError:
            self._fail(status, MCP_MISSING)
            return
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as file:
            errors = cast(TextIO, file)
            try:
                await self._serve(status, errors)
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # anyio groups, OSError, the SDK's errors
                self._fail(status, _last_line(errors) or _describe(error))
            finally:
                self._sessions.pop(config.name, None)

    async def _serve(self, status: ServerStatus, errors: TextIO) -> None:
        from mcp import ClientSession

        config = status.config
        async with contextlib.AsyncExitStack() as stack:
            if config.command is not None:
                from mcp import StdioServerParameters
                from mcp.client.stdio import stdio_client

                parameters = StdioServerParameters(
                    command=config.command,
                    args=list(config.args),
                    env=dict(config.env) or None,
                    cwd=config.cwd,
                )
                streams = await stack.enter_async_context(stdio_client(parameters, errors))
            else:
                import httpx2
                from mcp.client.streamable_http import streamable_http_client

                from tui.tls_context import verified_tls_context

                client = httpx2.AsyncClient(
                    headers=dict(config.headers),
                    timeout=CONNECT_TIMEOUT,
                    verify=verified_tls_context(),
                )
                await stack.enter_async_context(client)
                streams = await stack.enter_async_context(
                    streamable_http_client(str(config.url), http_client=client)
                )
            session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
            await asyncio.wait_for(self._list_tools(status, session), CONNECT_TIMEOUT)
            self._sessions[config.name] = session
            status.state, status.reason = ServerState.READY, ""
            self._changed()
            await self._stops[config.name].wait()

    async def _list_tools(self, status: ServerStatus, session: ClientSession) -> None:
        from mcp.types import PaginatedRequestParams

        await session.initialize()
        tools: list[ToolInfo] = []
        cursor: str | None = None
        while True:
            page = await session.list_tools(
                params=PaginatedRequestParams(cursor=cursor) if cursor else None
            )
            for tool in page.tools:
                tools.append(
                    ToolInfo(
                        status.config.name,
                        tool.name,
                        tool.description or "",
                        dict(tool.input_schema or {}),
                    )
                )
            cursor = page.next_cursor
            if not cursor:
                break
        status.tools = tools

    def _fail(self, status: ServerStatus, reason: str) -> None:
        status.state, status.reason = ServerState.FAILED, reason
        self._sessions.pop(status.config.name, None)
        stop = self._stops.get(status.config.name)
        if stop is not None:
            stop.set()
        self._changed()

    def _changed(self) -> None:
        for listener in self.listeners:
            listener()


def result_text(content: Sequence[Any], structured: object = None) -> str:
    """A result's blocks as text: text as it is, other kinds named by what they are."""
    pieces: list[str] = []
    for block in content:
        kind = getattr(block, "type", "")
        if kind == "text":
            pieces.append(str(getattr(block, "text", "")))
        elif kind in ("image", "audio"):
            size = len(getattr(block, "data", "") or "") * 3 // 4
            pieces.append(f"[{kind}: {getattr(block, 'mime_type', '?')}, {size:,} bytes]")
        elif kind == "resource":
            resource = getattr(block, "resource", None)
            text = getattr(resource, "text", None)
            pieces.append(text if isinstance(text, str) else f"[resource {resource}]")
        elif kind == "resource_link":
            pieces.append(f"[link: {getattr(block, 'uri', '')}]")
    if not pieces and structured is not None:
        pieces.append(json.dumps(structured, ensure_ascii=False, indent=2))
    return "\n".join(pieces)


def _values(config: ToolServerConfig) -> list[str]:
    return [
        config.command or "",
        config.url or "",
        *config.args,
        *config.env.values(),
        *config.headers.values(),
    ]


def _describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return _describe(error.exceptions[0])
    return str(error) or type(error).__name__


def _last_line(errors: TextIO) -> str:
    """The last thing the server wrote to stderr: usually why it failed."""
    with contextlib.suppress(OSError, ValueError):
        errors.seek(0)
        lines = [line.strip() for line in errors.read()[-4000:].splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""
    return ""

"""Non-interactive mode: stream one answer to stdout for pipes and scripts.

stdout carries exactly the answer's text; reasoning, notes and errors go to stderr, so
`answer=$(tui-chat -p "...")` captures only the answer. On a terminal the text is made
safe first; into a pipe it is written as the model sent it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from tui.chat.events import ContentDelta, ReasoningDelta, Retrying, StreamEvent
from tui.chat.message import MessageStatus
from tui.chat.parts import ToolCallPart, ToolOutcome
from tui.chat.safe_text import make_safe
from tui.chat.session_events import ReplyEnded, ReplyProgress, SessionEvent, ToolsChanged
from tui.config import Settings
from tui.error_words import tell, tell_retry, tell_skipped
from tui.exit_status import (
    EXIT_API_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_READER_GONE,
    EXIT_USAGE,
)
from tui.gc_tuning import collect_again_after_start_up
from tui.session import ChatSession
from tui.session_context import Fit
from tui.tool_calls import Approval, make_tool_caller
from tui.tools.labels import call_label

if TYPE_CHECKING:
    from tui.tools.catalog import ToolInfo
    from tui.tools.servers import ToolServers


async def answer_once(
    settings: Settings,
    prompt: str,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    tools: bool = False,
    run_tools: bool = False,
) -> int:
    """Streams the answer to `prompt` through a session with no store; returns the
    process exit status. `tools`: the configured servers' tools are offered; a call runs
    only with `run_tools` (--yes) or when the config allows its tool."""
    printer = _Printer(out or sys.stdout, err or sys.stderr)
    caller = None
    if tools:
        caller = make_tool_caller(settings)
        if caller is None:
            printer.note("--tools: no [mcp_servers] in the config file")
            return EXIT_USAGE
        caller.approver = _approve_all if run_tools else printer.refuse_tool
        caller.servers.start()
        await caller.servers.wait_ready()
        printer.say_failed_servers(caller.servers)
    session = ChatSession(settings, None, tools=caller)
    session.subscribe(printer)
    stopping: list[asyncio.Task[str | None]] = []
    printer.on_reader_gone = lambda: stopping.append(asyncio.create_task(session.cancel()))
    try:
        if not session.surely_fits(prompt):
            fill = await session.context_fill(prompt)
            if fill is not None and fill.tokens > fill.window:
                printer.note(
                    f"the prompt is about {fill.tokens:,} tokens, more than the model's "
                    f"context window of {fill.window:,}: shorten it"
                )
                return EXIT_USAGE
        # No history here, so nothing to leave out: the server judges what remains.
        await session.send(prompt, fit=Fit.RECENT)
        await session.wait_for_reply()
        for task in stopping:
            await task
    finally:
        await session.close()
    return printer.status


class _Printer:
    """Follows the session's events: the answer to stdout, everything else to stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.clean_out = make_safe if out.isatty() else _unchanged
        self.clean_err = make_safe if err.isatty() else _unchanged
        self.status = EXIT_API_ERROR
        self.wrote_text = False
        self.ends_with_newline = False
        self.told_results: set[str] = set()
        self.collecting = False
        self.reader_gone = False
        """Nobody reads stdout any more: nothing more is written there."""
        self.err_reader_gone = False
        """Nobody reads stderr any more: the thinking and notes go nowhere."""
        self.on_reader_gone: Callable[[], object] = lambda: None
        """Called once the reader has gone: the reply is not wanted."""

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, ReplyProgress):
            self._progress(event.event)
        elif isinstance(event, ToolsChanged):
            self._tools(event)
        elif isinstance(event, ReplyEnded):
            self._end(event)
        if not self.collecting and isinstance(event, (ReplyProgress, ReplyEnded)):
            # The answer's first word (or its end) is out: collection back on, off since
            # launch (`tui.launch`) while the client library loaded for the request.
            self.collecting = True
            collect_again_after_start_up()

    def _tools(self, event: ToolsChanged) -> None:
        """Tool activity goes to stderr: what runs, then how it ended."""
        for call in event.reply.tool_calls:
            result = event.reply.result_of(call)
            if call.call_id == event.running:
                arguments = " ".join(call.arguments.split())[:200]
                self.note(f"running {call_label(call.name)} {arguments}")
            elif result is not None and call.call_id not in self.told_results:
                self.told_results.add(call.call_id)
                said = f"{call_label(call.name)}: {result.outcome.value}"
                if result.outcome is not ToolOutcome.DENIED and result.output:
                    said += f" ({len(result.output):,} characters)"
                self.note(said)

    async def refuse_tool(
        self, call: ToolCallPart, tool: ToolInfo, arguments: dict[str, Any]
    ) -> Approval:
        self.note(
            f"the model asked to run {tool.key}; tools need approval: add --yes, or allow "
            f"it in the config (allow = [{tool.name!r}] under [mcp_servers.{tool.server}])"
        )
        return Approval.DENY

    def say_failed_servers(self, servers: ToolServers) -> None:
        from tui.tools.servers import ServerState

        for name, status in servers.statuses.items():
            if status.state is not ServerState.READY:
                self.note(f"tool server {name!r} is not ready: {status.reason or status.state}")

    def note(self, text: str) -> None:
        """A line for the user on stderr, as `tui-chat: text`."""
        self._write_err(f"tui-chat: {self.clean_err(text)}\n")

    def _progress(self, event: StreamEvent) -> None:
        if isinstance(event, ContentDelta):
            self._write_out(self.clean_out(event.text))
            self.wrote_text = True
            self.ends_with_newline = event.text.endswith("\n")
        elif isinstance(event, ReasoningDelta):
            self._write_err(self.clean_err(event.text))
        elif isinstance(event, Retrying):
            self.note(tell_retry(event, in_app=False))

    def _write_out(self, text: str) -> None:
        """Writes to stdout, as long as someone reads it: once nobody does, the reply is
        not wanted."""
        if self.reader_gone:
            return
        if not _written(self.out, text):
            self.reader_gone = True
            self.status = EXIT_READER_GONE
            self.on_reader_gone()

    def _write_err(self, text: str) -> None:
        """Writes to stderr, as long as someone reads it: the answer goes on regardless."""
        if not self.err_reader_gone and not _written(self.err, text):
            self.err_reader_gone = True

    def _end(self, event: ReplyEnded) -> None:
        reply = event.reply
        self._write_out(
            "\n" if self.wrote_text and not self.ends_with_newline and self.out.isatty() else ""
        )
        if self.reader_gone:
            return  # (the reply was stopped for it, or its last words were lost: no more)
        if reply.skipped_events:
            self.note(tell_skipped(reply.skipped_events))
        if event.error is not None:
            self.note(tell(event.error, in_app=False).one_line())
            self.status = EXIT_API_ERROR
        elif reply.status is MessageStatus.DONE:
            if reply.finish_reason == "length":
                self.note("the answer was cut off by the token limit")
            elif reply.finish_reason == "content_filter":
                self.note("the answer was stopped by the content filter")
            self.status = EXIT_OK
        else:
            self.status = EXIT_INTERRUPTED


async def _approve_all(
    _call: ToolCallPart, _tool: ToolInfo, _arguments: dict[str, Any]
) -> Approval:
    return Approval.ONCE


def _unchanged(text: str) -> str:
    return text


def _written(stream: TextIO, text: str) -> bool:
    """Writes and flushes `text`; False if nobody reads `stream` any more (its pipe is
    closed), which then points it at the null device: what its buffer still holds,
    flushed when Python exits, goes nowhere instead of failing a second time there."""
    try:
        stream.write(text)
        stream.flush()
    except OSError as error:
        # Windows says EINVAL where a closed pipe is meant (CPython issue 79935).
        if not isinstance(error, BrokenPipeError) and not (
            os.name == "nt" and error.errno == errno.EINVAL
        ):
            raise
        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, stream.fileno())
            os.close(null)
        return False
    return True

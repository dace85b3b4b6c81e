"""A reply's tool calls: gathered as they stream, then each run with the user's consent.

Nothing runs without consent: a call runs when its tool is allowed in the config, was
allowed with "always" in this conversation, or the user approves it now (the approver:
a dialog in the app, `--yes` in pipe mode). Every call ends with a result part, whatever
happens (ran, tool error, failed, denied, stopped), so the history sent back is complete.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.chat.events import ChatError, ToolCallDelta
from tui.chat.message import Message, MessageStatus
from tui.chat.parts import ToolCallPart, ToolOutcome, ToolResultPart
from tui.chat.session_events import ToolsChanged
from tui.chat.tool_choices import ToolChoices
from tui.config import Settings

if TYPE_CHECKING:  # the servers' code loads only when some are configured
    from tui.tools.catalog import Catalog, ToolInfo
    from tui.tools.servers import ToolServers


class Approval(StrEnum):
    ONCE = "once"
    ALWAYS = "always"
    """For the rest of this conversation."""
    DENY = "deny"


Approver = Callable[[ToolCallPart, "ToolInfo", dict[str, Any]], Awaitable[Approval]]


async def deny_all(_call: ToolCallPart, _tool: ToolInfo, _arguments: dict[str, Any]) -> Approval:
    """Where nobody can be asked, nothing runs that was not allowed beforehand."""
    return Approval.DENY


class StreamedCalls:
    """The calls of one round, built from their pieces (several calls by index, an
    argument cut anywhere, or a whole call in one chunk)."""

    def __init__(self, reply: Message) -> None:
        self.reply = reply
        self._by_index: dict[int, ToolCallPart] = {}

    def add(self, delta: ToolCallDelta) -> None:
        call = self._by_index.get(delta.index)
        if call is None or (delta.call_id and call.call_id != delta.call_id and call.arguments):
            call_id = self._unique(delta.call_id or f"call_{len(self.reply.tool_calls) + 1}")
            call = self._by_index[delta.index] = ToolCallPart(call_id)
            self.reply.parts.append(call)
        elif delta.call_id and call.call_id.startswith("call_") and not call.arguments:
            call.call_id = self._unique(delta.call_id, call)
        call.name += delta.name
        call.arguments += delta.arguments

    def _unique(self, call_id: str, this: ToolCallPart | None = None) -> str:
        """Servers that number calls per response (`call_0` in every round) would pair a
        later call with an earlier result: a repeated id gets a suffix, the same one in the
        call and its result on the wire, so the pair still matches."""
        taken = {call.call_id for call in self.reply.tool_calls if call is not this}
        unique, number = call_id, 2
        while unique in taken:
            unique, number = f"{call_id}~{number}", number + 1
        return unique


def make_tool_caller(settings: Settings) -> ToolCaller | None:
    """The tools of the configured servers (not yet connected: see `ToolServers.start`);
    None without servers, so nothing about tools costs anything then."""
    if not settings.tool_servers:
        return None
    from tui.tools.servers import ToolServers

    return ToolCaller(
        ToolServers(settings.tool_servers, settings.tool_limits, secrets=[settings.api_key])
    )


class ToolCaller:
    """Runs a reply's unanswered calls; `emit` tells observers, `save` stores the reply."""

    def __init__(self, servers: ToolServers, approver: Approver = deny_all) -> None:
        self.servers = servers
        self.approver = approver

    def catalog(self, choices: ToolChoices) -> Catalog:
        return self.servers.catalog(choices.switched_off)

    async def answer(
        self,
        reply: Message,
        choices: ToolChoices,
        emit: Callable[[ToolsChanged], None],
        save: Callable[[], None],
        choices_changed: Callable[[], None],
    ) -> None:
        """Answers the reply's waiting calls, with the tools on offer now (`choices`)."""
        calls = reply.unanswered_calls()
        catalog = self.catalog(choices)
        save()  # the calls are stored before any runs: a crash mid-call leaves them on record
        try:
            for call in calls:
                allowed_before = set(choices.always_allowed)
                reply.parts.append(await self._answer_one(reply, call, catalog, choices, emit))
                if choices.always_allowed != allowed_before:
                    choices_changed()
                save()
                emit(ToolsChanged(reply))
        except asyncio.CancelledError:
            for call in reply.unanswered_calls():
                reply.parts.append(ToolResultPart(call.call_id, ToolOutcome.STOPPED))
            emit(ToolsChanged(reply))
            raise

    async def _answer_one(
        self,
        reply: Message,
        call: ToolCallPart,
        catalog: Catalog,
        choices: ToolChoices,
        emit: Callable[[ToolsChanged], None],
    ) -> ToolResultPart:
        tool = catalog.find(call.name)
        if tool is None:
            return ToolResultPart(
                call.call_id,
                ToolOutcome.FAILED,
                f"there is no tool named {call.name!r} (the tools on offer: "
                f"{', '.join(catalog.by_api_name) or 'none'})",
            )
        try:
            arguments = json.loads(call.arguments) if call.arguments.strip() else {}
        except ValueError as error:
            return ToolResultPart(
                call.call_id, ToolOutcome.FAILED, f"the arguments are not valid JSON ({error})"
            )
        if not isinstance(arguments, dict):
            return ToolResultPart(
                call.call_id, ToolOutcome.FAILED, "the arguments are not a JSON object"
            )
        if not (self.servers.pre_allowed(tool) or tool.key in choices.always_allowed):
            emit(ToolsChanged(reply, asking=call.call_id))
            decision = await self.approver(call, tool, arguments)
            if decision is Approval.DENY:
                return ToolResultPart(call.call_id, ToolOutcome.DENIED)
            if decision is Approval.ALWAYS:
                choices.always_allowed.add(tool.key)
        emit(ToolsChanged(reply, running=call.call_id))
        run = await self.servers.call(tool, arguments)
        return ToolResultPart(call.call_id, run.outcome, run.output)


def close_unanswered(reply: Message, error: ChatError | None, tools: ToolCaller | None) -> bool:
    """Gives every call left unanswered when a reply ends a result saying why it did not
    run; False if there were none."""
    calls = reply.unanswered_calls()
    if not calls:
        return False
    if reply.status is MessageStatus.STOPPED:
        outcome, why = ToolOutcome.STOPPED, ""
    elif error is not None:
        outcome, why = ToolOutcome.FAILED, "the reply failed before the call could run"
    elif tools is None:
        outcome, why = ToolOutcome.FAILED, "no tool servers are set up in this session"
    else:
        rounds = tools.servers.limits.max_rounds
        outcome, why = ToolOutcome.FAILED, f"not run: the limit of {rounds} tool rounds"
    for call in calls:
        reply.parts.append(ToolResultPart(call.call_id, outcome, why))
    return True

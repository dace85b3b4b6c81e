"""The session's care for the context window: knowing it, counting against it, and the two
ways on when a prompt would not fit (the recent turns only, or a summary on a new branch).

A part of `ChatSession` kept in its own file (a mixin): the rules are the session's, the
size of them is not.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING

from tui.chat.context import ANSWER_RESERVE, ContextFill, Counter, first_kept
from tui.chat.events import ChatError, ContentDelta, ErrorKind, Failed
from tui.chat.message import Message
from tui.chat.session_events import Compacting, ContextTooLong, SessionEvent, TurnsLeftOut
from tui.chat.wire import wire_messages

if TYPE_CHECKING:
    from tui.backend import ChatBackend
    from tui.chat.conversation import Conversation
    from tui.config import Settings

WINDOW_PROBE_TIMEOUT = 5.0
SMALLEST_WINDOW = 2048
"""No chat model in use has less."""
SUMMARY_REQUEST = (
    "Summarise our conversation so far for a fresh start: the facts, decisions, code and "
    "open questions someone would need to continue it, as concise Markdown. Write only the "
    "summary."
)
SUMMARY_HEADER = (
    "Summary of the conversation so far (made to fit the model's context window; the full "
    "history stays in the earlier branch):"
)
_STATED_WINDOW = re.compile(
    r"(?:maximum context length is|context length of|context size \(|context window of"
    r"|n_ctx[^0-9]{0,20})\s*(\d[\d,]*)",
    re.IGNORECASE,
)


class Fit(StrEnum):
    """How a prompt goes out when the conversation may not fit the window."""

    ALL = "all"
    """The whole conversation; refused (`ContextTooLong`) if the count says it won't fit."""
    RECENT = "recent"
    """Only the most recent turns that fit; the others are left out (and said so)."""
    COMPACT = "compact"
    """The model summarises the conversation; a new branch starts from the summary."""


class ContextKeeping:
    settings: Settings
    backend: ChatBackend
    conversation: Conversation

    def _emit(self, event: SessionEvent) -> None:
        raise NotImplementedError

    def _init_context(self) -> None:
        self._windows: dict[str, int | None] = {}
        self._start_of: dict[int, Message] = {}
        """id(reply) -> the first message its request carries (when turns were left out)."""
        self._cut: tuple[Conversation, Message] | None = None
        """Where this conversation's requests start since turns were left out: the later
        prompts of the branch leave them out too (and are counted without them)."""

    async def context_window(self) -> int | None:
        """The model's window in tokens: the profile's `context_window`, else what the
        server says (asked once per model), else None (unknown: nothing is guessed)."""
        if self.settings.context_window:
            return self.settings.context_window
        model = self._model
        if model not in self._windows:
            try:
                window = await asyncio.wait_for(
                    self.backend.context_window(model), WINDOW_PROBE_TIMEOUT
                )
            except TimeoutError:
                window = None
            self._windows.setdefault(model, window)
        return self._windows[model]

    @property
    def _model(self) -> str:
        return self.conversation.model or self.settings.model

    async def context_fill(self, prompt: str = "") -> ContextFill | None:
        """How full the window is (with `prompt` added); None when the window is unknown."""
        window = await self.context_window()
        if not window:
            return None
        counted = Counter(
            self.conversation.system_prompt, self._sent_part(self.conversation.messages)
        )
        return replace(counted.tokens(prompt), window=window)

    def _sent_part(self, history: list[Message]) -> list[Message]:
        """`history` from where requests start (all of it unless turns were left out)."""
        if self._cut is not None and self._cut[0] is self.conversation and self._cut[1] in history:
            return history[history.index(self._cut[1]) :]
        return history

    def request_start(self, reply: Message) -> Message | None:
        """The first message `reply`'s request carries, when earlier ones are left out."""
        start = self._start_of.get(id(reply))
        if start is not None:
            return start
        history = self.conversation.history_before(reply)
        sent = self._sent_part(history)
        return sent[0] if sent and len(sent) < len(history) else None

    def surely_fits(self, prompt: str) -> bool:
        """A short conversation fits any model's window: checking it would only cost a
        request to the server before the first prompt of every session."""
        if self.settings.context_window:
            return False
        counted = Counter(self.conversation.system_prompt, self.conversation.messages)
        return counted.tokens(prompt).tokens < SMALLEST_WINDOW // 2

    def answer_reserve(self, window: int) -> int:
        """Tokens kept free for the answer: the profile's `max_tokens`, or 1,024 (at most
        a quarter of a small window)."""
        asked = self.settings.params.get("max_tokens") or self.settings.params.get(
            "max_completion_tokens"
        )
        if type(asked) is int and asked > 0:
            return min(asked, window // 2)
        return min(ANSWER_RESERVE, window // 4)

    def _would_overflow(self, fill: ContextFill) -> bool:
        return fill.tokens + self.answer_reserve(fill.window) > fill.window

    def _fitting_start(self, history: list[Message], tail: str, window: int | None) -> int | None:
        """Where `history` must start for it and `tail` after it to fit the window with
        room for the answer (`len(history)`: not even the tail alone); None: unknown."""
        if not window:
            return None
        system = self.conversation.system_prompt
        room = window - self.answer_reserve(window)
        ratio = Counter(system, history).chars_per_token()
        kept = first_kept(system, history, tail, room, ratio)
        return len(history) if kept is None else kept

    async def _leave_out_early_turns(self, prompt: Message, reply: Message) -> None:
        """Sends `reply`'s request with only the recent turns that fit, and says which
        were left out. An unknown window keeps the later half of the turns."""
        history = self.conversation.history_before(prompt)
        if not history:  # nothing to leave out (and no need to ask the server anything)
            return
        start = self._fitting_start(history, prompt.content, await self.context_window())
        if start is None:
            start = len(history) // 2
        if start:
            first = history[start] if start < len(history) else prompt
            self._start_of[id(reply)] = first
            self._cut = (self.conversation, first)
            self._emit(TurnsLeftOut(reply, history[:start]))

    def _note_stated_window(self, error: ChatError) -> int | None:
        """A server's "maximum context length is 8192 tokens" is remembered as the window."""
        found = _STATED_WINDOW.search(error.detail or "")
        if found is None:
            return None
        window = int(found.group(1).replace(",", ""))
        self._windows[self._model] = window
        return window

    def _context_refused(self, reply: Message, error: ChatError | None) -> None:
        """The server refused the request as too long: offer the same ways on."""
        if error is None or error.kind is not ErrorKind.CONTEXT_LENGTH or reply.parent is None:
            return
        window = self._note_stated_window(error) or self._windows.get(self._model)
        counted = Counter(self.conversation.system_prompt, self.conversation.history_before(reply))
        fill = replace(counted.tokens(), window=window or 0)
        self._emit(ContextTooLong(reply.parent.content, fill, from_server=True))

    async def _summary(self) -> str | ChatError:
        """The model's summary of the conversation (as much of it as fits, newest first)."""
        path = self.conversation.messages
        start = self._fitting_start(path, SUMMARY_REQUEST, await self.context_window()) or 0
        history = wire_messages(self.conversation.system_prompt, path[start:])
        history.append({"role": "user", "content": SUMMARY_REQUEST})
        self._emit(Compacting())
        pieces: list[str] = []
        error: ChatError | None = None
        async for event in self.backend.stream_reply(history, self.conversation.model or ""):
            if isinstance(event, ContentDelta):
                pieces.append(event.text)
            elif isinstance(event, Failed):
                error = event.error
        summary = "".join(pieces).strip()
        if error is None and not summary:
            error = ChatError(ErrorKind.EMPTY_REPLY)
        self._emit(Compacting(done=True, error=error))
        return error if error is not None else summary


def compacted_prompt(summary: str, prompt: str) -> str:
    return f"{SUMMARY_HEADER}\n\n{summary}\n\n---\n\n{prompt}"

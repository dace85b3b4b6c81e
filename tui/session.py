"""One conversation's owner: every command goes through here, one at a time.

The session holds the conversation, the store and the backend. It streams replies, keeps
the store in step (it is the only code that writes a conversation), and tells its
observers what changed through typed events (`tui.chat.session_events`). The full-screen
app and pipe mode are both observers; neither touches the store or the backend for a
conversation. There is no Textual here, so every rule is testable in milliseconds.

One reply streams at a time. A prompt sent meanwhile waits in a one-place queue and goes
out when the reply ends; Esc (cancel) stops the reply and hands the waiting prompt back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.backend import ChatBackend
from tui.chat.conversation import Conversation
from tui.chat.events import (
    ChatError,
    ErrorKind,
)
from tui.chat.images import ImagePart
from tui.chat.message import Message, MessageStatus, Role
from tui.chat.session_events import (
    Compacting,
    ContextTooLong,
    MessageAdded,
    PathChanged,
    QueueChanged,
    ReplyEnded,
    ReplyStarted,
    SessionEvent,
    ToolsChanged,
    ToolServersChanged,
)
from tui.chat.wire import RESULT_LIMIT, wire_messages
from tui.config import Settings
from tui.gc_tuning import fewer_collections
from tui.reply_round import read_round
from tui.session_context import ContextKeeping, Fit, compacted_prompt
from tui.session_conversations import ConversationCommands
from tui.session_prefetch import Prefetch
from tui.session_rest import CommandLock, RestReading
from tui.session_saving import Saver
from tui.tool_calls import ToolCaller, close_unanswered

if TYPE_CHECKING:
    from tui.store import Store


Observer = Callable[[SessionEvent], None]


class SendOutcome(StrEnum):
    SENT = "sent"
    TOO_LONG = "too long"
    """The conversation would not fit the context window: nothing was sent, and
    `ContextTooLong` says how full it is (send again with a `Fit`)."""
    NOT_SENT = "not sent"
    """Compacting failed (`Compacting` says why): nothing was sent."""
    QUEUED = "queued"
    """A reply is streaming: the prompt goes out when it ends."""
    BUSY = "busy"
    """A reply is streaming and another prompt already waits: this one was not taken."""
    REPLACED = "replaced"
    """Typed for a conversation whose rest could not be read, which a new one replaced
    meanwhile (`RestOfConversationRead` says why): nothing was sent, since the model would
    have answered it without what came before."""


class ChatSession(ContextKeeping, RestReading, ConversationCommands):
    def __init__(
        self,
        settings: Settings,
        store: Store | None,
        *,
        backend: ChatBackend | None = None,
        conversation: Conversation | None = None,
        reopen_store: Callable[[], Store] | None = None,
        tools: ToolCaller | None = None,
        unread_earlier: int = 0,
    ) -> None:
        """`store` None with `reopen_store`: the history could not be opened; the session
        keeps everything in memory and writes it once `reopen_store` succeeds. `store` None
        alone: no history at all (pipe mode). `unread_earlier`: `conversation` is the end of
        a stored one's path, that many messages before it unread (`read_the_rest`)."""
        self.settings = settings
        self.saver = Saver(store, settings.endpoint_label, self._emit, reopen=reopen_store)
        self.backend = backend or ChatBackend(settings)
        self.conversation = conversation or self._fresh_conversation()
        self.queued: str | None = None
        """The prompt waiting for the streaming reply to end."""
        self.reply_end_barrier: Callable[[], Awaitable[None]] | None = None
        """Awaited after a reply ends, before collection thresholds come back: the screen
        uses it to let the frame that shows the reply's end go first."""
        self._observers: list[Observer] = []
        self._commands = CommandLock()
        self._reply_task: asyncio.Task[None] | None = None
        self._streaming: Message | None = None
        self._queued_task: asyncio.Task[None] | None = None
        self._init_context()
        self._queued_images: list[ImagePart] = []
        self._summary_task: asyncio.Task[str | ChatError] | None = None
        self.tools = tools
        """Tool calls through MCP servers, when any are configured."""
        self.prefetch = Prefetch()
        """The stored conversation the user may open next, read ahead (`read_ahead`)."""
        self.unread_earlier, self._rest_later = unread_earlier, False
        self.replaced_unread = 0
        self._rest: asyncio.Task[None] | None = None  # (their read: `read_the_rest`)
        if unread_earlier:  # closed from the start (`read_the_rest` reads them)
            self._commands.whole.clear()
        if tools is not None:
            tools.servers.listeners.append(lambda: self._emit(ToolServersChanged()))

    def _fresh_conversation(self) -> Conversation:
        return Conversation(system_prompt=self.settings.system_prompt, model=self.settings.model)

    # Observing -----------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def unsubscribe(self, observer: Observer) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def _emit(self, event: SessionEvent) -> None:
        for observer in self._observers:
            observer(event)

    @property
    def store(self) -> Store | None:
        return self.saver.store

    @property
    def is_streaming(self) -> bool:
        return self._reply_task is not None and not self._reply_task.done()

    @property
    def streaming_reply(self) -> Message | None:
        return self._streaming if self.is_streaming else None

    # Sending and stopping ------------------------------------------------------------

    async def send(
        self, text: str, fit: Fit = Fit.ALL, images: Sequence[ImagePart] = ()
    ) -> SendOutcome:
        """Adds the user's prompt at the end and streams the answer; while a reply streams
        the prompt is queued (one at most). A prompt that would overflow a known context
        window is not sent unless `fit` says how (see `tui.session_context`); nor one sent
        while the rest of the conversation is read, if that fails (`REPLACED`)."""
        replaced_before = self.replaced_unread
        async with self._commands:
            if self.replaced_unread != replaced_before:
                return SendOutcome.REPLACED
            if self.is_streaming:
                if self.queued is not None:
                    return SendOutcome.BUSY
                self.queued, self._queued_images = text, list(images)
                self._emit(QueueChanged(text))
                return SendOutcome.QUEUED
            if fit is Fit.ALL and not self.surely_fits(text):
                fill = await self.context_fill(text)
                if fill is not None and self._would_overflow(fill):
                    self._emit(ContextTooLong(text, fill))
                    return SendOutcome.TOO_LONG
            if fit is Fit.COMPACT:
                return await self._compact_and_send(text, images)
            await self._send_now(text, recent_only=fit is Fit.RECENT, images=images)
            return SendOutcome.SENT

    async def retry_fitting(self, fit: Fit) -> bool:
        """After the server refused the last prompt as too long: sends it again with the
        recent turns only, or compacted on a new branch. False: nothing to retry."""
        async with self._commands:
            reply = self.conversation.last
            if self.is_streaming or reply is None or reply.role is not Role.ASSISTANT:
                return False
            prompt = reply.parent
            if prompt is None or prompt.role is not Role.USER:
                return False
            if reply.is_empty and not reply.children:
                self._delete(reply)
            if fit is Fit.COMPACT:
                compacted = await self._compact_and_send(prompt.content, prompt.images)
                return compacted is SendOutcome.SENT
            new_reply = self.conversation.start_reply(self.conversation.model, parent=prompt)
            self._persist(new_reply)
            self._emit(PathChanged(self.conversation.messages.index(new_reply), new_reply))
            await self._leave_out_early_turns(prompt, new_reply)
            self._begin_streaming(new_reply)
            return True

    async def _compact_and_send(self, text: str, images: Sequence[ImagePart] = ()) -> SendOutcome:
        self._summary_task = asyncio.get_running_loop().create_task(self._summary())
        try:
            summary = await self._summary_task
        except asyncio.CancelledError:
            self._emit(Compacting(done=True, stopped=True))
            return SendOutcome.NOT_SENT
        finally:
            self._summary_task = None
        if isinstance(summary, ChatError):
            return SendOutcome.NOT_SENT
        message = self.conversation.add_user_message(
            compacted_prompt(summary, text), parent=self.conversation.root
        )
        message.parts.extend(images)
        await self.saver.message_off_the_loop(self.conversation, message)
        self._emit(PathChanged(0, message))
        await self._start_reply(message)
        return SendOutcome.SENT

    async def _send_now(
        self,
        text: str,
        parent: Message | None = None,
        recent_only: bool = False,
        images: Sequence[ImagePart] = (),
    ) -> Message:
        message = self.conversation.add_user_message(text, parent=parent)
        message.parts.extend(images)
        # Stored before the request goes out: never lost.
        await self.saver.message_off_the_loop(self.conversation, message)
        if parent is None:
            self._emit(MessageAdded(message))
        else:
            index = self.conversation.messages.index(message)
            self._emit(PathChanged(index, message))
        await self._start_reply(message, recent_only)
        return message

    @property
    def is_compacting(self) -> bool:
        return self._summary_task is not None and not self._summary_task.done()

    async def cancel(self) -> str | None:
        """Stops the streaming reply (its text so far stays, marked stopped) and returns
        the prompt that was waiting for it, if any, so it is not lost. Stops compacting
        too (nothing is sent then)."""
        if self._summary_task is not None:
            self._summary_task.cancel()
        waiting, self.queued = self.queued, None
        if waiting is not None:
            self._emit(QueueChanged(None))
        await self._stop_reply()
        return waiting

    @property
    def can_retry(self) -> bool:
        """Whether `retry()` has something to answer again (the footer offers Ctrl+R
        only then): the last message is a prompt, or a reply to one."""
        return self._prompt_answered_again(self.conversation.last) is not None

    @staticmethod
    def _prompt_answered_again(target: Message | None) -> Message | None:
        """The prompt `retry` answers again for `target`: itself, or the one it replied to."""
        if target is None:
            return None
        if target.role is Role.USER:
            return target
        return target.parent if target.role is Role.ASSISTANT else None

    async def retry(self, reply: Message | None = None) -> bool:
        """Generates `reply` again (the last message by default) as a new sibling; the old
        one stays a version to step back to. A reply that streams is stopped first; one
        that ended with nothing in it is replaced, not kept. False: nothing to answer."""
        async with self._commands:
            await self._stop_reply()
            target = reply or self.conversation.last
            if target is None or not self.conversation.contains(target):
                return False
            parent = self._prompt_answered_again(target)
            if parent is None:
                return False
            if target.role is Role.ASSISTANT and target.is_empty and not target.children:
                self._delete(target)
            new_reply = self.conversation.start_reply(self.conversation.model, parent=parent)
            self._persist(new_reply)
            self._emit(PathChanged(self.conversation.messages.index(new_reply), new_reply))
            self._begin_streaming(new_reply)
            return True

    async def edit_and_resend(self, message: Message, text: str) -> SendOutcome:
        """Sends `text` in place of an earlier prompt: a sibling of it, so the old branch
        stays in the conversation (Alt+Left goes back to it). `REPLACED` as `send`."""
        replaced_before = self.replaced_unread
        async with self._commands:
            if self.replaced_unread != replaced_before:
                return SendOutcome.REPLACED
            await self._stop_reply()
            if not self.conversation.contains(message):  # deleted meanwhile: send it anew
                await self._send_now(text)
                return SendOutcome.SENT
            parent = self.conversation.parent_of(message)
            await self._send_now(text, parent=parent, images=message.images)
            return SendOutcome.SENT

    async def _start_reply(self, prompt: Message, recent_only: bool = False) -> None:
        reply = self.conversation.start_reply(self.conversation.model, parent=prompt)
        self._persist(reply)
        if recent_only:
            await self._leave_out_early_turns(prompt, reply)
        self._begin_streaming(reply)

    def _begin_streaming(self, reply: Message) -> None:
        self._streaming = reply
        self._emit(ReplyStarted(reply))
        self._reply_task = asyncio.get_running_loop().create_task(self._stream(reply))

    async def _stop_reply(self) -> None:
        task = self._reply_task
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def wait_for_reply(self) -> None:
        """Returns once no reply streams (pipe mode and tests wait on this)."""
        while self._reply_task is not None and not self._reply_task.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(self._reply_task)
            await asyncio.sleep(0)
            if self._queued_task is not None and not self._queued_task.done():
                await self._queued_task

    async def _stream(self, reply: Message) -> None:
        """Streams one reply into `reply`, round after round while the model calls tools;
        every way out leaves it final and stored."""
        started = time.monotonic()
        error: ChatError | None = None
        try:
            with fewer_collections():
                try:
                    rounds = 0
                    while True:
                        error = await self._stream_round(reply, started)
                        if error is not None or not reply.unanswered_calls():
                            break
                        if self.tools is None or rounds >= self.tools.servers.limits.max_rounds:
                            break
                        rounds += 1
                        reply.status = MessageStatus.STREAMING
                        await self.tools.answer(
                            reply,
                            self.conversation.tools,
                            self._emit,
                            lambda: self._persist(reply),
                            self._save_tool_choices,
                        )
                finally:
                    if reply.status is MessageStatus.STREAMING:
                        reply.status = MessageStatus.STOPPED
                    if close_unanswered(reply, error, self.tools):
                        self._emit(ToolsChanged(reply))
                    reply.duration = time.monotonic() - started
                    self._start_of.pop(id(reply), None)
                    self._emit(ReplyEnded(reply, error))
                    self._context_refused(reply, error)
                    # Shielded: Esc or Ctrl+R arriving now must not cut the last save short.
                    await asyncio.shield(self.saver.final(self.conversation, reply))
                    if self.reply_end_barrier is not None:
                        await self.reply_end_barrier()
        finally:
            if self.queued is not None:
                self._queued_task = asyncio.get_running_loop().create_task(self._send_queued())

    async def _stream_round(self, reply: Message, started: float) -> ChatError | None:
        """One request: its text, thinking and tool calls go into `reply`."""
        limit = self.tools.servers.limits.result_limit if self.tools else RESULT_LIMIT
        history = self.conversation.request_messages(
            until=reply, result_limit=limit, start=self.request_start(reply)
        )
        history += wire_messages(None, [reply], limit)  # this reply's earlier rounds
        catalog = self.tools.catalog(self.conversation.tools) if self.tools else None
        definitions = catalog.definitions() if catalog else []
        events = self.backend.stream_reply(history, reply.model or "", definitions)
        error = await read_round(events, reply, started, self._emit, self._persist)
        if error is not None and error.kind is ErrorKind.BAD_REQUEST and definitions:
            error = replace(error, tools_offered=len(definitions))  # the hint names tools
        if error is not None and error.kind is ErrorKind.BAD_REQUEST and _has_images(history):
            error = replace(error, images_sent=True, model=error.model or (reply.model or ""))
        return error

    async def _send_queued(self) -> None:
        async with self._commands:
            if self.is_streaming or self.queued is None:
                return
            text, self.queued = self.queued, None
            images, self._queued_images = self._queued_images, []
            self._emit(QueueChanged(None))
            await self._send_now(text, images=images)

    async def _drop_queue_and_reply(self) -> None:
        if self.queued is not None:
            self.queued = None
            self._emit(QueueChanged(None))
        await self._stop_reply()

    async def close(self) -> None:
        """Stops any reply (saved as stopped), closes the client and the store."""
        self.queued = None
        self.prefetch.close()
        await self._stop_reading_the_rest()
        await self._stop_reply()
        await self.backend.aclose()
        if self.tools is not None:
            await self.tools.servers.aclose()
        await self.prefetch.settled()  # its snapshot ended: the log checkpoints whole
        await self.saver.flush()
        self.saver.close()

    def _persist(self, message: Message) -> None:
        self.saver.message(self.conversation, message)


def _has_images(history: list[dict[str, Any]]) -> bool:
    return any(isinstance(message.get("content"), list) for message in history)

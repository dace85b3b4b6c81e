"""The rest of a conversation shown from a part of its path (its end at launch, the
messages around a search hit): read after the part is on screen, a step per turn of the
event loop, and built around the part's messages (the same objects, so the views on
screen stay). Until it is whole, no command runs: each would act on a part of a tree.

A part of `ChatSession` kept in its own file (a mixin), as `tui.session_conversations`
is; `ConversationCommands.open` and the app's start-up hand it the part.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Literal, TypeVar, cast

from tui.chat.conversation import Conversation
from tui.chat.session_events import ConversationOpened, RestOfConversationRead, SessionEvent
from tui.gc_tuning import freeze_long_lived_objects
from tui.session_prefetch import BUSY_POLL

if TYPE_CHECKING:
    from tui.session_prefetch import Prefetch
    from tui.store import Store

SETTLING_WAIT = 0.3
"""The rest waits no longer than this for the part's first frames."""


class CommandLock(asyncio.Lock):
    """The session's one lock: commands run one at a time, and none while the rest of a
    conversation shown from a part of its path is read (`whole` clear). The read does not
    take the lock, so it closes at once, before any command can be scheduled."""

    def __init__(self) -> None:
        super().__init__()
        self.whole = asyncio.Event()
        self.whole.set()

    async def acquire(self) -> Literal[True]:
        """Once the conversation is whole; a command that was already queued for the
        lock when an `open` showed a part waits again, for the rest."""
        while True:
            await self.whole.wait()  # (returns at once when set: no turn of the loop)
            await super().acquire()
            if self.whole.is_set():
                return True
            self.release()


class RestReading:
    """Needs from the session: its conversation, store, read ahead (whose `busy` says
    whether the loop has work waiting), lock, and the members stubbed below."""

    conversation: Conversation
    prefetch: Prefetch
    unread_earlier: int
    """Messages on the path before the conversation's first, not read yet."""
    replaced_unread: int
    """How many times a conversation whose rest could not be read was replaced by a new
    one: a command that counted before it was typed for the old one."""
    _commands: CommandLock
    _rest: asyncio.Task[None] | None
    _rest_later: bool
    """Whether messages after the part's last are not read yet either."""

    @property
    def store(self) -> Store | None:
        raise NotImplementedError

    def _emit(self, event: SessionEvent) -> None:
        raise NotImplementedError

    def _fresh_conversation(self) -> Conversation:
        raise NotImplementedError

    @property
    def is_whole(self) -> bool:
        """Whether the conversation is read whole (not a part of its path, yet)."""
        return self._commands.whole.is_set()

    async def read_whole(self) -> None:
        """Waits until the conversation is read whole (at once if it is): for what needs
        all of it without being a command (an export, a copy)."""
        await self._commands.whole.wait()

    def read_the_rest(self) -> None:
        """Starts reading the rest of a conversation resumed from the end of its path
        (`unread_earlier` messages before it), once the screen follows the session."""
        if self.unread_earlier and self._rest is None:
            self._start_reading_the_rest(None, later=False, at_launch=True)

    def _start_reading_the_rest(
        self, focus_id: int | None, *, later: bool, at_launch: bool = False
    ) -> None:
        self._commands.whole.clear()
        self._rest_later = later
        self._rest = asyncio.create_task(self._read_the_rest(focus_id, at_launch))

    async def _stop_reading_the_rest(self) -> None:
        """On closing: a read under way ends, and its snapshot with it (the commands
        still waiting for it never run: the app is going)."""
        if self._rest is not None:
            self._rest.cancel()
            await asyncio.wait([self._rest])

    async def _read_the_rest(self, focus_id: int | None, at_launch: bool) -> None:
        """Reads the whole tree and puts it in the part's place (`RestOfConversationRead`),
        or shows it afresh if it changed meanwhile; if it cannot be read, a new
        conversation opens and the user is told why (`error`)."""
        shown, earlier, store = self.conversation, self.unread_earlier, self.store
        read_at = (-1, -1)  # (the file as it was when the read began: `remember_path_end`)
        whole: Conversation | None = None
        error = "the history is not open"
        if store is not None and shown.id is not None:
            try:
                try:
                    read_at = store.change_stamp()
                    steps = store.read_elsewhere(shown.id, known=shown)
                    whole = await read_between_turns(steps, self.prefetch.busy)
                except sqlite3.OperationalError:  # (its connection gave up on a lock soon)
                    read_at = store.change_stamp()
                    whole = store.load_conversation(shown.id)  # (then shown afresh)
                if whole is None:
                    error = "it was deleted"
            except Exception as failure:  # (a lock still, a damaged row): never unsaid
                error = str(failure) or type(failure).__name__
        self.unread_earlier = 0
        event: SessionEvent
        if whole is None:
            self.replaced_unread += 1
            self.conversation = self._fresh_conversation()
            event = RestOfConversationRead(self.conversation, earlier, error)
        else:
            self.conversation = whole
            if store is not None:
                store.remember_path_end(whole, read_at)
            if at_launch:  # (start-up froze what it made: this lives on as long; later,
                # freezing would keep the conversation closed before from being collected)
                freeze_long_lived_objects()
            stretch = whole.messages[earlier : earlier + len(shown.messages)]
            after = len(whole.messages) - earlier - len(stretch)  # (more, if there were)
            ends_alike = after > 0 if self._rest_later else after == 0
            if stretch == shown.messages and ends_alike:  # (the same objects)
                event = RestOfConversationRead(whole, earlier)
            else:  # changed by another process meanwhile: shown afresh
                focus = next((m for m in whole.messages if m.id == focus_id), None)
                event = ConversationOpened(whole, focus)
        self._commands.whole.set()
        self._emit(event)


_Result = TypeVar("_Result")


async def read_between_turns(
    steps: Generator[None, None, _Result], busy: Callable[[], bool]
) -> _Result:
    """Runs a read in steps, each after a turn of the loop. The first step waits while
    the loop is `busy` (up to `SETTLING_WAIT`): the part's first frame goes first (a
    search hit's took 180 ms with the read's steps between its turns, against about 100
    without). The others do not wait, as the read ahead's do: just after launch the loop
    is busy with frames most of the time, and a read that waited for it came whole 2 s
    after the first frame instead of about 0.5 s. Cancelled, it ends the read (and its
    snapshot)."""
    waited_until = time.monotonic() + SETTLING_WAIT
    while busy() and time.monotonic() < waited_until:
        await asyncio.sleep(BUSY_POLL)
    try:
        while True:
            try:
                next(steps)
            except StopIteration as end:
                return cast(_Result, end.value)
            await asyncio.sleep(0)
    finally:
        steps.close()

"""A conversation read ahead (the search hit Enter would open) is used only while nothing
was written to the history since it was read; otherwise it is read again. Real store
files, no UI: about a second in all."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, cast

from tests.history_helpers import appended_by_another_process, stored_conversation
from tui.chat.conversation import Conversation
from tui.config import Settings
from tui.session import ChatSession
from tui.session_prefetch import LONGEST_WAIT, Prefetch
from tui.store import Store
from tui.store_tree import ROWS_PER_STEP


async def test_a_conversation_read_ahead_is_the_one_stored(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "h.sqlite3")
    wanted = stored_conversation(store, ["one", "two"])
    stored_conversation(store, ["elsewhere"])
    prefetch = Prefetch()
    prefetch.want(store, wanted)
    read = await prefetch.take(store, wanted)
    assert read is not None and [m.content for m in read.messages] == ["one", "two"]
    assert await prefetch.take(store, wanted) is None, "taken once: never two copies"


async def test_a_conversation_read_ahead_is_read_again_after_any_write(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = Store.open(path)
    wanted = stored_conversation(store, ["one"])
    prefetch = Prefetch()
    prefetch.want(store, wanted)
    await prefetch.settled()
    appended_by_another_process(path, wanted, "from elsewhere")
    assert await prefetch.take(store, wanted) is None

    prefetch.want(store, wanted)
    await prefetch.settled()
    stored_conversation(store, ["a write by this store, to another conversation"])
    assert await prefetch.take(store, wanted) is None

    prefetch.want(store, wanted)
    assert await prefetch.take(store, stored_conversation(store, ["another"])) is None


async def test_a_hit_read_ahead_then_changed_elsewhere_opens_as_it_is_now(
    settings: Settings,
) -> None:
    store = Store.open(settings.db_path)
    wanted = stored_conversation(store, ["first question"])
    session = ChatSession(settings, store)
    try:
        session.read_ahead(wanted)
        await session.prefetch.settled()
        appended_by_another_process(settings.db_path, wanted, "added by another window")
        assert await session.open(wanted)
        texts = [m.content for m in session.conversation.messages]
        assert texts == ["first question", "added by another window"]
    finally:
        await session.close()


class SlowReads(Store):
    """A store whose reads ahead take as long as a huge conversation's: each holds its
    snapshot for steps on end, until it is ended (or for 5 s)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshot_held = threading.Event()

    def read_elsewhere(self, conversation_id: int) -> Generator[None, None, Conversation | None]:
        with contextlib.closing(sqlite3.connect(self._read_only_uri, uri=True)) as reader:
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM messages").fetchone()
            self.snapshot_held.set()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                yield
        return None


async def test_quitting_while_a_hit_is_read_ahead_leaves_the_file_whole(settings: Settings) -> None:
    """Found in review: a read under way kept its snapshot open while the app quit, so the
    write-ahead log could not be checkpointed into the file: a copy of the `.sqlite3`
    alone, the promised backup, lacked what was saved last. The read is stopped, and
    waited for."""
    store = SlowReads.open(settings.db_path, busy_timeout=0.25)  # as the app opens it
    assert isinstance(store, SlowReads)
    elsewhere = stored_conversation(store, ["far away"])
    current = Conversation(model="m")
    store.save_conversation(current, None)
    store.save_message(current, current.add_user_message("first"))
    session = ChatSession(settings, store)
    session.read_ahead(elsewhere)
    assert await asyncio.to_thread(store.snapshot_held.wait, 5)
    store.save_message(current, current.add_user_message("saved while quitting"))
    started = time.monotonic()
    await session.close()
    assert time.monotonic() - started < 2, "ended at its next step, not at its end (5 s)"
    assert session.prefetch.reading is None, "stopped, and waited for"
    backup = settings.db_path.parent / "backup"
    backup.mkdir()
    shutil.copy(settings.db_path, backup / "h.sqlite3")  # the file alone
    copy = Store.open(backup / "h.sqlite3")
    assert current.id is not None
    reopened = copy.load_conversation(current.id)
    assert reopened is not None
    assert [m.content for m in reopened.messages] == ["first", "saved while quitting"]


class CountedReads(Store):
    """A store that counts the reads it starts and each one's steps, notes the reads
    ended midway, and fails the reads of the conversations in `failing`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started: list[int] = []
        self.steps: dict[int, int] = {}
        self.ended_midway: set[int] = set()
        self.failing: set[int] = set()

    def read_elsewhere(self, conversation_id: int) -> Generator[None, None, Conversation | None]:
        self.started.append(conversation_id)
        if conversation_id in self.failing:
            raise sqlite3.DatabaseError("database disk image is malformed")
        steps = super().read_elsewhere(conversation_id)
        self.steps[conversation_id] = 0
        try:
            while True:
                try:
                    next(steps)
                except StopIteration as end:
                    return cast(Conversation | None, end.value)
                self.steps[conversation_id] += 1
                yield
        except GeneratorExit:
            self.ended_midway.add(conversation_id)
            steps.close()
            raise


def counted_reads(tmp_path: Path) -> CountedReads:
    store = CountedReads.open(tmp_path / "h.sqlite3")
    assert isinstance(store, CountedReads)
    return store


def big_conversation(store: Store, messages: int = 3 * ROWS_PER_STEP) -> int:
    """A conversation read in several steps."""
    big = Conversation(model="m")
    for turn in range(messages):
        big.add_user_message(f"question {turn} " + "words " * 40)
    store.save_everything(big, None)
    assert big.id is not None
    return big.id


async def test_a_hit_chosen_while_another_is_read_is_the_one_opened(tmp_path: Path) -> None:
    """The read of the hit left is ended at its next step, the one chosen read instead."""
    store = counted_reads(tmp_path)
    big = big_conversation(store, 3000)
    small = stored_conversation(store, ["small"])
    prefetch = Prefetch()
    prefetch.want(store, big)
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # its read under way
    assert prefetch.reading == big
    prefetch.want(store, small)  # the user moved to another hit
    read = await prefetch.take(store, small)
    store.close()
    assert read is not None and [m.content for m in read.messages] == ["small"]
    assert big in store.ended_midway and store.steps[big] < 3000 // ROWS_PER_STEP


def always_busy(asked: list[float]) -> Callable[[], bool]:
    """A loop that is never idle (an animation without end), noting each time it is asked."""

    def busy() -> bool:
        asked.append(time.monotonic())
        return True

    return busy


async def test_a_loop_that_is_never_idle_still_gets_its_hit_read(tmp_path: Path) -> None:
    """Each step waits while the loop is busy (a key, a frame), but not for ever: a
    screen that animates without end must not keep the hit from being read. Once Enter
    waits for the read, its steps wait no more."""
    store = Store.open(tmp_path / "h.sqlite3")
    big = big_conversation(store)
    prefetch = Prefetch()
    asked: list[float] = []
    prefetch.busy = always_busy(asked)
    prefetch.want(store, big)
    await asyncio.wait_for(prefetch.settled(), timeout=5)
    assert prefetch.held == big
    assert asked[-1] - asked[0] >= 3 * LONGEST_WAIT, "it waited, each step, as long as allowed"

    prefetch.drop()
    prefetch.want(store, big)  # read again...
    await asyncio.sleep(0)
    asked_before_enter = len(asked)
    read = await asyncio.wait_for(prefetch.take(store, big), timeout=5)  # ...and Enter
    assert read is not None and len(read.messages) == 3 * ROWS_PER_STEP
    assert len(asked) == asked_before_enter, "once Enter waits, no step waits for the loop"


async def test_a_read_no_longer_wanted_ends_without_waiting_for_the_loop(
    tmp_path: Path,
) -> None:
    """Quitting waits for the read to end: it must not wait out the loop first."""
    store = counted_reads(tmp_path)
    big = big_conversation(store)
    prefetch = Prefetch()
    asked: list[float] = []
    prefetch.busy = always_busy(asked)
    prefetch.want(store, big)
    await asyncio.sleep(LONGEST_WAIT * 1.5)  # its first step run, the next one waiting
    prefetch.drop()
    asked_when_dropped = len(asked)
    await prefetch.settled()
    assert len(asked) == asked_when_dropped
    assert big in store.ended_midway


async def test_a_read_that_fails_is_not_tried_again_until_something_is_written(
    tmp_path: Path,
) -> None:
    """With the same hit first at every key, a damaged conversation was read again at
    every key; opening it reads it again and says what is wrong."""
    store = counted_reads(tmp_path)
    damaged = stored_conversation(store, ["a damaged row, say"])
    store.failing.add(damaged)
    prefetch = Prefetch()
    for _ in range(3):
        prefetch.want(store, damaged)
        await prefetch.settled()
    assert store.started == [damaged]
    stored_conversation(store, ["a write: maybe it was a passing lock"])
    prefetch.want(store, damaged)
    await prefetch.settled()
    assert store.started == [damaged, damaged]
    assert await prefetch.take(store, damaged) is None, "opened by a read of its own"


async def test_nothing_is_read_ahead_once_the_session_closes(tmp_path: Path) -> None:
    store = counted_reads(tmp_path)
    wanted = stored_conversation(store, ["one"])
    prefetch = Prefetch()
    prefetch.close()
    prefetch.want(store, wanted)  # a search key handled while the app quits
    await prefetch.settled()
    assert store.started == [] and prefetch.held is None and prefetch.reading is None

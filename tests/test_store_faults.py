"""The history under faults: a lock, a full disk, a damaged file, a quit. Nothing a user
typed or received is lost, a healthy file is never set aside, and the user is told."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import chat_screen, screen_text, send_and_settle, wait_until
from tui.chat.session_events import SaveStateChanged, SessionEvent
from tui.config import Settings
from tui.session import ChatSession
from tui.store import Store
from tui.ui.app import APP_BUSY_TIMEOUT, ChatApp
from tui.ui.unsaved_screen import UnsavedChangesScreen


@contextmanager
def locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write lock on the history, held until the block ends."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def stored_texts(path: Path) -> list[str]:
    store = Store.open(path)
    try:
        conversation_id = store.latest_conversation_id()
        conversation = store.load_conversation(conversation_id or 0)
        return [] if conversation is None else [m.content for m in conversation.messages]
    finally:
        store.close()


def make_history(path: Path) -> None:
    store = Store.open(path)
    store.close()


def old_history(path: Path) -> None:
    """A history written by the release before the tree: opening it needs a migration,
    and so a write lock."""
    path.write_bytes((Path(__file__).parent / "fixtures" / "history-v2.sqlite3").read_bytes())


async def test_a_locked_history_at_start_is_left_alone_and_written_once_free(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    old_history(settings.db_path)
    with locked(settings.db_path) as lock:
        app = ChatApp(settings)
        async with app.run_test(size=(140, 30), notifications=True) as pilot:
            await pilot.pause()
            assert "cannot be used now" in screen_text(pilot)
            assert "locked by another process" in screen_text(pilot)
            await send_and_settle(pilot, "Hello while locked")
            assert "not saved yet" in screen_text(pilot)
            assert not list(settings.db_path.parent.glob("*.damaged-*")), "nothing moved"
            lock.execute("ROLLBACK")  # the other process lets go
            lock.execute("BEGIN")
            await wait_until(pilot, lambda: "not saved yet" not in screen_text(pilot), 10)
    assert not list(settings.db_path.parent.glob("*.damaged-*"))
    assert stored_texts(settings.db_path) == ["Hello while locked", "Hello from the server."]
    store = Store.open(settings.db_path)
    assert len(store.list_conversations()) == 4, "the three old ones are all there"


async def test_a_lock_during_a_session_holds_the_changes_and_writes_them_when_released(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["First."]), StreamReply(deltas=["Second."]))
    async with ChatApp(settings).run_test(size=(140, 30), notifications=True) as pilot:
        await send_and_settle(pilot, "One")
        with locked(settings.db_path):
            await send_and_settle(pilot, "Two")
            await wait_until(pilot, lambda: "not saved yet" in screen_text(pilot))
            assert "locked by another process" in screen_text(pilot)
        await wait_until(pilot, lambda: "not saved yet" not in screen_text(pilot), timeout=10)
        assert not chat_screen(pilot).session.saver.unsaved
    assert stored_texts(settings.db_path) == ["One", "First.", "Two", "Second."]


async def test_a_full_disk_holds_a_new_conversation_and_saves_it_after_space_is_freed(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    store = Store.open(settings.db_path)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own size limit: full
    events: list[SessionEvent] = []
    session = ChatSession(settings, store)
    session.subscribe(events.append)
    server.queue(StreamReply(deltas=["A long answer " * 4000]))
    await session.send("Fill the disk")
    await session.wait_for_reply()
    states = [e for e in events if isinstance(e, SaveStateChanged)]
    assert states and states[0].unsaved and "disk is full" in (states[0].reason or "")
    assert session.saver.unsaved
    store._db.execute("PRAGMA max_page_count = 1000000")  # space freed
    while session.saver.unsaved:
        await session.saver.flush()
    await session.close()
    assert stored_texts(settings.db_path) == ["Fill the disk", "A long answer " * 4000]


def test_list_reads_a_locked_history_and_says_when_it_cannot(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    path = tmp_path / "h.sqlite3"
    old_history(path)
    Store.open(path).close()  # migrated: reading it needs no lock
    with locked(path):
        result = run_cli(server.base_url, "--db", str(path), "list")
    assert result.returncode == 0 and "Monads" in result.stdout
    old_history(path)  # not migrated yet: that needs the lock
    with locked(path):
        result = run_cli(server.base_url, "--db", str(path), "list")
    assert result.returncode == 1
    assert "cannot be read now" in result.stderr and "locked" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.damaged-*"))


def test_list_on_a_damaged_history_says_where_it_was_kept(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"not a database at all" * 200)
    result = run_cli(server.base_url, "--db", str(path), "list")
    assert result.returncode == 0
    kept = list(tmp_path.glob("*.damaged-*"))
    assert len(kept) == 1 and str(kept[0]) in result.stderr


async def test_after_quitting_the_main_file_alone_is_a_complete_backup(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Back me up")
    backup = tmp_path / "backup" / "copy.sqlite3"
    backup.parent.mkdir()
    shutil.copy(settings.db_path, backup)  # the .sqlite3 alone, no -wal or -shm
    assert stored_texts(backup) == ["Back me up", "Hello from the server."]


def test_a_history_command_after_the_config_option_runs_the_command(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "nord"\n')
    path = tmp_path / "h.sqlite3"
    make_history(path)
    result = run_cli(server.base_url, "--config", str(config), "--db", str(path), "list")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert server.requests == [], "no prompt was sent to the model"


def test_the_app_busy_timeout_is_short() -> None:
    assert APP_BUSY_TIMEOUT <= 0.5


async def test_quitting_with_unsaved_changes_offers_to_write_them_to_a_file(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    server.queue(StreamReply(deltas=["Kept " * 5000]))
    rescue = tmp_path / "rescued.json"
    app = ChatApp(settings)
    async with app.run_test(size=(140, 30), notifications=True) as pilot:
        store = chat_screen(pilot).session.store
        assert store is not None
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
        await send_and_settle(pilot, "Remember this")
        await wait_until(pilot, lambda: "not saved yet" in screen_text(pilot))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, UnsavedChangesScreen))
        assert "1 conversation not saved yet: the disk is full" in screen_text(pilot)
        field = pilot.app.screen.query_one(Input)
        field.value = str(rescue)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.is_running)
    saved = json.loads(rescue.read_text())
    assert [m["content"] for m in saved[0]["messages"]] == ["Remember this", "Kept " * 5000]
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600


async def test_ctrl_q_in_the_unsaved_changes_dialog_quits_without_them(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    app = ChatApp(settings)
    async with app.run_test(size=(140, 30), notifications=True) as pilot:
        store = chat_screen(pilot).session.store
        assert store is not None
        store._db.execute("PRAGMA query_only = ON")  # every write fails from now on
        await send_and_settle(pilot, "Unsaved")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, UnsavedChangesScreen))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running)


def drop_permission_overrides() -> None:
    """Makes root obey file permissions like anyone else: drops the capabilities that let
    it ignore them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER). It stays the owner
    of what it owns, so it can still read the checkout wherever it lives (a drop to
    `nobody` could not read a checkout in a private temporary folder)."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inherit")]

    libc = ctypes.CDLL(None, use_errno=True)
    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    overrides = (1 << 1) | (1 << 2) | (1 << 3)
    for half in data:
        half.effective &= ~overrides
        half.permitted &= ~overrides
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def where_permissions_apply(check: Callable[[Path], Awaitable[str]], path: Path) -> str:
    """Runs `check(path)` in a child process whose file permissions are enforced (root
    ignores them: the child drops the capabilities that let it) and returns what it
    reported."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        report = "child failed"
        try:
            if os.geteuid() == 0:
                drop_permission_overrides()
            report = asyncio.run(check(path))
        except BaseException as error:  # reported to the parent as text
            cause = error.__cause__ or error
            report = "child raised " + "".join(traceback.format_exception(cause))
        finally:
            os.write(writer, report.encode())
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    return report


@pytest.fixture
def read_only_folder() -> Iterator[Path]:
    """A folder holding a history, which the child may read but not write."""
    folder = Path(tempfile.mkdtemp())
    folder.chmod(0o755)
    make_history(folder / "h.sqlite3")
    (folder / "h.sqlite3").chmod(0o444)
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to drop privileges")
def test_a_read_only_history_at_start_is_left_alone_and_the_app_keeps_working(
    server: OpenAIStyleServer, read_only_folder: Path
) -> None:
    path = read_only_folder / "h.sqlite3"
    before = path.read_bytes()

    async def check(db_path: Path) -> str:
        settings = Settings(
            model="test-model",
            base_url=server.base_url,
            api_key="k",
            max_retries=0,
            db_path=db_path,
        )
        async with ChatApp(settings).run_test(size=(140, 30), notifications=True) as pilot:
            await pilot.pause()
            said = screen_text(pilot)
            await send_and_settle(pilot, "Hello, read-only")
            return json.dumps([said, screen_text(pilot)])

    report = where_permissions_apply(check, path)
    assert report.startswith("["), report
    at_start, after_reply = (
        " ".join(text.replace("│", " ").split()) for text in json.loads(report)
    )
    assert "cannot be used now" in at_start and "check the permissions" in at_start
    assert "Hello from the server." in after_reply and "not saved yet" in after_reply
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["h.sqlite3"], "nothing moved"
    assert path.read_bytes() == before

"""When the collector runs: the rules, without the UI, in milliseconds."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tui import gc_tuning
from tui.gc_tuning import (
    LONGEST_POSTPONEMENT,
    fewer_collections,
    full_collections_between_frames,
)


def full_collections_seen(busy_for: float | None) -> list[tuple[str, float]]:
    """When full collections started, and in what, after a heavy frame made one due: the
    app busy (a frame to draw, a key to handle) for `busy_for` seconds after it (None:
    for good)."""
    seen: list[tuple[str, float]] = []
    during = ["another turn"]
    started = [0.0]

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append((during[0], time.monotonic() - started[0]))

    def a_heavy_frame() -> list[list[int]]:
        during[0] = "the frame"
        try:
            return [[] for _ in range(100_000)]  # 14 middle-generation collections' worth
        finally:
            during[0] = "another turn"

    def busy() -> bool:
        return busy_for is None or time.monotonic() - started[0] < busy_for

    async def run() -> None:
        gc.freeze()  # whatever earlier tests left: the frame's objects are what is new
        undo = full_collections_between_frames(asyncio.get_running_loop(), busy)
        gc.collect()  # every generation's count starts at zero
        gc.callbacks.append(note)
        try:
            started[0] = time.monotonic()
            kept = a_heavy_frame()
            while not seen and time.monotonic() - started[0] < 2:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # and no second one
            assert len(kept) == 100_000
        finally:
            gc.callbacks.remove(note)
            undo()
            gc.unfreeze()

    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    try:
        asyncio.run(run())
        assert gc.get_threshold() == (700, 10, 10)  # undone
    finally:
        gc.set_threshold(*before)
    return seen


def test_a_due_full_collection_runs_in_a_turn_of_the_loop_of_its_own() -> None:
    """Not inside the callback that allocated (in the app, a frame that mounted earlier
    turns): there it made the longest stall of holding Up, 33-44 ms on top of the frame."""
    assert [what for what, _ in full_collections_seen(busy_for=0)] == ["another turn"]


def test_a_due_full_collection_waits_until_the_app_has_nothing_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run in the turn after a frame, it still added its 20-40 ms to the frame's: the app
    says when it has a frame to draw or a key to handle, and the collection waits (though
    not for ever: a stream of frames must not keep the garbage)."""
    assert [at >= LONGEST_POSTPONEMENT for _, at in full_collections_seen(busy_for=None)] == [True]
    monkeypatch.setattr(gc_tuning, "LONGEST_POSTPONEMENT", 5.0)  # a slow host's polls: late
    assert [0.1 <= at < 2 for _, at in full_collections_seen(busy_for=0.1)] == [True]


def test_start_up_ends_without_a_full_collection() -> None:
    """Collection is off while the app starts; turning it back on (in the start-up thread,
    holding the interpreter) once collected the whole heap first: 58-74 ms under the
    user's first keys, a second after launch, to free 9,000-10,000 objects (1.4 MB)."""
    probe = (
        "import gc; from tui.gc_tuning import collect_nothing_until_started, "
        "start_up_is_over; collect_nothing_until_started(); "
        "left = [[] for _ in range(1000)]; [x.append(x) for x in left]; del left; "
        "seen = []; gc.callbacks.append(lambda phase, info: seen.append(info['generation'])); "
        "start_up_is_over(); print(seen, gc.isenabled(), gc.get_freeze_count() > 1000)"
    )
    assert printed_by(probe) == ["[]", "True", "True"]


def test_the_command_loads_with_collection_off_and_turns_it_back_on(tmp_path: Path) -> None:
    """Start-up's modules live for good: collecting while they load only rescanned them
    (`import tui.cli, tui.ui.app` 0.258 s, 0.243 s with collection off). A command other
    than the app (here `list`) turns it back on, with start-up's objects out of its sight."""
    probe = (
        "import gc, sys; "
        f"sys.argv = ['tui-chat', '--db', {str(tmp_path / 'h.sqlite3')!r}, 'list']; "
        "import tui.launch; loaded = len(sys.modules); "
        "code = tui.launch.main(); "
        "print(code, gc.isenabled(), gc.get_freeze_count() > 1000, "
        "'tui.cli' in sys.modules and len(sys.modules) > loaded + 50)"
    )
    *_, code, enabled, frozen, loaded_after = printed_by(probe)
    assert (code, enabled, frozen, loaded_after) == ("0", "True", "True", "True")


def test_turning_collection_back_on_leaves_a_caller_who_never_turned_it_off_alone() -> None:
    """Pipe mode's printer turns collection back on at every event; run by a caller
    (a test, a script) whose collector was on, it freezes nothing."""
    probe = (
        "import gc; from tui.gc_tuning import collect_again_after_start_up; "
        "collect_again_after_start_up(); print(gc.isenabled(), gc.get_freeze_count())"
    )
    assert printed_by(probe) == ["True", "0"]


def test_thresholds_come_back_whichever_ends_first_the_app_or_a_stream() -> None:
    """Quitting while a reply streams: the app's undo runs before the stream's end, which
    put the app's doubled threshold back for the rest of the process."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)

    async def run() -> None:
        undo = full_collections_between_frames(asyncio.get_running_loop())
        with fewer_collections():
            undo()

    try:
        asyncio.run(run())
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_what_is_made_to_last_is_frozen_without_a_full_collection() -> None:
    """Called in the warm-up thread, just after launch: a full collection there held the
    event loop 38-67 ms, twice, while the user's first keys came, to free 16-740
    objects. The young generations are collected; the rest is frozen as it is."""
    probe = (
        "import gc; from tui.gc_tuning import freeze_long_lived_objects; "
        "kept = [[] for _ in range(1000)]; gc.collect(); "
        "seen = []; gc.callbacks.append(lambda phase, info: seen.append(info['generation'])); "
        "freeze_long_lived_objects(); "
        "print(max(seen, default=0) < 2, gc.isenabled(), gc.get_freeze_count() > 1000)"
    )
    assert printed_by(probe) == ["True", "True", "True"]


def printed_by(probe: str) -> list[str]:
    """What `probe` prints, run in a fresh interpreter: the collector's state is the
    process's own, and the test runner's would blur it."""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()

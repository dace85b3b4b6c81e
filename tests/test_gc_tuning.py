"""When the collector runs: the rules, without the UI, in milliseconds."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from typing import Any

from tui.gc_tuning import fewer_collections, full_collections_between_frames


def test_a_due_full_collection_runs_in_a_turn_of_the_loop_of_its_own() -> None:
    """Not inside the callback that allocated (in the app, a frame that mounted earlier
    turns): there it made the longest stall of holding Up, 33-44 ms on top of the frame."""
    full_collections: list[str] = []
    during = ["another turn"]

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            full_collections.append(during[0])

    def a_heavy_frame() -> list[list[int]]:
        during[0] = "the frame"
        try:
            return [[] for _ in range(100_000)]  # 14 middle-generation collections' worth
        finally:
            during[0] = "another turn"

    async def run() -> None:
        gc.freeze()  # whatever earlier tests left: the frame's objects are what is new
        undo = full_collections_between_frames(asyncio.get_running_loop())
        gc.collect()  # every generation's count starts at zero
        gc.callbacks.append(note)
        try:
            kept = a_heavy_frame()
            for _ in range(3):
                await asyncio.sleep(0)
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
    assert full_collections == ["another turn"]


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
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split() == ["[]", "True", "True"], done.stderr


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

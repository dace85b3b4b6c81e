"""What saving a streaming reply costs on the event loop, as the reply grows.

A reply is saved every half second while it streams. This streams replies of 10 KB,
100 KB and 1 MB into a real store file, 4 KB of new text per save (about 2,000 tok/s), and
times each save as the session makes it: the saves while streaming (on the event loop)
and the final one (which joins the pieces, in a worker thread). The baseline, measured
in the same run, writes the whole text at every save, as the store did before parts.

    python -m benchmarks.store_save
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from tui.chat import Conversation
from tui.chat.message import MessageStatus
from tui.store import Store

SIZES = (10_000, 100_000, 1_000_000)
PER_SAVE = 4_000
"""New characters between two saves: half a second of a 2,000 tok/s stream."""


def stream_into(store: Store, size: int, whole_text_each_save: bool) -> tuple[list[float], float]:
    """Per-save times while streaming, and the final save's time (seconds)."""
    conversation = Conversation(model="m")
    prompt = conversation.add_user_message("Write a long answer")
    store.save_conversation(conversation, None)
    store.save_message(conversation, prompt)
    reply = conversation.start_reply("m")
    store.save_message(conversation, reply)
    piece = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 80)[:PER_SAVE]
    text = ""
    times: list[float] = []
    while len(text) < size:
        text += piece
        reply.content = text
        if whole_text_each_save:
            store._saved.pop(reply.id or 0, None)  # forget what is stored: write it all
        started = time.perf_counter()
        store.save_message(conversation, reply)
        times.append(time.perf_counter() - started)
    reply.status = MessageStatus.DONE
    started = time.perf_counter()
    store.save_message(conversation, reply)
    return times, time.perf_counter() - started


def main() -> None:
    print(f"{'reply':>8}  {'design':<22} {'saves':>5}  {'median ms':>9}  {'last ms':>8}  "
          f"{'max ms':>7}  {'final ms':>8}")  # fmt: skip
    for size in SIZES:
        for whole, name in ((True, "whole text (baseline)"), (False, "new pieces only")):
            with tempfile.TemporaryDirectory() as folder:
                store = Store.open(Path(folder) / "h.sqlite3")
                times, final = stream_into(store, size, whole)
                store.close()
            print(
                f"{size // 1000:>6} KB  {name:<22} {len(times):>5}  "
                f"{statistics.median(times) * 1000:>9.2f}  {times[-1] * 1000:>8.2f}  "
                f"{max(times) * 1000:>7.2f}  {final * 1000:>8.1f}"
            )
    print("The final save runs in a worker thread when it joins more than 64 KB of pieces.")


if __name__ == "__main__":
    main()

"""Inline mode (`-i`): the log grows with the conversation, but never past the room the
rest of the chat screen leaves it.

Inline, the app is as tall as its content, up to the chat screen's `max-height` (70% of
the terminal, `app.tcss`), and the log as tall as its turns. CSS cannot say "at most what
the header, status line, prompt and footer leave": with a fixed cap of its own (60% of
the terminal, in an app of at most 70%) the log outgrew the app after a long reply, and
the app scrolled the prompt and the status line out of sight. The cap is worked out after
each layout instead, from the heights the other widgets have then (the prompt grows with
its lines, notices come and go): setting it lays the screen out once more, the same way.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widget import Widget

SMALLEST_LOG = 3
"""Rows the log keeps in a terminal too short for everything."""


FIRST_FRAME_OTHERS = 6
"""Rows the other widgets take before any layout has measured them: header, status line,
prompt (three) and footer."""


def keep_the_prompt_in_view(screen: Screen[Any], log: Widget) -> None:
    """From now on, while the app runs inline, `log` is capped to the room it has: at once
    by an estimate (Textual's first layout publishes no signal, and a resumed conversation
    filled the first frame), then after each layout by what the others measure."""
    if screen.app.is_inline:
        _cap(screen, log, FIRST_FRAME_OTHERS)
        screen.screen_layout_refresh_signal.subscribe(screen, lambda _: _cap(screen, log))


def _cap(screen: Screen[Any], log: Widget, others: int | None = None) -> None:
    """The screen's greatest height (its `max-height`, within its border), less what the
    other widgets in its layout take now (not those on layers of their own: a tooltip, the
    notifications)."""
    terminal = screen.app.size
    greatest = screen.styles.max_height
    tallest = terminal.height if greatest is None else int(greatest.resolve(terminal, terminal))
    if others is None:
        others = sum(
            child.outer_size.height
            for child in screen.children
            if child is not log and child.display and child.styles.layer == log.styles.layer
        )
    room = max(SMALLEST_LOG, min(tallest, terminal.height) - screen.styles.gutter.height - others)
    cap = log.styles.max_height
    if cap is None or cap.cells != room:
        log.styles.max_height = room

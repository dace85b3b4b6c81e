"""Waiting for Textual to draw: some work must see a laid-out screen, some must not delay it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual.app import App, ScreenStackError, UnknownModeError
from textual.widget import Widget


async def next_frame(widget: Widget, timeout: float = 1.0) -> None:
    """Returns once the screen of `widget` has refreshed (or `timeout` has passed, for a
    screen that is not being drawn)."""
    refreshed = asyncio.get_running_loop().create_future()

    def release() -> None:
        if not refreshed.done():
            refreshed.set_result(None)

    widget.call_after_refresh(release)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(refreshed, timeout)


def frame_or_input_pending(app: App[Any]) -> bool:
    """Whether the app's screen has a frame to draw, or messages wait for the screen or the
    app (a key, until the app hands it on to the focused widget). Whether a frame is due
    is read from Textual's private state, as its screen reads it when idle; with that gone
    (another Textual), only the messages count."""
    try:
        screen = app.screen
    except (ScreenStackError, UnknownModeError):  # no screen yet, or any more
        return False
    return bool(
        app.message_queue_size
        or screen.message_queue_size
        or getattr(screen, "_layout_required", False)
        or getattr(screen, "_scroll_required", False)
        or getattr(screen, "_repaint_required", False)
        or getattr(screen, "_recompose_required", False)
        or getattr(screen, "_dirty_widgets", None)
    )

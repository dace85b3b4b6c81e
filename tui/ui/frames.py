"""Waiting for Textual to draw: some work must see a laid-out screen, some must not delay it."""

from __future__ import annotations

import asyncio
import contextlib

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

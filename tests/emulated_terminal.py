"""A terminal emulator (pyte) fed with what a headless app would write to its terminal.

Headless, Textual renders every frame but writes nothing; an app that mixes this in sends
each frame's update to an emulated terminal instead, and the test compares what that
terminal shows with what a full redraw of the same screen would show.
"""

from __future__ import annotations

import re
from typing import Any

import pyte
from textual._compositor import CompositorUpdate, LayoutUpdate
from textual.app import App
from textual.screen import Screen

MOVE = "\x1b[r"
"""Ends every terminal move of the log's rows (the scrolling region is reset)."""


def rows_drawn(update: str) -> set[int]:
    """The screen rows an update writes to (each piece starts with a cursor position)."""
    return {int(row) for row in re.findall(r"\x1b\[(\d+);\d+H", update.split(MOVE)[-1])}


class EmulatedTerminal:
    def __init__(self, width: int, height: int) -> None:
        self.screen = pyte.Screen(width, height)
        self._stream = pyte.Stream(self.screen)
        self.updates: list[str] = []

    def feed(self, sent: str) -> None:
        self.updates.append(sent)
        self._stream.feed(sent)


def differences(app: App[Any], terminal: EmulatedTerminal) -> list[str]:
    """The rows where the emulated terminal differs from a full redraw of the screen (text
    and every cell's colours and attributes), as readable lines; empty when the same."""
    compositor = app.screen._compositor
    size = compositor.size
    redrawn = EmulatedTerminal(size.width, size.height)
    strips = compositor.render_strips()
    redrawn.feed(
        LayoutUpdate([[strip] for strip in strips], size.region).render_segments(app.console)
    )
    found = []
    for y in range(size.height):
        shown, expected = terminal.screen.buffer[y], redrawn.screen.buffer[y]
        if any(shown[x] != expected[x] for x in range(size.width)):
            found.append(
                f"row {y}: shown {terminal.screen.display[y]!r}\n"
                f"     redrawn {redrawn.screen.display[y]!r}"
            )
    return found


class DrawsToEmulatedTerminal(App[Any]):
    """Mixed in before an app class: its frames go to `self.terminal` as well."""

    terminal: EmulatedTerminal

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        if isinstance(renderable, CompositorUpdate) and screen is self.screen:
            if not hasattr(self, "terminal"):
                self.terminal = EmulatedTerminal(*self.size)
            self.terminal.feed(renderable.render_segments(self.console))
        super()._display(screen, renderable)

"""One line under the log telling what the current reply is doing and what it cost.

It changes every half second while a reply streams, so it must not cost a layout: a
`Static.update` asks for one (its new text might change its size), and a layout of the
whole screen is the most expensive thing a frame does. This line has a fixed height, so a
plain repaint of itself is enough.
"""

from __future__ import annotations

import time

from rich.cells import cell_len
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from tui.ui.reply_stats import FIGURE_SEPARATOR

WAIT_TICK = 0.5


class StatusLine(Widget):
    COMPONENT_CLASSES = {"status-line--alert"}
    DEFAULT_CSS = """
    StatusLine > .status-line--alert {
        color: $text-warning;
        text-style: bold;
    }
    """

    text: reactive[str] = reactive("", layout=False)
    context: reactive[str] = reactive("", layout=False)
    """How full the model's context window is (`ctx 41% of 128k`), after the reply."""
    context_warning: reactive[bool] = reactive(False, layout=False)
    alert: reactive[str] = reactive("", layout=False)
    """Shown first and in the warning colour until cleared: something the user must know
    whatever the reply is doing ("not saved yet")."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(StatusLine.text, text)
        self._waiting: tuple[str, float] | None = None
        self._ticker: Timer | None = None

    def show(self, text: str) -> None:
        self._stop_waiting()
        self.text = text

    def wait(self, what: str, since: float) -> None:
        """Shows `what` with the seconds since `since`, counting, until the next `show`:
        a server slow to answer is never a frozen "Connecting…"."""
        self._stop_waiting()
        self._waiting = (what, since)
        self._tick()
        self._ticker = self.set_interval(WAIT_TICK, self._tick)

    def _tick(self) -> None:
        if self._waiting is not None:
            what, since = self._waiting
            self.text = f"{what} {time.monotonic() - since:.1f} s  (Esc stops)"

    def _stop_waiting(self) -> None:
        self._waiting = None
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def render(self) -> Content:
        """The alert, then the window's fill (first: the reply's figures can run past the
        width), then the text."""
        style = self.get_visual_style("status-line--alert", partial=True)
        pieces: list[str | tuple[str, object]] = []
        if self.alert:
            pieces += [(self.alert, style), "  "]
        if self.context:
            if self.context_warning:
                pieces += [(f"⚠ {self.context}", style), " · "]
            else:
                pieces += [self.context, " · "]
        before = Content.assemble(*pieces)  # type: ignore[arg-type]
        return before + whole_figures(self.text, self.size.width - before.cell_length)


def whole_figures(text: str, room: int) -> str:
    """`text`'s " · "-separated figures that fit in `room` cells, then "…" for those left
    out: cut where it wrapped, a summary lost its last figures to a second line out of
    sight, and its first line ended in a bare separator."""
    if cell_len(text) <= room:
        return text
    figures = text.split(FIGURE_SEPARATOR)
    while len(figures) > 1:
        figures.pop()
        shortened = FIGURE_SEPARATOR.join(figures) + " …"
        if cell_len(shortened) <= room:
            return shortened
    return text  # (not even the first fits: cropped as it is)

"""One line under the log telling what the current reply is doing and what it cost.

It changes every half second while a reply streams, so it must not cost a layout: a
`Static.update` asks for one (its new text might change its size), and a layout of the
whole screen is the most expensive thing a frame does. This line has a fixed height, so a
plain repaint of itself is enough.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class StatusLine(Widget):
    COMPONENT_CLASSES = {"status-line--alert"}
    DEFAULT_CSS = """
    StatusLine > .status-line--alert {
        color: $text-warning;
        text-style: bold;
    }
    """

    text: reactive[str] = reactive("", layout=False)
    alert: reactive[str] = reactive("", layout=False)
    """Shown first and in the warning colour until cleared: something the user must know
    whatever the reply is doing ("not saved yet")."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(StatusLine.text, text)

    def show(self, text: str) -> None:
        self.text = text

    def render(self) -> Content:
        if not self.alert:
            return Content(self.text)
        style = self.get_visual_style("status-line--alert", partial=True)
        return Content.assemble((self.alert, style), "  ", self.text)

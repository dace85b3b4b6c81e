"""The model's reasoning, shown live in a collapsible block above the answer.

Reasoning models (DeepSeek, vLLM, llama.cpp: `reasoning_content`; OpenRouter: `reasoning`)
think before they answer. The block is open while they think, so the wait has something to
read, and folds away when the answer starts. Updates are batched like the reply's: one
repaint per `REFRESH_INTERVAL`, not per token. Replies without reasoning get no block at
all, so long conversations carry no hidden widgets for it.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Collapsible, Static

from tui.chat.safe_text import make_safe

REFRESH_INTERVAL = 0.15


class ThinkingBlock(Collapsible):
    def __init__(self, reasoning: str, *, live: bool) -> None:
        self._text = Static(Content(make_safe(reasoning)), classes="thinking-text")
        super().__init__(self._text, title=_title(reasoning, live=live), collapsed=not live)
        self._parts: list[str] = [reasoning]
        self._live = live
        self._refresh_pending = False

    @property
    def reasoning(self) -> str:
        return "".join(self._parts)

    def on_mount(self) -> None:
        self._show()

    def feed(self, text: str) -> None:
        self._parts.append(text)
        if self.is_mounted and not self._refresh_pending:
            self._refresh_pending = True
            self.set_timer(REFRESH_INTERVAL, self._show)

    def _show(self) -> None:
        self._refresh_pending = False
        reasoning = self.reasoning
        self._text.update(Content(make_safe(reasoning)))
        self.title = _title(reasoning, live=self._live)

    def end(self) -> None:
        """The thinking is over (the answer started, or the reply ended): fold it away."""
        if self._live:
            self._live = False
            self.collapsed = True
            if self.is_mounted:
                self._show()


def _title(reasoning: str, *, live: bool) -> str:
    words = len(reasoning.split())
    return f"Thinking… ({words} words)" if live else f"Thought ({words} words) — click to read"

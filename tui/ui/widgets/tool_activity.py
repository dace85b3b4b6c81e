"""A reply's tool calls, under its text: one block per call, its state in a line, and its
arguments and result behind Enter (or a click).

Arguments and results come from the model and from tool servers: untrusted text, made
safe before any widget sees it, and never read as markup.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from tui.chat.message import Message
from tui.chat.parts import ToolCallPart, ToolOutcome, ToolResultPart
from tui.chat.safe_text import make_safe
from tui.tools.labels import call_label, pretty_arguments

SHOWN_RESULT = 20_000
"""Characters of a result drawn in its block; all of it is stored, exported and copied."""

_OUTCOME_WORDS = {
    ToolOutcome.RAN: "✓ ran",
    ToolOutcome.TOOL_ERROR: "✖ the tool reported an error",
    ToolOutcome.FAILED: "✖ failed",
    ToolOutcome.DENIED: "⊘ denied",
    ToolOutcome.STOPPED: "■ stopped",
    ToolOutcome.INTERRUPTED: "■ interrupted (the app closed while it ran)",
}


class ToolCallBlock(Vertical, can_focus=True):
    """One call: a header line always, the details when opened."""

    BINDINGS = [Binding("enter", "open_or_close", "Show or hide the call", id="tool.toggle")]

    def __init__(self) -> None:
        super().__init__(classes="tool-call")
        self.header = Static("", classes="tool-header")
        self.details = Static("", classes="tool-details")
        self.details.display = False

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.details

    def show(self, call: ToolCallPart, result: ToolResultPart | None, state: str) -> None:
        words = _OUTCOME_WORDS[result.outcome] if result is not None else state
        self.header.update(Content(make_safe(f"⚙ {call_label(call.name)}  {words}")))
        self.set_class(result is not None and result.outcome is ToolOutcome.RAN, "-ran")
        failed = result is not None and result.outcome is not ToolOutcome.RAN
        self.set_class(failed, "-failed")
        text = f"arguments:\n{pretty_arguments(call.arguments) or '{}'}"
        if result is not None and result.output:
            output = result.output
            if len(output) > SHOWN_RESULT:
                rest = len(output) - SHOWN_RESULT
                output = f"{output[:SHOWN_RESULT]}\n… {rest:,} more characters (stored whole)"
            text += f"\n\nresult:\n{output}"
        self.details.update(Content(make_safe(text)))

    def action_open_or_close(self) -> None:
        self.details.display = not self.details.display

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_open_or_close()


class ToolActivity(Vertical):
    """The blocks of a reply's calls, kept in step with its parts."""

    def __init__(self) -> None:
        super().__init__(classes="tool-activity")
        self._blocks: dict[str, ToolCallBlock] = {}

    def open_or_close_all(self) -> None:
        blocks = list(self._blocks.values())
        opened = not any(block.details.display for block in blocks)
        for block in blocks:
            block.details.display = opened

    def show(self, message: Message, running: str | None = None, asking: str | None = None) -> None:
        calls = message.tool_calls
        self.display = bool(calls)
        for call in calls:
            block = self._blocks.get(call.call_id)
            if block is None:
                block = self._blocks[call.call_id] = ToolCallBlock()
                self.mount(block)
            if call.call_id == asking:
                state = "? waiting for your approval"
            elif call.call_id == running:
                state = "… running (Esc stops it)"
            else:
                state = "…"
            block.show(call, message.result_of(call), state)

"""Asks the user before a tool runs: which server, which tool, with what arguments."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.chat.safe_text import make_safe
from tui.tool_calls import Approval
from tui.tools.catalog import ToolInfo
from tui.tools.labels import pretty_arguments


class ToolApprovalScreen(ModalScreen[Approval]):
    """Dismissed with the user's answer; Esc denies (the model is told it was denied)."""

    BINDINGS = [
        Binding("enter", "dismiss('once')", "Run once", id="tool_approval.once"),
        Binding("a", "dismiss('always')", "Always allow here", id="tool_approval.always"),
        Binding("escape", "dismiss('deny')", "Deny", id="tool_approval.deny"),
    ]

    def __init__(self, tool: ToolInfo, arguments: dict[str, Any], raw_arguments: str) -> None:
        super().__init__()
        self.tool = tool
        self.arguments = arguments
        self.raw_arguments = raw_arguments

    def compose(self) -> ComposeResult:
        with Vertical(id="tool-approval-panel"):
            yield Static(
                Content(make_safe(f"Run {self.tool.name} from {self.tool.server}?")),
                id="tool-approval-title",
            )
            if self.tool.description:
                yield Static(
                    Content(make_safe(self.tool.description[:500])), id="tool-approval-about"
                )
            with VerticalScroll(id="tool-approval-arguments"):
                yield Static(Content(make_safe(pretty_arguments(self.raw_arguments) or "{}")))
            yield Static(
                "Enter runs it once · a allows this tool for the rest of the conversation · "
                "Esc denies (the model is told)",
                id="tool-approval-keys",
            )

    async def action_dismiss(self, result: Approval | str | None = None) -> None:
        self.dismiss(Approval(result or Approval.DENY))

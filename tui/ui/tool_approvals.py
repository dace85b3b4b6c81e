"""The app's side of tool consent: the session asks, a dialog answers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual.app import App

from tui.session import ChatSession
from tui.tool_calls import Approval

if TYPE_CHECKING:
    from tui.chat.parts import ToolCallPart
    from tui.tools.catalog import ToolInfo


class DialogApprover:
    """Shows `ToolApprovalScreen` and waits for the answer; a reply stopped meanwhile
    (Esc reaches the dialog first, so this is a quit or a new chat) takes the dialog away."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app

    async def __call__(
        self, call: ToolCallPart, tool: ToolInfo, arguments: dict[str, Any]
    ) -> Approval:
        answered: asyncio.Future[Approval] = asyncio.get_running_loop().create_future()

        def answer(result: Approval | None) -> None:
            if not answered.done():
                answered.set_result(result or Approval.DENY)

        from tui.ui.tool_approval_screen import ToolApprovalScreen  # start-up time

        dialog = ToolApprovalScreen(tool, arguments, call.arguments)
        self.app.push_screen(dialog, answer)
        try:
            return await answered
        except asyncio.CancelledError:
            if self.app.screen is dialog:
                dialog.dismiss(Approval.DENY)
            raise


def attach_tools(app: App[Any], session: ChatSession) -> None:
    """Asks the user before tools run, and connects the servers after the first frame
    (never before it: starting a server and importing `mcp` take a second)."""
    if session.tools is None:
        return
    session.tools.approver = DialogApprover(app)
    app.call_after_refresh(session.tools.servers.start)

"""The tool servers (connecting, ready, or failed and why) and their tools, each switched
on or off for the open conversation (stored with it)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from tui.chat.safe_text import make_safe
from tui.session import ChatSession
from tui.tools.servers import ServerState, ToolServers

_STATE_WORDS = {
    ServerState.CONNECTING: "connecting…",
    ServerState.READY: "ready",
    ServerState.FAILED: "failed",
}


def describe_servers(servers: ToolServers | None) -> str:
    if servers is None or not servers.statuses:
        return (
            "No tool servers are set up. Add one to the config file, for example:\n\n"
            '[mcp_servers.files]\ncommand = "npx"\n'
            'args = ["-y", "@modelcontextprotocol/server-filesystem", "${HOME}/notes"]'
        )
    lines = []
    for name, status in servers.statuses.items():
        line = f"{name}: {_STATE_WORDS[status.state]}"
        if status.state is ServerState.READY:
            line += f", {len(status.tools)} tool{'s' if len(status.tools) != 1 else ''}"
        if status.reason:
            line += f" — {status.reason}"
        lines.append(line)
    return "\n".join(lines)


class ToolsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="tools.close"),
        Binding("r", "restart", "Restart failed servers", id="tools.restart"),
    ]

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with Vertical(id="tools-panel"):
            yield Static("Tool servers", id="tools-title")
            yield Static("", id="tools-servers")
            yield SelectionList[str](id="tools-list")
            yield Static(
                "Space switches a tool on or off for this conversation · r restarts the "
                "failed servers · Esc closes",
                id="tools-keys",
            )

    def on_mount(self) -> None:
        self.refresh_servers()
        servers = self.servers
        if servers is not None:
            servers.listeners.append(self.refresh_servers)
        self.query_one(SelectionList).focus()

    def on_unmount(self) -> None:
        servers = self.servers
        if servers is not None and self.refresh_servers in servers.listeners:
            servers.listeners.remove(self.refresh_servers)

    @property
    def servers(self) -> ToolServers | None:
        return self.session.tools.servers if self.session.tools is not None else None

    def refresh_servers(self) -> None:
        servers = self.servers
        summary = self.query_one("#tools-servers", Static)
        summary.update(Content(make_safe(describe_servers(servers))))
        choices = self.session.conversation.tools
        tools = self.query_one(SelectionList)
        highlighted = tools.highlighted
        tools.clear_options()
        for status in servers.statuses.values() if servers is not None else []:
            for tool in status.tools:
                about = f" — {tool.description.splitlines()[0][:60]}" if tool.description else ""
                label = Content(make_safe(f"{tool.key}{about}"))
                tools.add_option(Selection(label, tool.key, tool.key not in choices.switched_off))
        tools.display = tools.option_count > 0
        if tools.option_count:  # Space works at once, on the first tool
            tools.highlighted = min(highlighted or 0, tools.option_count - 1)

    def action_restart(self) -> None:
        servers = self.servers
        if servers is not None and not servers.restart_failed():
            self.notify("No server has failed.", timeout=2)

    @on(SelectionList.SelectionToggled)
    def _switch(self, event: SelectionList.SelectionToggled[str]) -> None:
        key = event.selection.value
        on = key in event.selection_list.selected
        self.run_worker(self.session.switch_tool(key, on))

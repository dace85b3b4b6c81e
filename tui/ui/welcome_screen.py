"""First run with no key and no config: how to get going, and the local servers found.

A new user's first minute decides whether they stay. Instead of failing on the first
prompt, the app says what is missing and offers the model servers already running here
(Ollama, LM Studio, llama.cpp, vLLM): one key and they are chatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.chat.safe_text import make_safe
from tui.config import Settings
from tui.config_file import save_first_profile
from tui.local_probe import FoundServer, LocalServer, probe_local_servers


class WelcomeScreen(ModalScreen[FoundServer | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="welcome.close")]

    def __init__(self, candidates: Sequence[LocalServer], config_path: Path | None) -> None:
        super().__init__()
        self.candidates = tuple(candidates)
        self.config_path = config_path
        self._found: dict[str, FoundServer] = {}

    def compose(self) -> ComposeResult:
        config = str(self.config_path) if self.config_path else "the config file"
        ports = ", ".join(str(server.port) for server in self.candidates)
        with Vertical(id="welcome-panel"):
            yield Static("Welcome to tui-chat", id="welcome-title")
            yield Static(
                Content(
                    "No API key is set and there is no config file yet.\n\n"
                    "• OpenAI: export OPENAI_API_KEY=sk-...  and start again.\n"
                    "• Any other server: tui-chat --base-url URL --model NAME.\n"
                    f"• Profiles for each server: {config} (tui-chat config init writes one).\n"
                    "• Or pick a server already running on this machine:"
                ),
                id="welcome-text",
            )
            yield OptionList(id="welcome-servers")
            yield Static(Content(f"Looking on 127.0.0.1 (ports {ports})…"), id="welcome-status")

    def on_mount(self) -> None:
        self._probe()

    @work(exclusive=True, exit_on_error=False)
    async def _probe(self) -> None:
        found = await probe_local_servers(self.candidates)
        status = self.query_one("#welcome-status", Static)
        options = self.query_one(OptionList)
        for item in found:
            key = str(item.server.port)
            self._found[key] = item
            count = f"{len(item.models)} model" + ("" if len(item.models) == 1 else "s")
            label = Content(f"{make_safe(item.server.name)} — {item.server.base_url} ({count})")
            options.add_option(Option(label, id=key))
        if found:
            options.highlighted = 0
            options.focus()
            status.update(
                Content("Enter uses the server and saves it as your default profile · Esc closes")
            )
        else:
            status.update(Content("No local server answered. Esc closes."))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._found.get(event.option.id or ""))


def settings_for_found_server(settings: Settings, found: FoundServer) -> tuple[Settings, str]:
    """The settings for a server picked here, saved as the first profile when there is no
    config file yet; and what to tell the user about it."""
    server = found.server
    model = found.models[0] if found.models else settings.model
    settings = replace(settings, base_url=server.base_url, model=model, profile=server.profile_name)
    saved = ""
    config = settings.config_path
    if config is not None and not config.exists():
        try:
            save_first_profile(config, server.profile_name, server.base_url, model)
            saved = f" Saved as profile {server.profile_name!r} in {config}."
        except OSError as error:
            saved = f" (Could not save a profile: {error}.)"
    return settings, f"Using {server.name}, model {model}.{saved} F2 changes the model."

"""Settings: built-in defaults < the TOML config file < the environment < CLI flags.

The file itself is read in `tui.config_file` (checked in `tui.config_checks`, written in
`tui.config_writing`); this module holds the resulting settings and the environment and
flag layers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from tui.frozen import frozen
from tui.redaction import without_credentials

if TYPE_CHECKING:  # loaded only when the config file has tools: start-up time
    from tui.tools.config import ToolLimits, ToolServerConfig

APP_NAME = "tui-chat"
OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "history.sqlite3"


def default_config_path() -> Path:
    """`$XDG_CONFIG_HOME/tui-chat/config.toml` on Linux, the platform's equivalent elsewhere."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


@frozen(slots=True)
class Settings:
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    """None means OpenAI itself."""
    api_key: str | None = field(default=None, repr=False)
    """Kept out of repr so that a logged or printed Settings never shows the key."""
    system_prompt: str | None = None
    connect_timeout: float = 10.0
    idle_timeout: float = 60.0
    """Seconds without a byte (keep-alive comments count) before a stream is called stalled."""
    max_retries: int = 2
    """Automatic retries for connection failures, 429 and 5xx, only before any token."""
    db_path: Path = field(default_factory=default_db_path)
    profile: str | None = None
    """The config profile these settings came from, shown in the header."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra HTTP headers for every request (OpenRouter's X-Title, Azure's api-key, ...)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Extra request body fields: temperature, max_tokens, reasoning_effort, anything else."""
    api: str = "chat"
    """Which OpenAI API streams replies: "chat" (Chat Completions, what every compatible
    server speaks) or "responses" (the Responses API: reasoning summaries of OpenAI's
    reasoning models)."""
    system_prompts: Mapping[str, str] = field(default_factory=dict)
    """Named system prompt presets from the config file."""
    theme: str | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)
    """Command id -> keys, from the config file's [keymap] (checked against tui.commands)."""
    config_path: Path | None = None
    """The config file that was read, if any."""
    image_max_bytes: int = 20 * 1024 * 1024
    """Images larger than this are refused (the config's `image_max_mb`)."""
    thumbnails: str = "auto"
    """Thumbnails of a prompt's images: "auto", "on" or "off" (`tui.ui.terminal_graphics`)."""
    context_window: int | None = None
    """The model's context window in tokens, when the server does not say (or says wrong)."""
    tool_servers: tuple[ToolServerConfig, ...] = ()
    """MCP servers from the config file's [mcp_servers.NAME] tables."""
    tool_limits: ToolLimits | None = None
    """The config's [tools] table; None: the defaults (`tui.tools.config.ToolLimits`)."""
    notices: tuple[str, ...] = ()
    """Things about the settings the user should know at start (a key variable not set)."""

    @property
    def endpoint_label(self) -> str:
        """The base URL as shown and stored: without any credentials in it."""
        return without_credentials(self.base_url or OPENAI_BASE_URL)

    @property
    def needs_key(self) -> bool:
        """OpenAI needs a key; local servers (Ollama, llama.cpp, vLLM) usually do not."""
        return self.base_url is None or self.base_url.rstrip("/") == OPENAI_BASE_URL

    @property
    def has_usable_key(self) -> bool:
        return bool(self.api_key) or not self.needs_key

    @property
    def starts_on_the_welcome_screen(self) -> bool:
        """No usable key and no config file: the app starts by looking for a server."""
        config = self.config_path
        return not self.has_usable_key and (config is None or not config.exists())


def settings_from_environment(
    env: Mapping[str, str] | None = None,
    base: Settings | None = None,
    *,
    keep_key: bool = False,
    keep_base_url: bool = False,
) -> Settings:
    """Layers the environment over `base`. A profile that names its own key source keeps
    its key (`keep_key`): OPENAI_API_KEY is meant for OpenAI, not for an OpenRouter
    profile; a profile picked by name keeps its base URL (`keep_base_url`)."""
    env = os.environ if env is None else env
    settings = Settings() if base is None else base
    if (key := env.get("OPENAI_API_KEY", "").strip()) and not keep_key:
        settings = replace(settings, api_key=key)
    if (base_url := env.get("OPENAI_BASE_URL", "").strip()) and not keep_base_url:
        settings = replace(settings, base_url=base_url)
    if model := env.get("TUI_CHAT_MODEL", "").strip():
        settings = replace(settings, model=model)
    if db := env.get("TUI_CHAT_DB", "").strip():
        settings = replace(settings, db_path=Path(db))
    return settings


def apply_flags(
    settings: Settings,
    *,
    model: str | None = None,
    base_url: str | None = None,
    system_prompt: str | None = None,
    db_path: str | None = None,
) -> Settings:
    changes: dict[str, Any] = {}
    if model:
        changes["model"] = model
    if base_url:
        changes["base_url"] = base_url
    if system_prompt is not None:
        changes["system_prompt"] = system_prompt or None
    if db_path:
        changes["db_path"] = Path(db_path)
    return replace(settings, **changes)

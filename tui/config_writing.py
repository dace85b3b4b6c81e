"""Writes config files: the commented example, and the first profile from the welcome screen.

Separate from `tui.config_file`, which only reads, because writing is a different job with
its own care: a new file is created private (a user may paste a key into it) and never
over an existing one. The example text lives here as this is where it is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tui.private_files import make_private_folder

EXAMPLE = """\
# tui-chat configuration. Precedence: built-in defaults < this file < environment < flags.
# Pick a profile with --profile NAME (or TUI_CHAT_PROFILE); default_profile otherwise.

# default_profile = "local"
# theme = "textual-dark"
# system_prompt = "You are a concise assistant."
# thumbnails = "auto"         # of a prompt's images, in kitty, WezTerm, foot... ("on", "off")

# [keymap]                    # command id = keys (F1 lists the ids; README has them all)
# "chat.retry" = "ctrl+r,f5"
# "chat.copy" = "ctrl+o"

# [system_prompts]            # presets, chosen in the app with F3
# terse = "Answer in one or two sentences."
# reviewer = "You review code for bugs and explain each one."

# [profiles.openai]
# model = "gpt-4o-mini"
# api_key_env = "OPENAI_API_KEY"             # the name of a variable, not the key

# [profiles.local]                            # Ollama
# base_url = "http://127.0.0.1:11434/v1"
# model = "llama3.2"
# timeout = 120                               # seconds without a byte before giving up

# [profiles.openrouter]
# base_url = "https://openrouter.ai/api/v1"
# api_key_command = "pass show openrouter"    # a command that prints the key
# model = "deepseek/deepseek-r1"
# headers = { "X-Title" = "tui-chat" }
# params = { temperature = 0.6, max_tokens = 4096, reasoning_effort = "low" }
# api = "responses"           # the Responses API instead of Chat Completions ("chat")
"""


def write_example_config(path: Path) -> bool:
    """Creates a commented example file (private, since a user may paste a key into it);
    False when a file is already there."""
    if path.exists():
        return False
    make_private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(EXAMPLE)
    return True


def save_first_profile(path: Path, name: str, base_url: str, model: str | None) -> None:
    """Writes a new config file whose default profile is the server the user just picked
    on the welcome screen (the commented example follows, for the next profiles)."""
    lines = [f"default_profile = {_toml_string(name)}", ""]
    lines += [f"[profiles.{name}]", f"base_url = {_toml_string(base_url)}"]
    if model:
        lines.append(f"model = {_toml_string(model)}")
    text = "\n".join(lines) + "\n\n" + EXAMPLE
    make_private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string

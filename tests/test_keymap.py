"""One table of commands: keys, palette, slash commands and F1 agree, and `[keymap]`
remaps any command by id (or names the file and line of a mistake)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.test_config import write_config
from tests.ui_helpers import chat_screen, last_reply_settled, replies, screen_text, wait_until
from tui.commands import COMMANDS, PROMPT_KEYS, Scope, in_scope
from tui.config_file import ConfigError, load_settings
from tui.ui.app import ChatApp
from tui.ui.help_screen import HelpScreen


@pytest.mark.parametrize(
    ("keymap", "line", "message"),
    [
        ('"chat.nope" = "f5"', 3, "'chat.nope': no command has this id"),
        ('"chat.retry" = "ctrl+n"', 3, "'chat.retry': ctrl+n is also the key of chat.new"),
        ('message.copy = "r"', 3, "'message.copy': r is also the key of message.regenerate"),
        ('"chat.copy" = "ctrl+q"', 3, "'chat.copy': ctrl+q is the app's own key"),
        ('"chat.copy" = "ctrl+y"', 3, "'chat.copy': ctrl+y is the app's own key"),
    ],
)
def test_an_unknown_id_or_a_clash_in_the_keymap_names_the_file_and_line(
    tmp_path: Path, keymap: str, line: int, message: str
) -> None:
    path = write_config(tmp_path, f'theme = "nord"\n[keymap]\n{keymap}\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert caught.value.line == line
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_the_prompt_keys_a_keymap_may_not_take_are_the_prompts_real_keys() -> None:
    from textual.binding import Binding
    from textual.widgets import TextArea

    textarea_keys = {
        key.strip()
        for binding in TextArea.BINDINGS
        if isinstance(binding, Binding)
        for key in binding.key.split(",")
        if not key.strip().startswith("super+")
    }
    assert textarea_keys <= PROMPT_KEYS


def test_every_command_has_a_unique_id_and_every_key_one_owner_per_scope() -> None:
    assert len({command.id for command in COMMANDS}) == len(COMMANDS)
    for scope in Scope:
        keys = [key for command in in_scope(scope) for key in command.keys.split(",") if key]
        assert len(keys) == len(set(keys)), scope


async def test_a_remapped_key_runs_its_command_and_f1_and_the_palette_say_so(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path,
        f'[profiles.t]\nbase_url = "{server.base_url}"\nmodel = "test-model"\n'
        '[keymap]\nchat.retry = "f5"\n"chat.copy" = "ctrl+o"\n',
    )
    settings = load_settings(path, env={"TUI_CHAT_DB": str(tmp_path / "h.db")}, profile="t")
    server.queue(StreamReply(deltas=["First."]), StreamReply(deltas=["Second."]))
    async with ChatApp(settings).run_test(size=(100, 50), notifications=True) as pilot:
        screen = chat_screen(pilot)
        screen.prompt.insert("Question")
        await pilot.press("enter")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await pilot.press("ctrl+r")  # no longer the retry key
        await pilot.pause(0.2)
        assert len(server.requests) == 1
        await pilot.press("f5")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "Second.")
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await pilot.press("ctrl+o")  # a command with no default key, given one
        assert pilot.app.clipboard == "Second."
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        help_text = screen_text(pilot)
        assert "F5" in help_text and "chat.retry" in help_text and "Ctrl+O" in help_text
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"Copy last")
        await pilot.pause(0.3)
        assert "Ctrl+O" in screen_text(pilot), "the palette shows the key in force"


async def test_slash_commands_and_the_palette_come_from_the_table(
    server: OpenAIStyleServer, settings
) -> None:  # type: ignore[no-untyped-def]
    async with ChatApp(settings).run_test(size=(100, 40), notifications=True) as pilot:
        await pilot.press(*"/title Birds and bees", "enter")
        await wait_until(pilot, lambda: chat_screen(pilot).conversation.title == "Birds and bees")
        await pilot.press(*"/help", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        text = screen_text(pilot)
        for command in COMMANDS:
            if command.slash and command.scope is Scope.CHAT:
                assert command.slash[0] in text or command.id in text

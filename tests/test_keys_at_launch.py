"""Keys typed while the app starts go to the prompt, where the user will look for them."""

from __future__ import annotations

import os
from pathlib import Path

from textual import events
from textual.widgets.text_area import Selection

from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.pty_helpers import quit_and_close, read_until, start_in_terminal
from tests.ui_helpers import chat_screen, wait_until
from tui.config import Settings
from tui.ui.app import ChatApp


def test_words_typed_before_the_app_is_up_are_in_the_prompt(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """Typed before the first frame (they wait in the terminal's input): once the app is
    up, Enter sends them. Textual focused the log first and the prompt a moment later,
    and keys read meanwhile went to the log: lost."""
    server.queue(StreamReply(deltas=["Heard you."]))
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": TEST_KEY,
        "TERM": "xterm-256color",
        "TUI_CHAT_DB": str(tmp_path / "h.sqlite3"),
    }
    process, primary = start_in_terminal(["-m", "m"], env, typed=b"typed early")
    seen = bytearray()
    try:
        read_until(primary, b"Help", seen)  # the footer: the app is up
        os.write(primary, b"\r")
        read_until(primary, b"Heard you.", seen)
        assert server.requests[-1]["messages"][-1]["content"] == "typed early"
    finally:
        quit_and_close(process, primary)


async def test_a_key_reaching_the_screen_replaces_the_prompts_selection_as_typing_does(
    settings: Settings,
) -> None:
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        screen = chat_screen(pilot)
        screen.prompt.load_text("hello world")
        screen.prompt.selection = Selection((0, 0), (0, 5))
        screen.set_focus(None)
        await pilot.press("a", "b")
        assert screen.prompt.text == "ab world"
        assert screen.focused is screen.prompt


async def test_a_paste_before_the_prompt_has_focus_lands_in_the_prompt(
    settings: Settings,
) -> None:
    """Pasted while the app starts, before anything has focus, Textual hands the paste to
    the screen: it goes to the prompt, as typed keys do, not nowhere."""
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        screen = chat_screen(pilot)
        screen.set_focus(None)
        pilot.app.post_message(events.Paste("words pasted at launch"))
        await wait_until(pilot, lambda: screen.prompt.text == "words pasted at launch")
        assert screen.focused is screen.prompt
        await pilot.pause(0.1)
        assert screen.prompt.text == "words pasted at launch"  # once, not twice

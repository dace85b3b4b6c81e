"""Text from a server, a file or the user is shown as typed in every notification, title,
label and list: Textual markup in it never acts (no crash, no live link, no action)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import chat_screen, replies, screen_text, send_and_settle, wait_until
from tui.config import Settings
from tui.ui.app import ChatApp
from tui.ui.model_picker_screen import ModelPickerScreen

HOSTILE = [
    "[/x]",
    '[link="https://evil.example"]nice-model[/link]',
    "[@click=app.quit]free[/]",
    "[bold red]loud",
]


@pytest.mark.parametrize("name", HOSTILE)
async def test_a_hostile_model_name_shows_as_typed_in_the_picker_the_notice_and_the_border(
    server: OpenAIStyleServer, settings: Settings, name: str
) -> None:
    server.models = [name, "test-model"]
    settings = replace(settings, model=name)
    server.queue(StreamReply(deltas=["Answer."]))
    async with ChatApp(settings).run_test(size=(140, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "Hi")
        assert name in screen_text(pilot), "the reply's border shows the name as typed"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen))
        await wait_until(pilot, lambda: "2 models" in screen_text(pilot))
        assert name in screen_text(pilot)
        await pilot.press("escape")
        await pilot.press(*"/model test-model", "enter")
        await wait_until(pilot, lambda: "Model for this conversation: test-model" in notices(pilot))
        await pilot.press(*f"/model {name}", "enter")
        await wait_until(pilot, lambda: f"Model for this conversation: {name}" in notices(pilot))
        assert pilot.app.is_running, "no action ran"
        assert not any("evil.example" in str(span) for span in _links(pilot))


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_titles_and_file_names_show_as_typed(
    server: OpenAIStyleServer, settings: Settings, text: str
) -> None:
    async with ChatApp(settings).run_test(size=(140, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "Hi")
        await pilot.press(*f"/title {text}", "enter")
        await wait_until(pilot, lambda: f"Renamed to {text}" in notices(pilot))
        assert chat_screen(pilot).conversation.title == text
        await pilot.press(*f"/file nothing{text}", "enter")
        await wait_until(pilot, lambda: f"nothing{text}" in notices(pilot))
        await pilot.pause(0.2)
        await pilot.press("ctrl+b")
        await pilot.pause(0.2)
        assert text in screen_text(pilot)
        assert pilot.app.is_running and replies(pilot)


def notices(pilot) -> str:  # type: ignore[no-untyped-def]
    """The text of every notification shown, as the user reads it (not markup)."""
    return "\n".join(notification.message for notification in pilot.app._notifications)


def _links(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    """Every link target on screen."""
    found = []
    for strip in pilot.app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is not None and style.link:
                found.append(style.link)
    return found

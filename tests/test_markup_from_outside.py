"""Text from a server, a file or the user is shown as typed in every notification, title,
label and list: Textual markup in it never acts (no crash, no live link, no action)."""

from __future__ import annotations

from dataclasses import replace

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


async def test_hostile_model_names_show_as_typed_in_the_picker_the_notice_and_the_border(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.models = [*HOSTILE, "test-model"]
    settings = replace(settings, model=HOSTILE[1])
    server.queue(StreamReply(deltas=["Answer."]))
    async with ChatApp(settings).run_test(size=(140, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "Hi")
        assert HOSTILE[1] in screen_text(pilot), "the reply's border shows the name as typed"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen))
        await wait_until(pilot, lambda: "5 models" in screen_text(pilot))
        for name in HOSTILE:
            assert name in screen_text(pilot)
        await pilot.press("escape")
        for name in HOSTILE:
            await submit(pilot, f"/model {name}")
            await wait_until(
                pilot, lambda name=name: f"Model for this conversation: {name}" in notices(pilot)
            )
        await pilot.pause(0.2)  # the toasts are drawn: their markup would have acted by now
        assert pilot.app.is_running, "no action ran"
        assert not any("evil.example" in link for link in _links(pilot))


async def test_hostile_titles_and_file_names_show_as_typed(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test(size=(140, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "Hi")
        for text in HOSTILE:
            await submit(pilot, f"/title {text}")
            await wait_until(pilot, lambda text=text: f"Renamed to {text}" in notices(pilot))
            assert chat_screen(pilot).conversation.title == text
            await submit(pilot, f"/file nothing{text}")
            await wait_until(pilot, lambda text=text: f"nothing{text}" in notices(pilot))
        await pilot.pause(0.2)
        await pilot.press("ctrl+b")
        await pilot.pause(0.2)
        assert HOSTILE[-1] in screen_text(pilot), "the list shows the last title as typed"
        assert pilot.app.is_running and replies(pilot)
        assert not any("evil.example" in link for link in _links(pilot))


async def submit(pilot, line: str) -> None:  # type: ignore[no-untyped-def]
    """Types a line into the prompt at once (a key per character takes a round trip each)
    and presses Enter."""
    chat_screen(pilot).prompt.insert(line)
    await pilot.press("enter")


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

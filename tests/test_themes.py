"""Themes: picked in the app and remembered; NO_COLOR honoured."""

from __future__ import annotations

import stat

import pytest

from tests.ui_helpers import wait_until
from tui.config import Settings
from tui.ui.app import ChatApp


async def test_a_theme_picked_in_the_app_is_remembered_privately(settings: Settings) -> None:
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        assert pilot.app.theme != "gruvbox"
        pilot.app.theme = "gruvbox"
        remembered = settings.db_path.parent / "remembered.json"
        await wait_until(pilot, lambda: remembered.exists())
    assert stat.S_IMODE(remembered.stat().st_mode) == 0o600
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        assert pilot.app.theme == "gruvbox"


async def test_no_color_renders_without_colour(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        colours = {
            segment.style.color.name
            for strip in pilot.app.screen._compositor.render_strips()
            for segment in strip
            if segment.style
            and segment.style.color
            and segment.style.color.triplet
            and len({*segment.style.color.triplet}) > 1
        }
        assert pilot.app.no_color
        assert not colours, f"coloured (non-grey) text under NO_COLOR: {colours}"

"""Thumbnails of a prompt's images where the terminal draws pictures (sixel, kitty's graphics
protocol), the chip alone elsewhere; the terminal is asked before the app starts."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.geometry import Region

from tests.conftest import TEST_KEY
from tests.image_helpers import png
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.test_inline import read_until
from tests.ui_helpers import chat_screen, screen_text, send_and_settle, type_and_send, wait_until
from tui.config import Settings
from tui.ui import terminal_graphics
from tui.ui.app import ChatApp
from tui.ui.widgets.message_views import UserImagesView, UserMessageView

SIXEL_TERMINAL = b"\x1b[?62;4;22c"
"""A terminal's answer to "what are you" (DA1) that lists sixel graphics (4)."""
TEXT_TERMINAL = b"\x1b[?62;22c"
SIXEL_START = re.compile(rb"\x1bP[0-9;]*q")
"""A DCS that starts sixel data: what makes a terminal draw the picture."""


@pytest.fixture(autouse=True)
def no_drawer_after() -> Iterator[None]:
    yield
    terminal_graphics.use(None)


async def send_image(pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    await type_and_send(pilot, f"/file {path}")
    await wait_until(pilot, lambda: f"📷 {path.name}" in screen_text(pilot))
    await send_and_settle(pilot, "What is this?")


async def test_where_the_terminal_draws_no_pictures_the_prompt_shows_the_chip_alone(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "shot.png"
    path.write_bytes(png(64, 40))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_image(pilot, path)
        assert not chat_screen(pilot).query(UserImagesView)
        assert "📷 shot.png (" in str(chat_screen(pilot).query_one(UserMessageView).render())


async def test_a_sixel_terminal_gets_a_thumbnail_that_leaves_the_cursor_on_its_last_row(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    from tui.ui.widgets.sixel_thumbnail import SixelThumbnail, _SixelCells

    terminal_graphics.use(SixelThumbnail)
    path = tmp_path / "wide.png"
    path.write_bytes(png(640, 400, seed=200))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_image(pilot, path)
        view = chat_screen(pilot).query_one(UserImagesView)
        assert "📷 wide.png (" in str(view.query_one(".prompt-text").render())
        picture = view.query_one(SixelThumbnail)
        # Eight rows high; as wide as the picture's shape needs in 10x20-pixel cells.
        assert picture.size.height == 8
        assert picture.size.width == round(8 * 20 * 640 / 400 / 10)
        await pilot.press("ctrl+up", "up")  # the prompt in full view
        await pilot.pause()
        cells = picture.query_one(_SixelCells)
        region = chat_screen(pilot).find_widget(cells).visible_region
        lines = cells.render_lines(Region(0, 0, region.width, region.height))
        last = "".join(segment.text for segment in lines[-1])
        assert SIXEL_START.search(last.encode())
        # After the picture the cursor is on its own last row, just right of it: a full
        # repaint then writes the rest of that row where it belongs (textual-image#146).
        assert last.endswith(f"\x1b[{region.bottom};{region.right + 1}H")


async def test_a_kitty_terminal_gets_the_picture_by_its_graphics_protocol(
    server: OpenAIStyleServer,
    settings: Settings,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from textual_image.widget import TGPImage

    terminal_graphics.use(TGPImage)
    path = tmp_path / "photo.png"
    path.write_bytes(png(80, 80, seed=9))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_image(pilot, path)
        picture = chat_screen(pilot).query_one(UserImagesView).query_one(TGPImage)
        drawn = "".join(
            segment.text for line in picture.render_lines(Region(0, 0, 16, 8)) for segment in line
        )
        # The picture goes to the terminal once, as kitty graphics (straight to the
        # terminal's stdout, past Textual); the cells hold kitty's placeholders for it.
        assert "\U0010eeee" in drawn
        transmitted = capfd.readouterr().out
        assert "\x1b_G" in transmitted and "f=100" in transmitted  # a PNG, in APC


async def test_an_image_whose_body_does_not_decode_keeps_just_its_chip(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    from tui.ui.widgets.sixel_thumbnail import SixelThumbnail

    terminal_graphics.use(SixelThumbnail)
    path = tmp_path / "broken.png"
    path.write_bytes(png(32, 32)[:40] + b"not the rest of a png" * 4)
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_image(pilot, path)
        assert not chat_screen(pilot).query(UserImagesView)
        assert "📷 broken.png (" in screen_text(pilot)


@pytest.mark.parametrize(
    ("env", "draws"),
    [
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, True),
        ({"TERM": "foot"}, True),
        ({"TERM": "xterm-256color", "WT_SESSION": "x"}, True),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "Apple_Terminal"}, False),
        ({"TERM": "tmux-256color", "TERM_PROGRAM": "tmux"}, False),
        ({"TERM": "xterm"}, False),
    ],
)
def test_auto_asks_only_terminals_whose_environment_says_they_draw(
    env: dict[str, str], draws: bool
) -> None:
    assert terminal_graphics.terminal_may_draw(env) is draws


def test_the_app_starting_in_a_sixel_terminal_draws_the_thumbnail(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """The real program in a pseudo-terminal that says (to the query textual-image sends
    before Textual starts) that it draws sixels: the prompt's picture reaches it as sixel
    data. With `thumbnails = "off"` the same terminal gets none; "on" in a terminal that
    draws nothing says so on screen."""
    picture = tmp_path / "red.png"
    picture.write_bytes(png(200, 100, seed=220))
    for setting, answer, expect_sixels in (
        ("auto", SIXEL_TERMINAL, True),
        ("off", SIXEL_TERMINAL, False),
        ("on", TEXT_TERMINAL, False),
    ):
        server.queue(StreamReply(deltas=["A ", "red ", "square."]))
        config = tmp_path / setting / "config.toml"
        config.parent.mkdir()
        config.write_text(f'thumbnails = "{setting}"\n')
        output = run_in_terminal(server, tmp_path / setting, config, picture, answer)
        assert bool(SIXEL_START.search(output)) is expect_sixels, setting
        assert b"red.png" in output
        assert (b"did not say it draws pictures" in output) is (setting == "on")


def run_in_terminal(
    server: OpenAIStyleServer, home: Path, config: Path, picture: Path, answer: bytes
) -> bytes:
    primary, secondary = pty.openpty()
    # 100x30 cells of 10x20 pixels: the cell size comes from the terminal's own size.
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 1000, 600))
    # The terminal's answer to "what are you", waiting in its input before the question
    # is asked, so that no timing decides the test.
    os.write(primary, answer)
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": TEST_KEY,
        "TUI_CHAT_DB": str(home / "h.sqlite3"),
        "TERM": "xterm-256color",
        "TERM_PROGRAM": "WezTerm",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "--config", str(config), "-m", "test-model"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)
    seen = bytearray()
    try:
        read_until(primary, b"Message (Enter", seen)
        os.write(primary, f"/file {picture}\r".encode())
        read_until(primary, b"red.png", seen)
        os.write(primary, b"What is it?\r")
        read_until(primary, b"square.", seen)
        os.write(primary, b"\x11")  # Ctrl+Q
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    return bytes(seen)

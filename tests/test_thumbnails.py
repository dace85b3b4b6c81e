"""Thumbnails of a prompt's images where the terminal draws pictures (sixel, kitty's graphics
protocol), the chip alone elsewhere; the terminal is asked before the app starts."""

from __future__ import annotations

import io
import os
import re
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.geometry import Region

from tests.conftest import TEST_KEY
from tests.image_helpers import png
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.pty_helpers import quit_and_close, read_until, start_in_terminal
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


@pytest.fixture
def cells_of_10_by_20(monkeypatch: pytest.MonkeyPatch) -> None:
    """textual-image asks the terminal its cell size once; under `pytest -s` in a real
    terminal the answer would be that terminal's. The tests' cells are 10x20 pixels."""
    pytest.importorskip("textual_image", reason="thumbnails need the images extra")
    from textual_image._terminal import CellSize, get_cell_size

    monkeypatch.setattr(get_cell_size, "_result", CellSize(10, 20), raising=False)


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
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path, cells_of_10_by_20: None
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
        # Written to the terminal, never into a screenshot (an SVG with raw ESC bytes).
        assert "\x1b" not in pilot.app.export_screenshot()


async def test_a_kitty_terminal_gets_the_picture_by_its_graphics_protocol(
    server: OpenAIStyleServer,
    settings: Settings,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    cells_of_10_by_20: None,
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


def cmyk_jpeg() -> bytes:
    """A JPEG in CMYK, as print and Adobe workflows write them (kitty's PNG cannot hold it)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("CMYK", (120, 60), (0, 255, 255, 0)).save(out, "JPEG")
    return out.getvalue()


def truncated_png() -> bytes:
    """A half-downloaded PNG: the header (and so the chip) is right, the pixels stop."""
    data = png(300, 300, seed=5)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("name", "make", "drawn"),
    [
        ("header.png", lambda: png(32, 32)[:40] + b"not the rest of a png" * 4, False),
        ("half.png", truncated_png, False),
        ("print.jpg", cmyk_jpeg, True),
    ],
)
@pytest.mark.parametrize("kind", ["sixel", "kitty"])
async def test_a_picture_that_only_partly_decodes_keeps_the_chip_and_the_app(
    server: OpenAIStyleServer,
    settings: Settings,
    tmp_path: Path,
    cells_of_10_by_20: None,
    name: str,
    make: Callable[[], bytes],
    drawn: bool,
    kind: str,
) -> None:
    """Decoded whole before any widget sees it: what fails there keeps just its chip; a
    CMYK JPEG is drawn (converted). Before, a truncated PNG or a CMYK JPEG failed inside
    Textual's rendering and crashed the app, again at every resume."""
    from textual_image.widget import TGPImage

    from tui.ui.widgets.sixel_thumbnail import SixelThumbnail

    terminal_graphics.use(SixelThumbnail if kind == "sixel" else TGPImage)
    path = tmp_path / name
    path.write_bytes(make())
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_image(pilot, path)
        await pilot.press("ctrl+up", "up")  # the prompt in full view: drawn, if at all
        await pilot.pause()
        assert bool(chat_screen(pilot).query(UserImagesView)) is drawn
        assert f"📷 {name} (" in screen_text(pilot)


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


def test_auto_does_not_ask_inside_tmux_which_passes_on_the_outer_terminals_variables() -> None:
    """tmux keeps KITTY_WINDOW_ID from the kitty it runs in, but draws no kitty pictures and
    never answers kitty's question: asking would cost its timeout at every start."""
    outside = {"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}
    inside = {**outside, "TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0"}
    assert terminal_graphics.asks("auto", outside)
    assert not terminal_graphics.asks("auto", inside)
    assert terminal_graphics.asks("on", inside)  # tmux built with sixel: the user says so


def test_the_app_starting_in_a_sixel_terminal_draws_the_thumbnail(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """The real program in a pseudo-terminal that says (to the query textual-image sends
    before Textual starts) that it draws sixels: the prompt's picture reaches it as sixel
    data. With `thumbnails = "off"` the same terminal gets none; "on" in a terminal that
    draws nothing says so on screen."""
    pytest.importorskip("textual_image", reason="thumbnails need the images extra")
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
        # Its answers to both "what are you" questions (textual-image's, then the one
        # that catches late answers), waiting in its input before they are asked, so
        # that no timing decides the test. Off, nothing asks, and nothing answers.
        answers = b"" if setting == "off" else answer * 2
        with terminal(server, tmp_path / setting, config, answers) as (primary, seen):
            read_until(primary, b"Message (Enter", seen)
            os.write(primary, f"/file {picture}\r".encode())
            read_until(primary, b"red.png", seen)
            os.write(primary, b"What is it?\r")
            read_until(primary, b"square.", seen)
            read_until(primary, b"What is it?", seen)  # the prompt's view, drawn whole
            if expect_sixels:
                read_until(primary, b'q"1;1;', seen)  # sixel data: raster attributes
        assert bool(SIXEL_START.search(seen)) is expect_sixels, setting
        assert (b"did not say it draws pictures" in seen) is (setting == "on")


def test_a_terminal_answering_late_types_nothing_into_the_prompt(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    """Over ssh, kitty's answer to textual-image's question comes after its 0.1 s wait:
    it used to land in the prompt as typed text. Now it is read and dropped."""
    pytest.importorskip("textual_image", reason="thumbnails need the images extra")
    server.queue(StreamReply(deltas=["Hi."]))
    config = tmp_path / "config.toml"
    config.write_text('thumbnails = "auto"\n')
    with terminal(server, tmp_path, config, TEXT_TERMINAL, term="xterm-kitty") as (
        primary,
        seen,
    ):
        read_until(primary, b"\x1b_G", seen)  # kitty's question
        time.sleep(0.3)
        os.write(primary, b"\x1b_Gi=1;OK\x1b\\")  # answered late
        if seen_twice(primary, b"\x1b[c", seen):  # "what are you", asked to catch it
            os.write(primary, TEXT_TERMINAL)
        read_until(primary, b"Message (Enter", seen)
        os.write(primary, b"hello\r")
        read_until(primary, b"Hi.", seen)
    assert server.requests[-1]["messages"][-1]["content"] == "hello"
    assert b"^[_G" not in seen, "echoed over the screen as typed text"


def seen_twice(primary: int, wanted: bytes, seen: bytearray) -> bool:
    """Whether the app writes `wanted` a second time within a second."""
    deadline = time.monotonic() + 1
    while seen.count(wanted) < 2 and time.monotonic() < deadline:
        if select.select([primary], [], [], 0.05)[0]:
            seen += os.read(primary, 65536)
    return seen.count(wanted) >= 2


@contextmanager
def terminal(
    server: OpenAIStyleServer,
    home: Path,
    config: Path,
    answers: bytes,
    term: str = "xterm-256color",
) -> Iterator[tuple[int, bytearray]]:
    """The app in a pseudo-terminal of 100x30 cells of 10x20 pixels, with `answers`
    already typed by the terminal; yields the terminal's side and what the app wrote."""
    outer = ("TMUX", "KITTY_WINDOW_ID", "WT_SESSION", "KONSOLE_VERSION", "TERM_PROGRAM")
    env = {key: value for key, value in os.environ.items() if key not in outer}
    env |= {
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": TEST_KEY,
        "TUI_CHAT_DB": str(home / "h.sqlite3"),
        "TERM": term,
    }
    if term == "xterm-256color":
        env["TERM_PROGRAM"] = "WezTerm"
    process, primary = start_in_terminal(
        ["--config", str(config), "-m", "test-model"], env, pixels=(1000, 600), typed=answers
    )
    seen = bytearray()
    try:
        yield primary, seen
    finally:
        quit_and_close(process, primary)

"""The CSS Textual parsed at one launch is read back at the next, and draws the same."""

from __future__ import annotations

import inspect
import pickle
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.css.stylesheet import Stylesheet
from textual.pilot import Pilot

import tui.ui.parsed_styles as parsed_styles
from tests.ui_helpers import screen_text, wait_until
from tui.config import Settings
from tui.ui.app import ChatApp


@pytest.fixture(autouse=True)
def nothing_remembered_in_this_process() -> Iterator[None]:
    """Each test starts as a new process would: only the file tells what was parsed."""
    parsed_styles._remembered.clear()
    parsed_styles._used.clear()
    yield
    parsed_styles._remembered.clear()
    parsed_styles._used.clear()


def drawn(pilot: Pilot) -> list[list[tuple[str, str]]]:
    """Every cell run on screen with its style: what a user sees, colours included."""
    return [
        [(segment.text, str(segment.style)) for segment in strip]
        for strip in pilot.app.screen._compositor.render_strips()
    ]


async def launch(settings: Settings) -> tuple[list[list[tuple[str, str]]], int]:
    """The screen once the footer shows its keys, and how many stylesheets were parsed
    (not read back) meanwhile: the first frame's are kept after it, the rest at exit."""
    before = parsed_styles.parsed_in_this_process()
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        kept = settings.db_path.parent / parsed_styles.FILE_NAME
        await wait_until(pilot, lambda: kept.exists() and "Help" in screen_text(pilot))
        shown = drawn(pilot)
    return shown, parsed_styles.parsed_in_this_process() - before


def test_textual_still_parses_as_this_expects() -> None:
    """The guard of the patch: Textual's private parse has the parameters it passes on."""
    assert getattr(Stylesheet._parse_rules, "remembers", False)
    assert parsed_styles._signature_is_known(Stylesheet._parse_rules.__wrapped__)


async def test_a_second_launch_reads_the_rules_back_and_draws_the_same(
    settings: Settings,
) -> None:
    first, parsed_first = await launch(settings)
    kept = settings.db_path.parent / parsed_styles.FILE_NAME
    assert parsed_first > 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    parsed_styles._remembered.clear()
    parsed_styles._used.clear()
    parsed_styles.recall_parsed_styles(settings.db_path.parent)
    second, parsed_second = await launch(settings)
    assert parsed_second == 0
    assert second == first


async def test_a_file_others_may_write_is_not_read(settings: Settings) -> None:
    await launch(settings)
    kept = settings.db_path.parent / parsed_styles.FILE_NAME
    kept.chmod(0o666)
    parsed_styles._remembered.clear()
    parsed_styles._used.clear()
    parsed_styles.recall_parsed_styles(settings.db_path.parent)
    assert not parsed_styles._remembered


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x05N."])
async def test_a_damaged_file_is_parsed_over_and_written_again(
    settings: Settings, content: bytes
) -> None:
    clean, _ = await launch(settings)
    kept = settings.db_path.parent / parsed_styles.FILE_NAME
    kept.write_bytes(content)
    parsed_styles._remembered.clear()
    parsed_styles._used.clear()
    parsed_styles.recall_parsed_styles(settings.db_path.parent)
    assert not parsed_styles._remembered
    again, parsed = await launch(settings)
    assert parsed > 0
    assert again == clean
    assert kept.stat().st_size > len(content)


def test_the_rules_read_back_are_the_rules_parsed(tmp_path: Path) -> None:
    css = inspect.cleandoc(
        """
        #log { height: 1fr; padding: 0 1; }
        .message.user > .prompt-text { color: $text-accent; text-style: bold; }
        Widget:focus { border: heavy $accent; }
        """
    )
    stylesheet = Stylesheet(variables={"text-accent": "#ff0000", "accent": "blue"})
    parsed = stylesheet._parse_rules(css, ("test", ""))
    parsed_styles.keep_parsed_styles(tmp_path)
    parsed_styles._remembered.clear()
    parsed_styles.recall_parsed_styles(tmp_path)
    again = Stylesheet(variables={"text-accent": "#ff0000", "accent": "blue"})
    recalled = again._parse_rules(css, ("test", ""))
    assert recalled is not parsed
    assert [rule.css for rule in recalled] == [rule.css for rule in parsed]
    assert [rule.selector_set for rule in recalled] == [rule.selector_set for rule in parsed]
    other_colours = Stylesheet(variables={"text-accent": "#00ff00", "accent": "blue"})
    assert "#00FF00" in "".join(rule.css for rule in other_colours._parse_rules(css, ("test", "")))


async def test_rules_parsed_by_another_textual_are_not_read(settings: Settings) -> None:
    await launch(settings)
    kept = settings.db_path.parent / parsed_styles.FILE_NAME
    fingerprint, rules = pickle.loads(kept.read_bytes())
    other = tuple((name, inode, size + 1, time) for name, inode, size, time in fingerprint)
    kept.write_bytes(pickle.dumps((other, rules)))
    parsed_styles._remembered.clear()
    parsed_styles.recall_parsed_styles(settings.db_path.parent)
    assert not parsed_styles._remembered
    kept.write_bytes(pickle.dumps((fingerprint, rules)))
    parsed_styles.recall_parsed_styles(settings.db_path.parent)
    assert parsed_styles._remembered


async def test_a_file_anyone_else_could_have_put_there_is_not_read(
    settings: Settings, tmp_path: Path
) -> None:
    """A pickle runs what it says: a link in place of the file (to a file of the user's
    that others may read), or a folder others may write, and the file is not read; in
    such a folder it is not written either."""
    await launch(settings)
    folder = settings.db_path.parent
    kept = folder / parsed_styles.FILE_NAME
    elsewhere = tmp_path / "elsewhere.pickle"
    kept.rename(elsewhere)
    kept.symlink_to(elsewhere)
    parsed_styles._remembered.clear()
    parsed_styles.recall_parsed_styles(folder)
    assert not parsed_styles._remembered
    kept.unlink()
    elsewhere.rename(kept)
    folder.chmod(0o777)
    try:
        parsed_styles.recall_parsed_styles(folder)
        assert not parsed_styles._remembered
        kept.unlink()
        await launch_without_waiting_for_the_file(settings)
        assert not kept.exists()
    finally:
        folder.chmod(0o700)


async def launch_without_waiting_for_the_file(settings: Settings) -> None:
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "Help" in screen_text(pilot))


async def test_at_exit_the_rules_of_a_theme_not_used_are_let_go(settings: Settings) -> None:
    """A theme tried once: its rules are kept while it is used, and not read back at
    every launch after."""
    from dataclasses import replace

    await launch(replace(settings, theme="gruvbox"))
    kept = settings.db_path.parent / parsed_styles.FILE_NAME
    with_the_theme = len(pickle.loads(kept.read_bytes())[1])
    (settings.db_path.parent / "remembered.json").unlink(missing_ok=True)  # (the pick)
    parsed_styles._remembered.clear()
    parsed_styles._used.clear()
    parsed_styles.recall_parsed_styles(settings.db_path.parent)
    await launch(settings)
    without = pickle.loads(kept.read_bytes())[1]
    assert len(without) < with_the_theme
    assert set(without) == set(parsed_styles._used)

"""The workarounds for Textual's costs change nothing a user sees."""

from __future__ import annotations

from textual._styles_cache import StylesCache
from textual.geometry import Region
from textual.strip import Strip

from tui.ui.textual_workarounds import mark_only_cached_lines_dirty, private_shapes_present


def test_refreshing_a_tall_widget_marks_only_the_lines_it_has_drawn() -> None:
    """A line is drawn again when dirty or not cached: marking only cached lines dirty
    draws the same lines, without a set of a million numbers per refresh."""
    mark_only_cached_lines_dirty()
    cache = StylesCache()
    cache._cache = {y: Strip.blank(10) for y in range(500, 540)}  # a screenful drawn
    cache.set_dirty(Region(0, 0, 10, 1_000_000))
    assert cache._dirty_lines == set(range(500, 540)), "the drawn lines will be drawn again"
    cache._dirty_lines.clear()
    cache.set_dirty(Region(0, 510, 10, 3))
    assert cache._dirty_lines == {510, 511, 512}, "a small region is marked as before"


def test_the_private_shapes_the_workarounds_rely_on_are_in_the_installed_textual() -> None:
    """If a Textual release changes them, the patches switch themselves off; this says so
    loudly instead, so the bound in pyproject.toml is moved on purpose."""
    assert private_shapes_present()

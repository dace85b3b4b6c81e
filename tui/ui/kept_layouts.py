"""The replies a launch shows first, kept laid out between launches.

Opening a conversation, the replies at its end are laid out before the first frame: the
Markdown parser imported (20 ms), its link finder's patterns compiled (6-30 ms) and each
reply parsed and laid out, a third of the time from the app's start to its first frame. A
reply laid out at a width in a look gives the same lines every time, so the runs of the
replies a launch shows first are kept in a private file beside the history (after the
first frame, and when the app quits, with the end as it is then) and taken back by the next
launch that asks for the same text at the same width in the same look; anything else is
laid out as before, and so is everything once the Markdown code or Textual changes.

Lines are kept as text and styles described by their public attributes, not as Rich's and
Textual's objects: those compare by a hash worked out once and kept with them, and the hash
of a string differs from one process to the next.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import fields
from operator import attrgetter
from pathlib import Path
from typing import Any

import rich
import textual
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.strip import Strip
from textual.style import Style

import tui.ui
from tui.ui.code_highlighters import build_highlighters
from tui.ui.kept_frame import forget_kept_rows
from tui.ui.kept_pickles import Fingerprint, files_fingerprint, read_kept, write_kept
from tui.ui.markdown_inline import MarkdownLook
from tui.ui.markdown_kept import (
    KEPT_RUN_CHARS,
    Run,
    highlighted_look,
    kept_layout,
    lay_out_kept,
    recall_layouts,
)
from tui.ui.markdown_lines import LaidOut, take_languages_drawn_plain
from tui.ui.markdown_references import References

FILE_NAME = "laid-out.pickle"

RunKey = tuple[str, int, References]
Line = tuple[int, tuple[tuple[str, int], ...]]
"""A line's width in cells and its pieces: text and the number of its style."""
KeptRun = tuple[str, int, int, tuple[Line, ...]]
"""The look's description, the margins above and below, and the lines."""

_OUR_LAYOUT = ("markdown_*.py", "code_highlighters.py", "kept_layouts.py")
_TEXTUAL_DRAWS_WITH = ("content.py", "strip.py", "style.py", "color.py", "_cells.py")
_RICH_DRAWS_WITH = ("segment.py", "style.py", "color.py", "cells.py", "text.py")
_PACKAGES_LAYING_OUT = ("markdown_it", "linkify_it", "mdurl", "pygments")
"""The parser, its link finder, its URLs and the highlighter: a new release of any may
lay out differently."""

_TEXTUAL_STYLE = attrgetter(
    "background", "foreground", "bold", "dim", "italic", "underline", "underline2",
    "reverse", "strike", "blink", "link", "auto_color", "meta",
)  # fmt: skip
_RICH_STYLE_PARTS = (
    "color", "bgcolor", "bold", "dim", "italic", "underline", "blink", "blink2", "reverse",
    "conceal", "strike", "underline2", "frame", "encircle", "overline", "link", "meta",
)  # fmt: skip
_rich_style_parts = attrgetter(*_RICH_STYLE_PARTS)


def _rich_style(style: RichStyle) -> tuple[object, ...]:
    *parts, meta = _rich_style_parts(style)
    return (*parts, meta or None)  # (no meta is None: an empty one makes another style)


_in_file: tuple[Path, frozenset[tuple[RunKey, str]]] | None = None
"""The folder whose file this process last read or wrote, and the runs it holds, each with
its look's description."""


@functools.cache  # (the code does not change under a running app)
def _fingerprint() -> Fingerprint:
    """Our layout code's files, Textual's and Rich's that draw lines, and the packages
    that parse and highlight."""
    ours = Path(tui.ui.__file__).parent
    files = [path for pattern in _OUR_LAYOUT for path in ours.glob(pattern)]
    files += [Path(textual.__file__).parent / name for name in _TEXTUAL_DRAWS_WITH]
    files += [Path(rich.__file__).parent / name for name in _RICH_DRAWS_WITH]
    for package in _PACKAGES_LAYING_OUT:  # (found, not imported)
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            files.append(Path(spec.origin))
    return files_fingerprint(path for path in files if path.exists())


@functools.lru_cache(maxsize=8)
def described(look: MarkdownLook) -> str:
    """The look in plain values, the same in any process for the same look; whether code
    not highlighted yet would be drawn plain does not count (a run is kept only if none
    was)."""
    return repr(
        tuple(
            _plain(getattr(look, field.name))
            for field in fields(look)
            if field.name != "highlight_unbuilt"
        )
    )


def _plain(value: object) -> object:
    if isinstance(value, Style):
        return _TEXTUAL_STYLE(value)
    if isinstance(value, tuple):
        return tuple(_plain(part) for part in value)
    return value


class _RecalledRun:
    """A run as read back, made into lines only if a launch asks for it."""

    def __init__(self, kept: KeptRun, styles: _Styles) -> None:
        self._look, self._top, self._bottom, self._lines = kept
        self._styles = styles

    def laid_out_for(self, look: MarkdownLook) -> LaidOut | None:
        if described(look) != self._look:
            return None
        try:
            style = self._styles.style
            lines = [
                Strip([Segment(text, style(number)) for text, number in pieces], width)
                for width, pieces in self._lines
            ]
        except Exception:  # (a file that says something else: laid out as before)
            return None
        return LaidOut(lines, self._top, self._bottom)


class _Styles:
    """The file's styles, made when a run is first drawn from them."""

    def __init__(self, described: Sequence[tuple[object, ...] | None]) -> None:
        self._described = described
        self._made: list[RichStyle | None] | None = None

    def style(self, number: int) -> RichStyle | None:
        if self._made is None:
            self._made = [
                None if parts is None else _made_style(parts) for parts in self._described
            ]
        return self._made[number]


def _made_style(parts: tuple[object, ...]) -> RichStyle:
    described: dict[str, Any] = dict(zip(_RICH_STYLE_PARTS, parts, strict=True))
    return RichStyle(**described)


def recall_kept_layouts(folder: Path) -> None:
    """Reads the runs kept in `folder` (the history's), if only the user can have written
    them (see `tui.ui.kept_pickles`): each is laid out from them when first asked for."""
    global _in_file
    _in_file = None
    recall_layouts({})
    kept = read_kept(folder, FILE_NAME, _fingerprint())
    if not (isinstance(kept, tuple) and len(kept) == 2):
        return
    styles, runs = kept
    if not (isinstance(styles, list) and isinstance(runs, dict)):
        return
    shared = _Styles(styles)
    usable = {
        key: run
        for key, run in runs.items()
        if isinstance(key, tuple)
        and len(key) == 3
        and isinstance(run, tuple)
        and len(run) == 4
        and isinstance(run[0], str)
    }
    recall_layouts({key: _RecalledRun(run, shared) for key, run in usable.items()})
    _in_file = (folder, frozenset((key, run[0]) for key, run in usable.items()))


def keep_layouts(folder: Path, runs: Iterable[Run], *, at_exit: bool = False) -> bool:
    """Writes `runs` (those of the replies the next launch shows first) to `folder`, each
    that is kept laid out in memory (so its code is highlighted), unless they are the
    file's own, taken back; with no runs, no file is left. At exit, a run not kept (one
    that streamed in, cut otherwise; its code drawn plain at the first frame, and not
    drawn again since) is laid out again (`_laid_out_again`). True if written (or
    removed)."""
    global _in_file
    found = [
        (run, kept_layout(*run) or (_laid_out_again(run) if at_exit else None))
        for run in runs
        if len(run[0]) <= KEPT_RUN_CHARS  # (never kept in memory, so never found)
    ]
    styles: dict[RichStyle | None, int] = {}
    every: dict[RunKey, KeptRun] = {}
    for (source, width, look, references), laid_out in found:
        if laid_out is not None and (lines := _lines(laid_out, styles)) is not None:
            every[(source, width, references)] = (
                described(look),
                laid_out.top,
                laid_out.bottom,
                lines,
            )
    if not found or (at_exit and not every):  # no text of another end left behind
        return forget_kept_layouts_file(folder)
    holds = (folder, frozenset((key, run[0]) for key, run in every.items()))
    if not every or _in_file == holds:
        return False
    table = [None if style is None else _rich_style(style) for style in styles]
    if not write_kept(folder, FILE_NAME, _fingerprint(), (table, every)):
        return False
    _in_file = holds
    return True


def forget_kept_text(folder: Path) -> None:
    """Removes every file kept for the next launch that may hold a conversation's text:
    the replies laid out, and the rows painted before Textual loads (`kept_frame`). For
    when a message or conversation is deleted."""
    forget_kept_layouts_file(folder)
    forget_kept_rows(folder)


def forget_kept_layouts_file(folder: Path) -> bool:
    """Removes the file (a conversation whose replies it may hold was deleted); True if
    there was one."""
    global _in_file
    _in_file = None
    try:
        (folder / FILE_NAME).unlink()
    except OSError:  # none, or not removable (written again, without it, at the next keep)
        return False
    return True


def _laid_out_again(run: Run) -> LaidOut | None:
    """The run laid out at exit, its code highlighted: a highlighter not built yet (the
    app quit within a second of its start) is built now (25-130 ms a language, once), or
    the next launch would lay the run out again."""
    source, width, look, references = run
    highlighting = highlighted_look(look)
    lay_out_kept(source, width, highlighting, references)
    if kept_layout(*run) is None and (languages := take_languages_drawn_plain()):
        # Drawn plain all the same: another thread was compiling (the loop never waits
        # for one). At exit it may: the highlighters are built here, then it is laid out.
        build_highlighters(languages)
        lay_out_kept(source, width, highlighting, references)
    return kept_layout(*run)


def _lines(laid_out: LaidOut, styles: dict[RichStyle | None, int]) -> tuple[Line, ...] | None:
    """The run's lines as text and style numbers (None: a line holds a control code)."""
    lines: list[Line] = []
    for strip in laid_out.lines:
        pieces: list[tuple[str, int]] = []
        for text, style, control in strip:
            if control or (style is not None and style.meta):
                return None  # (meta is marshalled: another process may make other bytes)
            pieces.append((text, styles.setdefault(style, len(styles))))
        lines.append((strip.cell_length, tuple(pieces)))
    return tuple(lines)

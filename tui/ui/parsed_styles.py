"""Textual's parsed CSS, kept between launches.

Textual parses every stylesheet at every launch: `app.tcss` and the `DEFAULT_CSS` of each
widget on the first screen, 20 ms here, a fifth of the time from the app's start to its
first frame (py-spy). The same CSS with the same variables (the theme's colours) parses to
the same rules every time, so the rules are kept in a private file beside the history, by
the CSS, where it was read from and its variables, for the Textual that parsed them, and
read back instead (3 ms). CSS not in the file is parsed as before; after the first frame
and at exit the file is rewritten if anything was parsed anew (at exit, without the rules
of a theme this run did not use).

The file is a pickle, since the rules are Textual's own objects and nothing rebuilds them
faster than parsing: read only when only the user can have written it (`kept_pickles`);
one that does not load, or holds anything but rules, is ignored and written again.

This patches Textual's private `Stylesheet._parse_rules` (as `textual_workarounds` does
for other things), whose signature `tests/test_parsed_styles.py` checks; on a Textual
that changed it, nothing is remembered and everything is parsed as before.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import textual
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

from tui.ui.kept_pickles import Fingerprint, files_fingerprint, read_kept, write_kept

FILE_NAME = "parsed-styles.pickle"

_TEXTUAL_PARSES_WITH = ("__init__.py", "color.py", "geometry.py", "constants.py", "css/*.py")
"""Textual's files that parsing, or the objects it makes, depend on: their inodes, sizes and
times are its fingerprint (its version would cost `importlib.metadata`, 12 ms at launch)."""

_EXPECTED_PARAMETERS = ("self", "css", "read_from", "is_default_rules", "tie_breaker", "scope")

Key = tuple[str, Any, bool, int, str]
"""The CSS, where it was read from, whether it is a widget's default CSS, its tie breaker
and scope: Textual's own key for the rules it parsed."""
Variables = tuple[tuple[str, str], ...]
"""The variables CSS was parsed with (the theme's colours), in order."""

_remembered: dict[Variables, dict[Key, list[RuleSet]]] = {}
"""The rules read from the file, by the variables they were parsed with."""
_used: dict[Variables, dict[Key, list[RuleSet]]] = {}
"""The rules asked for in this process (read back or parsed), in the order asked."""
_parsed = 0
"""How many stylesheets were parsed in this process rather than read back."""
_last_variables: tuple[dict[str, str], Variables] | None = None
"""The last variables seen, as given and in order: Textual sets a new dict each time."""


def remember_parsed_styles() -> None:
    """Routes Textual's parsing through the rules kept (once per process)."""
    parse: Callable[..., list[RuleSet]] = Stylesheet._parse_rules
    if getattr(parse, "remembers", False) or not _signature_is_known(parse):
        return

    def parse_or_recall(
        self: Stylesheet,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        global _parsed
        variables = _in_order(self._variables)
        key = (css, read_from, is_default_rules, tie_breaker, scope)
        rules = _remembered.get(variables, {}).get(key)
        if rules is None:
            rules = parse(self, css, read_from, is_default_rules, tie_breaker, scope)
            _parsed += 1
        _used.setdefault(variables, {})[key] = rules
        return rules

    parse_or_recall.remembers = True  # type: ignore[attr-defined]
    parse_or_recall.__wrapped__ = parse  # type: ignore[attr-defined]
    Stylesheet._parse_rules = parse_or_recall  # type: ignore[method-assign]


def _signature_is_known(parse: Callable[..., object]) -> bool:
    return tuple(inspect.signature(parse).parameters) == _EXPECTED_PARAMETERS


def _in_order(variables: dict[str, str]) -> Variables:
    global _last_variables
    if _last_variables is None or _last_variables[0] is not variables:
        _last_variables = (variables, tuple(sorted(variables.items())))
    return _last_variables[1]


@functools.cache  # (Textual's files do not change under a running app)
def _fingerprint() -> Fingerprint:
    folder = Path(textual.__file__).parent
    return files_fingerprint(
        path for pattern in _TEXTUAL_PARSES_WITH for path in folder.glob(pattern)
    )


def recall_parsed_styles(folder: Path) -> None:
    """Reads the rules kept in `folder` (the history's), if only the user can have
    written them (see `tui.ui.kept_pickles`)."""
    kept = read_kept(folder, FILE_NAME, _fingerprint())
    if isinstance(kept, dict) and all(_are_entries(entries) for entries in kept.values()):
        for variables, entries in kept.items():
            _remembered.setdefault(variables, {}).update(entries)


def _are_entries(entries: object) -> bool:
    return isinstance(entries, dict) and all(
        isinstance(key, tuple)
        and len(key) == 5
        and isinstance(rules, list)
        and all(isinstance(rule, RuleSet) for rule in rules)
        for key, rules in entries.items()
    )


def keep_parsed_styles(folder: Path, *, at_exit: bool = False) -> bool:
    """Writes the rules to `folder` if any was parsed rather than read back: after the
    first frame, adding the ones a launch needs to those read; at exit, also without the
    variables (a theme's colours) no stylesheet of this run was parsed with, so a theme
    tried once is not read back at every launch. True if written."""
    used = {variables: entries.keys() for variables, entries in _used.items()}
    read = {variables: entries.keys() for variables, entries in _remembered.items()}
    nothing_new = all(keys <= read.get(variables, set()) for variables, keys in used.items())
    if nothing_new and (not at_exit or read.keys() <= used.keys()):
        return False
    every = {
        variables: dict(entries)
        for variables, entries in _remembered.items()
        if not at_exit or variables in _used
    }
    for variables, entries in _used.items():
        every.setdefault(variables, {}).update(entries)
    kept = {
        variables: {
            key: rules for key, rules in entries.items() if not any(rule.errors for rule in rules)
        }
        for variables, entries in every.items()
    }
    if not write_kept(folder, FILE_NAME, _fingerprint(), kept):
        return False
    _remembered.clear()
    _remembered.update(kept)
    return True


def parsed_in_this_process() -> int:
    """How many stylesheets this process parsed instead of reading them back."""
    return _parsed

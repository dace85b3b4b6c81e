"""Textual's parsed CSS, kept between launches.

Textual parses every stylesheet at every launch: `app.tcss` and the `DEFAULT_CSS` of each
widget on the first screen, 20 ms here, a fifth of the time from the app's start to its
first frame (py-spy). The same CSS with the same variables (the theme's colours) parses to
the same rules every time, so the rules are kept in a private file beside the history, by
the CSS, where it was read from and its variables, for the Textual that parsed them, and
read back instead (3 ms). CSS not in the file is parsed as before; after the first frame
and at exit the file is rewritten if anything was parsed anew.

The file is a pickle, since the rules are Textual's own objects and nothing rebuilds them
faster than parsing. So it is read only when it is the user's and nobody else may write to
it (it is made readable by the user alone, as the history is); one that does not load, or
holds anything but rules, is ignored and written again.

This patches Textual's private `Stylesheet._parse_rules` (as `textual_workarounds` does
for other things), whose signature `tests/test_parsed_styles.py` checks; on a Textual
that changed it, nothing is remembered and everything is parsed as before.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import textual
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

from tui.private_files import make_private_folder

FILE_NAME = "parsed-styles.pickle"

_TEXTUAL_PARSES_WITH = ("__init__.py", "css/parse.py", "css/model.py", "css/_styles_builder.py")
"""Textual's files whose change may change what parsing gives: their sizes and times are
its fingerprint (its version would cost `importlib.metadata`, 12 ms at launch)."""

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
    Stylesheet._parse_rules = parse_or_recall  # type: ignore[method-assign]


def _signature_is_known(parse: Callable[..., object]) -> bool:
    return tuple(inspect.signature(parse).parameters) == _EXPECTED_PARAMETERS


def _in_order(variables: dict[str, str]) -> Variables:
    global _last_variables
    if _last_variables is None or _last_variables[0] is not variables:
        _last_variables = (variables, tuple(sorted(variables.items())))
    return _last_variables[1]


def _fingerprint() -> tuple[tuple[str, int, int], ...]:
    folder = Path(textual.__file__).parent
    stats = [(name, (folder / name).stat()) for name in _TEXTUAL_PARSES_WITH]
    return tuple((name, status.st_size, status.st_mtime_ns) for name, status in stats)


def recall_parsed_styles(folder: Path) -> None:
    """Reads the rules kept in `folder` (the history's), if it holds a file that only the
    user may write."""
    path = folder / FILE_NAME
    try:
        with path.open("rb") as file:
            if not _only_the_user_may_write(os.fstat(file.fileno())):
                return
            fingerprint, kept = pickle.load(file)
            if fingerprint != _fingerprint():
                return  # another Textual
    except Exception:  # missing, unreadable or damaged: parsed as before, and written again
        return
    if isinstance(kept, dict) and all(_are_entries(entries) for entries in kept.values()):
        for variables, entries in kept.items():
            _remembered.setdefault(variables, {}).update(entries)


def _only_the_user_may_write(status: os.stat_result) -> bool:
    mine = not hasattr(os, "getuid") or status.st_uid == os.getuid()
    return mine and not status.st_mode & 0o022


def _are_entries(entries: object) -> bool:
    return isinstance(entries, dict) and all(
        isinstance(key, tuple)
        and len(key) == 5
        and isinstance(rules, list)
        and all(isinstance(rule, RuleSet) for rule in rules)
        for key, rules in entries.items()
    )


def keep_parsed_styles(folder: Path) -> bool:
    """Writes the rules asked for so far to `folder`, if any of them were parsed rather
    than read back (after the first frame: the ones a launch needs). True if written."""
    if all(
        key in _remembered.get(variables, {}) for variables in _used for key in _used[variables]
    ):
        return False
    kept = {
        variables: {
            key: rules for key, rules in entries.items() if not any(rule.errors for rule in rules)
        }
        for variables, entries in _used.items()
    }
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        make_private_folder(folder)
        path = folder / FILE_NAME
        partial = path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            pickle.dump((_fingerprint(), kept), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
        for variables, entries in kept.items():
            _remembered.setdefault(variables, {}).update(entries)
        return True
    return False


def parsed_in_this_process() -> int:
    """How many stylesheets this process parsed instead of reading them back."""
    return _parsed

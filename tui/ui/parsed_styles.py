"""Textual's parsed CSS, kept between launches.

Textual parses every stylesheet at every launch: `app.tcss` and the `DEFAULT_CSS` of each
widget on the first screen, 20 ms here, a fifth of the time from the app's start to its
first frame (py-spy). The same CSS with the same variables (the theme's colours) parses to
the same rules every time, so the rules are kept in a private file beside the history,
keyed by the CSS, where it was read from, its variables and Textual's version, and read
back instead (2 ms). CSS not in the file is parsed as before; after the first frame the
file is rewritten if anything on the way to it was parsed anew.

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
import hashlib
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

FILE_NAME = f"parsed-styles-{textual.__version__}.pickle"

_EXPECTED_PARAMETERS = ("self", "css", "read_from", "is_default_rules", "tie_breaker", "scope")

Key = tuple[str, Any, bool, int, str, str]
"""The CSS, where it was read from, whether it is a widget's default CSS, its tie breaker
and scope (Textual's own cache key), and a digest of the variables it was parsed with."""

_remembered: dict[Key, list[RuleSet]] = {}
"""The rules read from the file."""
_used: dict[Key, list[RuleSet]] = {}
"""The rules asked for in this process (read back or parsed), in the order asked."""
_parsed = 0
"""How many stylesheets were parsed in this process rather than read back."""
_digests: tuple[dict[str, str], str] | None = None
"""The last variables seen and their digest: a new dict each time Textual sets them."""


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
        key = (css, read_from, is_default_rules, tie_breaker, scope, _digest(self._variables))
        rules = _remembered.get(key)
        if rules is None:
            rules = parse(self, css, read_from, is_default_rules, tie_breaker, scope)
            _parsed += 1
        _used[key] = rules
        return rules

    parse_or_recall.remembers = True  # type: ignore[attr-defined]
    Stylesheet._parse_rules = parse_or_recall  # type: ignore[method-assign]


def _signature_is_known(parse: Callable[..., object]) -> bool:
    return tuple(inspect.signature(parse).parameters) == _EXPECTED_PARAMETERS


def _digest(variables: dict[str, str]) -> str:
    global _digests
    if _digests is None or _digests[0] is not variables:
        text = repr(sorted(variables.items())).encode()
        _digests = (variables, hashlib.blake2b(text, digest_size=16).hexdigest())
    return _digests[1]


def recall_parsed_styles(folder: Path) -> None:
    """Reads the rules kept in `folder` (the history's), if it holds a file that only the
    user may write."""
    path = folder / FILE_NAME
    try:
        with path.open("rb") as file:
            if not _only_the_user_may_write(os.fstat(file.fileno())):
                return
            kept = pickle.load(file)
    except Exception:  # missing, unreadable or damaged: parsed as before, and written again
        return
    if isinstance(kept, dict) and all(_is_entry(key, rules) for key, rules in kept.items()):
        _remembered.update(kept)


def _only_the_user_may_write(status: os.stat_result) -> bool:
    mine = not hasattr(os, "getuid") or status.st_uid == os.getuid()
    return mine and not status.st_mode & 0o022


def _is_entry(key: object, rules: object) -> bool:
    return (
        isinstance(key, tuple)
        and len(key) == 6
        and isinstance(rules, list)
        and all(isinstance(rule, RuleSet) for rule in rules)
    )


def keep_parsed_styles(folder: Path) -> bool:
    """Writes the rules asked for so far to `folder`, if any of them were parsed rather
    than read back (after the first frame: the ones a launch needs). True if written."""
    if all(key in _remembered for key in _used):
        return False
    kept = {key: rules for key, rules in _used.items() if not any(rule.errors for rule in rules)}
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        make_private_folder(folder)
        path = folder / FILE_NAME
        partial = path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            pickle.dump(kept, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
        _remembered.update(kept)
        return True
    return False


def parsed_in_this_process() -> int:
    """How many stylesheets this process parsed instead of reading them back."""
    return _parsed

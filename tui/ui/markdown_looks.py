"""A reply's Markdown look, worked out once per place in the DOM, not once per widget.

`RenderedMarkdown` resolves about twenty styles (its text, headings, code, links, ...)
from its component classes and every node above it: 2-3 ms here. It did so for every
reply mounted, and again for every reply whose message gained or lost focus, since a
style update may change any colour: holding Up through a long conversation did it at
about every other key, a tenth of the longest frames.

Yet those styles follow from where the widget sits, as the stylesheet's rules do: the
type, id, classes and pseudo-classes of each node from the app down, and any styles set
on those nodes in code. The look is kept per such place while the stylesheet's rules stay
the same list: a theme change or a new stylesheet parses them again, and the looks are
worked out afresh.

Asking a node for all its pseudo-classes took 70 us (0.4 ms a place, a fifth of working
the look out), so a place holds what each one is decided by: hover, focus, focusable and
disabled per node, the theme and colour modes for the app. Rules that name any other
pseudo-class (`:first-child`, `:focus-within`, ...) turn the keeping off, and so does a
node whose inline styles cannot be told apart by value.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from textual.dom import DOMNode
from textual.widget import Widget

from tui.ui.markdown_lines import MarkdownLook

KEPT_LOOKS = 256
"""Places remembered at most; past it, the looks are worked out again as needed."""

TOLD_APART = frozenset(
    {"hover", "focus", "blur", "can-focus", "disabled", "enabled"}  # per node
    | {"dark", "light", "inline", "ansi", "nocolor"}  # the app's
)
"""The pseudo-classes a place tells apart."""


class _Looks:
    """One stylesheet's looks, by place."""

    def __init__(self, rules: list[Any]) -> None:
        self.of_rules = rules
        self.by_place: dict[Hashable, MarkdownLook] = {}
        named: set[str] = set().union(*(rule.pseudo_classes for rule in rules))
        self.keepable = named <= TOLD_APART


_kept: _Looks | None = None


def look_in_place(
    widget: Widget, work_out: Callable[[], MarkdownLook], *also: Hashable
) -> MarkdownLook:
    """`work_out()`'s look for `widget`, or the one worked out before in the same place
    with the same `also` (what else `work_out` reads of the widget)."""
    global _kept
    rules = widget.app.stylesheet.rules
    if _kept is None or _kept.of_rules is not rules:
        _kept = _Looks(rules)
    place = _place(widget, also) if _kept.keepable else None
    if place is None:
        return work_out()
    look = _kept.by_place.get(place)
    if look is None:
        look = work_out()
        if len(_kept.by_place) >= KEPT_LOOKS:
            _kept.by_place.clear()
        _kept.by_place[place] = look
    return look


def forget_looks() -> None:
    """Every look is worked out afresh from now on (for tests that change styles in code
    without a place telling them apart)."""
    global _kept
    _kept = None


def _place(widget: Widget, also: tuple[Hashable, ...]) -> Hashable | None:
    """What the rules (and styles set in code) that decide the look can see of where
    `widget` sits; None if some node's inline styles are not hashable."""
    app = widget.app
    nodes: list[Hashable] = [(app.theme, app.is_inline, app.native_ansi_color, app.no_color, also)]
    for node in widget.css_path_nodes:
        inline = _inline_styles(node)
        if inline is None:
            return None
        states: tuple[bool, ...] = ()
        if isinstance(node, Widget):
            states = (node.mouse_hover, node.has_focus, node.allow_focus(), node.disabled)
        nodes.append((type(node), node.id, node.classes, states, inline))
    return tuple(nodes)


def _inline_styles(node: DOMNode) -> Hashable | None:
    rules = node.styles.inline.get_rules()
    if not rules:
        return ()
    try:
        return frozenset(rules.items())
    except TypeError:  # a value that is a list or a dict
        return None

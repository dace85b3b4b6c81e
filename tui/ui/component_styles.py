"""Works out a widget's component-class styles once per place in the DOM, not per widget.

For every widget with `COMPONENT_CLASSES`, Textual 8.2 matches the whole stylesheet once
per component class, on a throwaway node (`Stylesheet._process_component_classes`): a
reply's Markdown view has 18 classes, so styling one took 2.8 ms, and mounting the
replies met while holding Up spent 0.3 s of 5.5 s there. Yet what those rules match
depends only on where the widget sits: the types, ids and classes of the nodes from the
app down (an id only where a candidate rule names it: a notification's holder has one of
its own), and the pseudo-classes the candidate rules name (`:dark`, `:light`). So the
matched rules are kept per such place and replayed, as Textual itself replays them for
siblings (`Stylesheet.update_nodes`). Rules naming a pseudo-class Textual will not
cache (`:first-child`, `:focus-within`, ...) are matched afresh every time, as before.

Classes that draw only with their component styles' values, never with their
`rich_style` (which reads the DOM above the node they were worked out on), can share the
styles themselves: each component class costs a throwaway node of 40 objects that every
full garbage collection walks, 18 per reply mounted, a quarter of the heap while holding
Up through a long conversation. A shared node is let go of its widget once styled, so
the styles do not keep the first widget (and its reply) alive. Found here; see
benchmarks/README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from textual.css.model import SelectorType
from textual.css.styles import RenderStyles, RulesMap
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

_Place = tuple[Hashable, ...]


def _shapes_present() -> bool:
    """Whether the private parts this relies on exist in the installed Textual."""
    node = DOMNode(classes="probe")
    return (
        callable(getattr(Stylesheet, "_process_component_classes", None))
        and callable(getattr(Stylesheet, "replace_rules", None))
        and isinstance(getattr(Stylesheet, "_EXCLUDE_PSEUDO_CLASSES_FROM_CACHE", None), set)
        and all(
            hasattr(node, name)
            for name in (
                "_classes",
                "_id",
                "_component_styles",
                "_selector_names",
                "_attach",
                "_detach",
            )
        )
    )


class _Candidates:
    """What the rules that may match some component classes can tell places apart by."""

    def __init__(self, pseudo_classes: tuple[str, ...], ids: frozenset[str]) -> None:
        self.pseudo_classes = pseudo_classes
        self.ids = ids


KEPT_PLACES = 1024
"""Matched rules kept at most (per stylesheet); past it they are matched afresh."""


class _MatchedRules:
    """One stylesheet's matched rules per (place, component class), dropped when the
    stylesheet is parsed again (a theme change makes a new list of rules)."""

    def __init__(self, stylesheet: Stylesheet) -> None:
        self.of_rules: list[Any] = stylesheet.rules
        self.matched: dict[tuple[_Place, str], RulesMap] = {}
        self.styles: dict[tuple[_Place, str], RenderStyles] = {}
        """The styles shared by the widgets of `_sharing` classes in each place."""
        self.candidates: dict[frozenset[str], _Candidates | None] = {}

    def candidates_for(
        self, stylesheet: Stylesheet, components: frozenset[str]
    ) -> _Candidates | None:
        """The pseudo-classes and ids named by the rules that may match `components`;
        None if they name a pseudo-class Textual never caches."""
        if components not in self.candidates:
            rules_map = stylesheet.rules_map
            pseudo_classes: set[str] = set()
            ids: set[str] = set()
            for component in components:
                for name in DOMNode(classes=component)._selector_names & rules_map.keys():
                    for rule in rules_map[name]:
                        pseudo_classes |= rule.pseudo_classes
                        ids.update(
                            selector.name
                            for selectors in rule.selector_set
                            for selector in selectors.selectors
                            if selector.type == SelectorType.ID
                        )
            cachable = pseudo_classes.isdisjoint(Stylesheet._EXCLUDE_PSEUDO_CLASSES_FROM_CACHE)
            self.candidates[components] = (
                _Candidates(tuple(sorted(pseudo_classes)), frozenset(ids)) if cachable else None
            )
        return self.candidates[components]

    def keep(self, place: _Place, component: str, rules: RulesMap) -> None:
        if len(self.matched) >= KEPT_PLACES:
            self.matched.clear()
        self.matched[place, component] = rules

    def share(self, place: _Place, component: str, styles: RenderStyles) -> None:
        if len(self.styles) >= KEPT_PLACES:
            self.styles.clear()
        self.styles[place, component] = styles


def _place(node: DOMNode, candidates: _Candidates) -> _Place:
    """What a rule matching a component class of `node` can see of where it sits."""
    ids, pseudo_classes = candidates.ids, candidates.pseudo_classes
    return tuple(
        (
            type(path_node),
            path_node._id if path_node._id in ids else None,
            frozenset(path_node._classes),
            tuple(path_node.has_pseudo_class(name) for name in pseudo_classes),
        )
        for path_node in node.css_path_nodes
    )


_sharing: set[type[DOMNode]] = set()


def share_component_styles(*sharing: type[DOMNode]) -> None:
    """Patches `Stylesheet._process_component_classes` (once; nothing if Textual changed);
    the widgets of the `sharing` classes in one place share their component styles."""
    _sharing.update(sharing)
    original: Callable[[Stylesheet, DOMNode], None] = Stylesheet._process_component_classes
    if getattr(original, "_tui_chat_patched", False) or not _shapes_present():
        return

    def process_component_classes(self: Stylesheet, node: DOMNode) -> None:
        components = frozenset(node._get_component_classes())
        if not components:
            return
        matched: _MatchedRules | None = getattr(self, "_tui_chat_matched", None)
        if matched is None or matched.of_rules is not self.rules:
            matched = _MatchedRules(self)
            self._tui_chat_matched = matched  # type: ignore[attr-defined]
        candidates = matched.candidates_for(self, components)
        if candidates is None:
            original(self, node)
            return
        place = _place(node, candidates)
        shares = type(node) in _sharing
        old_styles = node._component_styles.copy()
        node._component_styles.clear()
        changed = False
        for component in sorted(components):
            styles = matched.styles.get((place, component)) if shares else None
            if styles is None:
                styles = _styles_worked_out(self, matched, node, place, component)
                if shares:
                    styles.node._detach()  # type: ignore[union-attr]
                    matched.share(place, component, styles)
            changed = changed or old_styles.get(component) != styles
            node._component_styles[component] = styles
        if changed:
            node.refresh()

    process_component_classes._tui_chat_patched = True  # type: ignore[attr-defined]
    Stylesheet._process_component_classes = process_component_classes  # type: ignore[method-assign]


def _styles_worked_out(
    stylesheet: Stylesheet, matched: _MatchedRules, node: DOMNode, place: _Place, component: str
) -> RenderStyles:
    """A throwaway node's styles, as Textual makes them, with the rules matched in `place`
    (matched now if they have not been yet)."""
    virtual_node = DOMNode(classes=component)
    virtual_node._attach(node)
    rules = matched.matched.get((place, component))
    if rules is None:
        found: dict[tuple[Any, ...], RulesMap] = {}
        stylesheet.apply(virtual_node, animate=False, cache=found)
        matched.keep(place, component, next(iter(found.values()), RulesMap()))
    else:
        stylesheet.replace_rules(virtual_node, rules)
    return virtual_node.styles

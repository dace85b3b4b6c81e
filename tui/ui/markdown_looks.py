"""A reply's Markdown look (`look_of`), worked out once per place in the DOM, not once per
widget.

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
disabled per node, the app's focus, theme and colour modes. Where a rule that may style a
node on the way names any other pseudo-class (`:first-child`, ...), the look is worked
out every time, and so it is where some node's inline styles cannot be told apart by
value. A transition under way would be kept as it stands: the app's CSS has none.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace

from textual.css.model import RuleSet
from textual.dom import DOMNode
from textual.style import Style
from textual.widget import Widget

from tui.ui.markdown_lines import MarkdownLook

KEPT_LOOKS = 256
"""Places remembered at most; past it, the looks are worked out again as needed."""

TOLD_APART = frozenset(
    {"hover", "focus", "blur", "can-focus", "disabled", "enabled"}  # per node
    | {"dark", "light", "inline", "ansi", "nocolor"}  # the app's
)
"""The pseudo-classes a place tells apart."""

_Shape = tuple[tuple[type, str | None, frozenset[str]], ...]


class _Looks:
    """One stylesheet's looks, by place, and which shapes of path can be kept at all."""

    def __init__(self, rules: list[RuleSet]) -> None:
        self.of_rules = rules
        self.by_place: dict[Hashable, MarkdownLook] = {}
        self.keepable: dict[_Shape, bool] = {}

    def keepable_at(self, shape: _Shape, widget: Widget, path: list[DOMNode]) -> bool:
        """Whether the rules that may style a node of `path` (or the widget's component
        classes) name only pseudo-classes a place tells apart."""
        found = self.keepable.get(shape)
        if found is None and not _shapes_present(widget):
            found = self.keepable[shape] = False  # another Textual: worked out every time
        if found is None:
            names = {"*", "DOMNode", *(f".{name}" for name in widget._get_component_classes())}
            for node in path:
                names |= node._selector_names
            rules_map = widget.app.stylesheet.rules_map
            named: set[str] = set()
            for name in names & rules_map.keys():
                for rule in rules_map[name]:
                    named |= rule.pseudo_classes
            found = self.keepable[shape] = named <= TOLD_APART
        return found


def _shapes_present(widget: Widget) -> bool:
    """Whether the private parts the keeping reads exist in the installed Textual."""
    return hasattr(widget, "_get_component_classes") and hasattr(widget, "_selector_names")


_kept: _Looks | None = None


def look_in_place(
    widget: Widget, work_out: Callable[[], MarkdownLook], *also: Hashable
) -> MarkdownLook:
    """`work_out()`'s look for `widget`, or the one worked out before in the same place
    with the same `also` (what else `work_out` reads of the widget)."""
    global _kept
    # A new list whenever the stylesheet is parsed again (a theme, a screen's or a widget
    # class's first CSS): every look is then worked out afresh.
    rules = widget.app.stylesheet.rules
    if _kept is None or _kept.of_rules is not rules:
        _kept = _Looks(rules)
    place = _place(_kept, widget, also)
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
    """Every look is worked out afresh from now on (a test starts with none kept)."""
    global _kept
    _kept = None


def _place(looks: _Looks, widget: Widget, also: tuple[Hashable, ...]) -> Hashable | None:
    """What the rules (and styles set in code) that decide the look can see of where
    `widget` sits; None where that is not enough to tell places apart."""
    app = widget.app
    path = widget.css_path_nodes
    shape: _Shape = tuple((type(node), node.id, node.classes) for node in path)
    if not looks.keepable_at(shape, widget, path):
        return None
    inline = _inline_styles(path)
    if inline is None:
        return None
    states = tuple(
        (node.mouse_hover, node.has_focus, node.allow_focus(), node.disabled)
        for node in path
        if isinstance(node, Widget)
    )
    modes = (app.theme, app.app_focus, app.is_inline, app.native_ansi_color, app.no_color)
    return (modes, also, shape, states, inline)


def _inline_styles(path: Iterable[DOMNode]) -> Hashable | None:
    """The styles set in code on each node, as values; None if one is unhashable."""
    try:
        return tuple(frozenset(node.styles.inline.get_rules().items()) for node in path)
    except TypeError:  # a value that is a list or a dict
        return None


def look_of(widget: Widget, *, highlight_unbuilt: bool) -> MarkdownLook:
    """How `widget` (a `RenderedMarkdown`) draws Markdown, from its component classes.
    Parts with a colour are resolved in full, but keep their own colours as set,
    see-through ones too (a partial style blends see-through backgrounds wrongly): they
    blend with what they are drawn on when drawn, as in Textual's widgets, so a table,
    fence or heading in a quote sits on the quote's shade. Emphasis and inline code stay
    partial, as Textual's Markdown has them, so they keep the background they land on."""

    def part(name: str) -> Style:
        resolved = widget.get_visual_style(f"rendered-markdown--{name}")
        own = widget.get_component_styles(f"rendered-markdown--{name}")
        return replace(
            resolved,
            background=own.background if own.has_rule("background") else None,
            foreground=own.color if own.has_rule("color") else resolved.foreground,
        )

    def emphasis(name: str) -> Style:
        return widget.get_visual_style(f"rendered-markdown--{name}", partial=True)

    def link() -> Style:
        """Textual draws a link in the `link-color` of the widget it is in, whatever
        colour the text around it has (a heading's): the same colour here."""
        styles = widget.styles
        under = widget.background_colors[1] + styles.link_background
        colour = under + (
            under.get_contrast_text(styles.link_color.a)
            if styles.auto_link_color
            else styles.link_color
        )
        return Style(foreground=colour) + emphasis("link")

    return MarkdownLook(
        text=widget.get_visual_style(),
        headings=(part("h1"), part("h2"), part("h3"), part("h4"), part("h5"), part("h6")),
        em=emphasis("em"),
        strong=emphasis("strong"),
        strike=emphasis("strike"),
        code_inline=emphasis("code-inline"),
        link=link(),
        bullet=part("bullet"),
        fence=part("fence"),
        # see-through, so that a quote in a quote is a shade lighter again
        quote=Style(background=widget.get_component_styles("rendered-markdown--quote").background),
        quote_edge=part("quote-edge"),
        rule=part("rule"),
        table_lines=part("table-lines"),
        table_header=part("table-header"),
        ansi=widget.app.native_ansi_color,
        dark=widget.app.current_theme.dark,
        theme=widget.app.theme,
        highlight_unbuilt=highlight_unbuilt,
    )

"""Component-class styles worked out once per place give what matching each widget gave."""

from __future__ import annotations

import gc

from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widget import Widget

from tui.ui.component_styles import share_component_styles


class Painted(Widget):
    """A widget drawn with two component classes, as a reply's Markdown view is."""

    COMPONENT_CLASSES = {"painted--heading", "painted--link"}


class PaintedApp(App[None]):
    CSS = """
    Painted { height: 1; }
    Painted > .painted--heading { color: #010101; }
    Painted > .painted--link { color: #020202; }
    Painted:light > .painted--heading { color: #030303; }
    .quiet Painted > .painted--heading { color: #040404; }
    #special > .painted--link { color: #050505; }
    Vertical:disabled Painted > .painted--heading { color: #060606; }
    """
    PAINTED: type[Painted] = Painted

    def compose(self) -> ComposeResult:
        with Vertical(id="loud"):
            for _ in range(10):
                yield self.PAINTED()
        with Vertical(id="quiet", classes="quiet"):
            yield self.PAINTED()
            yield self.PAINTED(id="special")


def colour(widget: Painted, component: str) -> Color:
    return widget.get_component_styles(component).color


def assert_colours_by_place(app: PaintedApp) -> None:
    loud = list(app.query_one("#loud").query(Painted))
    quiet, special = app.query_one("#quiet").query(Painted)
    assert {colour(widget, "painted--heading") for widget in loud} == {Color(1, 1, 1)}
    assert {colour(widget, "painted--link") for widget in loud} == {Color(2, 2, 2)}
    assert colour(quiet, "painted--heading") == Color(4, 4, 4)
    assert colour(quiet, "painted--link") == Color(2, 2, 2)
    assert colour(special, "painted--link") == Color(5, 5, 5)


def counting_component_matches() -> list[DOMNode]:
    """Every throwaway node the stylesheet matches a component class on, from now on."""
    matched: list[DOMNode] = []
    original = Stylesheet.apply

    def apply(self: Stylesheet, node: DOMNode, **options: object) -> None:
        if type(node) is DOMNode:
            matched.append(node)
        original(self, node, **options)  # type: ignore[arg-type]

    Stylesheet.apply = apply  # type: ignore[method-assign]
    return matched


async def test_widgets_in_the_same_place_match_their_component_classes_once() -> None:
    share_component_styles()
    original = Stylesheet.apply
    matched = counting_component_matches()
    try:
        app = PaintedApp()
        async with app.run_test():
            assert_colours_by_place(app)
    finally:
        Stylesheet.apply = original  # type: ignore[method-assign]
    # Ten widgets in one place, two elsewhere (one with an id of its own): 3 places x 2
    # classes. Matching every widget, as Textual does, was 48: 12 widgets x 2 classes,
    # each widget styled twice while mounting.
    painted = [node for node in matched if isinstance(node.parent, Painted)]
    assert len(painted) == 3 * 2


async def test_a_theme_or_class_change_gives_the_styles_of_the_new_place() -> None:
    share_component_styles()
    app = PaintedApp()
    async with app.run_test() as pilot:
        first = app.query_one("#loud").query(Painted).first()
        app.theme = "textual-light"
        await pilot.pause()
        assert colour(first, "painted--heading") == Color(3, 3, 3)
        app.theme = "textual-dark"
        await pilot.pause()
        assert colour(first, "painted--heading") == Color(1, 1, 1)
        app.query_one("#loud").add_class("quiet")
        await pilot.pause()
        assert colour(first, "painted--heading") == Color(4, 4, 4)
        assert colour(app.query_one("#loud").query(Painted).last(), "painted--heading") == (
            Color(4, 4, 4)
        )


class SharedPainted(Painted):
    """Draws with its component styles' values only, so it may share them."""


class SharingApp(PaintedApp):
    PAINTED = SharedPainted


async def test_widgets_of_a_sharing_class_in_one_place_share_one_set_of_styles() -> None:
    """Each component class cost every widget a throwaway node of 40 objects that full
    garbage collections walk; widgets in one place now share the styles made once."""
    share_component_styles(SharedPainted)
    app = SharingApp()
    async with app.run_test() as pilot:
        assert_colours_by_place(app)
        loud = list(app.query_one("#loud").query(SharedPainted))
        quiet = app.query_one("#quiet").query(SharedPainted).first()
        gc.collect()
        throwaway = [
            node
            for node in gc.get_objects()
            if type(node) is DOMNode and node.classes & {"painted--heading", "painted--link"}
        ]
        assert len(throwaway) == 3 * 2  # three places (one an id names), two classes
        assert all(node.parent is None for node in throwaway), "keeping no widget alive"
        app.theme = "textual-light"
        await pilot.pause()
        assert {colour(widget, "painted--heading") for widget in loud} == {Color(3, 3, 3)}
        assert colour(quiet, "painted--heading") == Color(4, 4, 4)


async def test_a_pseudo_class_named_by_a_rule_tells_places_apart() -> None:
    """Disabling a container changes no rule and no class: the pseudo-class is part of
    where its widgets sit."""
    share_component_styles()
    app = PaintedApp()
    async with app.run_test() as pilot:
        loud = app.query_one("#loud", Vertical)
        widgets = list(loud.query(Painted))
        for disabled, expected in ((True, Color(6, 6, 6)), (False, Color(1, 1, 1))):
            loud.disabled = disabled
            await pilot.pause()
            assert {colour(widget, "painted--heading") for widget in widgets} == {expected}
        assert colour(app.query_one("#quiet").query(Painted).first(), "painted--heading") == (
            Color(4, 4, 4)
        )


class FirstChildApp(PaintedApp):
    CSS = PaintedApp.CSS + "Painted:first-child > .painted--link { color: #070707; }"


async def test_rules_naming_a_pseudo_class_textual_never_caches_match_each_widget() -> None:
    share_component_styles()
    app = FirstChildApp()
    async with app.run_test():
        first, *others = app.query_one("#loud").query(Painted)
        assert colour(first, "painted--link") == Color(7, 7, 7)
        assert {colour(widget, "painted--link") for widget in others} == {Color(2, 2, 2)}

"""A reply's Markdown look, worked out once per place, is what working it out for each
widget gave: per place, per focus, per theme, and per position where rules ask for one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.pilot import Pilot
from textual.widgets import Collapsible

from tui.ui.markdown_lines import MarkdownLook
from tui.ui.markdown_looks import forget_looks
from tui.ui.widgets.rendered_markdown import RenderedMarkdown

HEADING = "# Heading\n\nSome text.\n"

PLACES_CSS = """
RenderedMarkdown { height: auto; }
RenderedMarkdown > .rendered-markdown--h1 { color: #010101; }
.quiet RenderedMarkdown > .rendered-markdown--h1 { color: #040404; }
Message:focus RenderedMarkdown > .rendered-markdown--h1 { color: #070707; }
RenderedMarkdown:light > .rendered-markdown--h1 { color: #030303; }
App:blur RenderedMarkdown > .rendered-markdown--h1 { color: #020202; }
"""


class Message(Vertical, can_focus=True):
    DEFAULT_CSS = "Message { height: auto; }"


def reply() -> RenderedMarkdown:
    markdown = RenderedMarkdown()
    markdown.extend(HEADING)
    return markdown


class RepliesApp(App[None]):
    CSS = PLACES_CSS
    AUTO_FOCUS = None

    def compose(self) -> ComposeResult:
        with Vertical(id="loud"):
            for _ in range(6):
                with Message():
                    yield reply()
        with Vertical(id="quiet", classes="quiet"), Message():
            yield reply()
        # Its rules name `:focus-within`, which a place does not tell apart: they cannot
        # style a reply, so the replies' looks are still kept.
        yield Collapsible(title="reasoning")


def heading_colours(markdown: RenderedMarkdown) -> tuple[str, str]:
    """The colours the heading's text is drawn in, as "#rrggbb": text, background."""
    lines = [markdown.render_line(y) for y in range(markdown.size.height)]
    styled = next(segment for line in lines for segment in line if segment.text == "Heading")
    assert styled.style is not None
    colours = styled.style.color, styled.style.bgcolor
    hexes = [colour.triplet.hex for colour in colours if colour and colour.triplet]
    assert len(hexes) == 2
    return hexes[0], hexes[1]


def heading_colour(markdown: RenderedMarkdown) -> str:
    return heading_colours(markdown)[0]


def heading_background(markdown: RenderedMarkdown) -> str:
    return heading_colours(markdown)[1]


@asynccontextmanager
async def opened(app: App[None], size: tuple[int, int] = (60, 60)) -> AsyncIterator[Pilot[None]]:
    """`app` running, with no look kept from before."""
    forget_looks()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield pilot


@contextmanager
def looks_worked_out() -> Iterator[list[RenderedMarkdown]]:
    """Every widget whose look is worked out (not taken from its place), meanwhile."""
    worked_out: list[RenderedMarkdown] = []
    original = RenderedMarkdown._look

    def look(self: RenderedMarkdown) -> MarkdownLook:
        worked_out.append(self)
        return original(self)

    forget_looks()
    RenderedMarkdown._look = look  # type: ignore[method-assign]
    try:
        yield worked_out
    finally:
        RenderedMarkdown._look = original  # type: ignore[method-assign]


async def test_replies_in_the_same_place_share_a_look_and_others_get_their_own() -> None:
    with looks_worked_out() as worked_out:
        app = RepliesApp()
        async with app.run_test(size=(60, 60)) as pilot:
            await pilot.pause()
            loud = list(app.query_one("#loud").query(RenderedMarkdown))
            quiet = app.query_one("#quiet").query_one(RenderedMarkdown)
            assert {heading_colour(markdown) for markdown in loud} == {"#010101"}
            assert heading_colour(quiet) == "#040404"
    # Two places, not seven widgets (each styled more than once while mounting).
    assert len(worked_out) == 2


async def test_a_focused_message_and_a_new_theme_get_their_own_look() -> None:
    app = RepliesApp()
    async with opened(app) as pilot:
        first, second = list(app.query_one("#loud").query(Message))[:2]
        first.focus()
        await pilot.pause()
        assert heading_colour(first.query_one(RenderedMarkdown)) == "#070707"
        assert heading_colour(second.query_one(RenderedMarkdown)) == "#010101"
        second.focus()
        await pilot.pause()
        assert heading_colour(first.query_one(RenderedMarkdown)) == "#010101"
        assert heading_colour(second.query_one(RenderedMarkdown)) == "#070707"
        app.theme = "textual-light"
        await pilot.pause()
        assert heading_colour(first.query_one(RenderedMarkdown)) == "#030303"


async def test_the_app_losing_focus_gets_its_own_look() -> None:
    app = RepliesApp()
    async with opened(app) as pilot:
        first = app.query_one("#loud").query(Message).first()
        app.app_focus = False  # the terminal's window went to the back
        await pilot.pause()
        assert heading_colour(first.query_one(RenderedMarkdown)) == "#020202"
        app.app_focus = True
        await pilot.pause()
        assert heading_colour(first.query_one(RenderedMarkdown)) == "#010101"


class InlineApp(App[None]):
    """Two messages in the same place, one with a background set in code."""

    CSS = PLACES_CSS
    AUTO_FOCUS = None

    def compose(self) -> ComposeResult:
        tinted = Message()
        tinted.styles.background = Color(200, 0, 0)
        for message in (Message(), tinted):
            with message:
                yield reply()


async def test_styles_set_in_code_get_their_own_look() -> None:
    app = InlineApp()
    async with opened(app, (60, 30)):
        plain, tinted = app.query(RenderedMarkdown)
        assert heading_background(plain) != heading_background(tinted)


class PositionsApp(App[None]):
    """Rules that ask where a node is among its siblings, which a place does not say."""

    CSS = """
    RenderedMarkdown { height: auto; }
    RenderedMarkdown > .rendered-markdown--h1 { color: #010101; }
    Message:first-child RenderedMarkdown > .rendered-markdown--h1 { color: #080808; }
    """
    AUTO_FOCUS = None

    def compose(self) -> ComposeResult:
        with Vertical():
            for _ in range(3):
                with Message():
                    yield reply()


async def test_rules_that_ask_for_a_position_get_the_look_of_each_widget() -> None:
    app = PositionsApp()
    async with opened(app):
        colours = [heading_colour(markdown) for markdown in app.query(RenderedMarkdown)]
        assert colours == ["#080808", "#010101", "#010101"]


async def test_a_stylesheet_read_again_gives_the_look_of_its_new_rules() -> None:
    """As `textual run --dev` does when a `.tcss` file is saved."""
    app = RepliesApp()
    async with opened(app) as pilot:
        markdown = app.query(RenderedMarkdown).first()
        assert heading_colour(markdown) == "#010101"
        app.stylesheet.add_source(
            "RenderedMarkdown > .rendered-markdown--h1 { color: #090909; }", ("saved", "")
        )
        app.refresh_css(animate=False)
        await pilot.pause()
        assert heading_colour(markdown) == "#090909"

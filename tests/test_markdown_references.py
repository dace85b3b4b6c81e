"""Link reference definitions found a segment at a time, as one parse of the whole finds
them: what `RenderedMarkdown` lays each segment out with (the cells are compared with
Textual's own `Markdown` in `test_markdown_equivalence`)."""

from __future__ import annotations

from tests.test_long_history_keys import layouts_counted
from tests.test_stored_replies import MessageLogApp, plain_look
from tui.ui.markdown_kept import forget_kept_layouts
from tui.ui.markdown_lines import join_laid_out, lay_out
from tui.ui.markdown_references import SharedReferences, definitions_in, joined, labels_in
from tui.ui.widgets.message_log import MessageLog
from tui.ui.widgets.rendered_markdown import RenderedMarkdown


def test_definitions_are_found_where_markdown_has_them_and_nowhere_else() -> None:
    assert definitions_in("Text.\n\n[1]: https://example.com/a\n[Guide]: /g 'The guide'\n") == (
        ("1", "https://example.com/a", ""),
        ("GUIDE", "/g", "The guide"),
    )
    assert definitions_in("> - [in]: /a-quoted-list") == (("IN", "/a-quoted-list", ""),)
    assert definitions_in("```\n[not]: /in-code\n```\n") == ()
    assert definitions_in("for key in d[key]:\n    pass\n") == ()
    assert definitions_in("A paragraph\n[lazy]: /continues-it\n") == ()


def test_labels_are_found_as_the_parser_sees_them() -> None:
    """In a quote a label may go on over lines (each with its marker), in a table cell a
    pipe in it is escaped; an escaped bracket starts none."""
    assert "FOO BAR" in labels_in("> See [foo\n> bar].")
    assert "A|B" in labels_in("| [a\\|b] |")
    assert labels_in("\\[ x^2 \\] and \\[1\\]") == frozenset()
    assert labels_in("\\\\[yes]") == {"YES"}


def test_the_first_definition_of_a_label_wins_as_in_one_parse() -> None:
    first, later = definitions_in("[a]: /first\n"), definitions_in("[b]: /b\n\n[A]: /later\n")
    assert joined([first, later]) == (("A", "/first", ""), ("B", "/b", ""))


def test_a_segment_laid_out_with_a_later_segments_definitions_shows_the_link() -> None:
    look = plain_look()
    above = "See [the docs][1] and [guide]."
    alone = join_laid_out([lay_out(above, 60, look)], 60, look)
    assert "[the docs][1]" in alone[0].text
    references = joined([definitions_in(above), definitions_in("[1]: /d\n[guide]: /g\n")])
    linked = join_laid_out([lay_out(above, 60, look, references)], 60, look)
    assert linked[0].text.rstrip() == "See the docs and guide."


def test_a_definition_in_a_quote_in_a_list_item_is_found() -> None:
    for source in ("- > [a]: /x", "1. > [a]: /x", "> - > [a]: /x"):
        assert definitions_in(source) == (("A", "/x", ""),), source


def test_only_the_segments_that_name_a_new_definition_are_out_of_date() -> None:
    shared = SharedReferences()
    segments = ["See [the docs][1].\n\n", "Nothing to link.\n\n", "And [guide] too.\n\n"]
    assert not shared.insert(0, segments)
    assert [shared.for_segment(index) for index in range(3)] == [(), (), ()]
    assert shared.set_tail("[1]: /docs\n")  # the open segment's own, while it streams
    assert shared.outdated() == [0]
    assert shared.for_segment(0) == (("1", "/docs", ""),)
    assert shared.insert(3, ["[1]: /docs\n[guide]: /g\n\n"]) and not shared.set_tail("")
    assert shared.outdated() == [2]


async def test_a_streaming_reply_links_to_a_definition_as_soon_as_it_arrives() -> None:
    """While the definitions stream in, at the end of the reply, the links far above them
    resolve: only the segment that names them is laid out again, not the whole reply."""
    app = MessageLogApp()
    async with app.run_test(size=(80, 60)) as pilot:
        view = RenderedMarkdown()
        await app.query_one(MessageLog).mount(view)
        view.extend("Sources: [the docs][1].\n\n", *(f"Paragraph {n}.\n\n" for n in range(20)))
        await pilot.pause()
        assert view.line_text(0).rstrip() == "Sources: [the docs][1]."
        forget_kept_layouts()  # a long reply's segments are not all kept laid out
        view.set_tail("[1]: https://exam")  # its line not whole yet: not yet a definition
        await pilot.pause()
        assert view.line_text(0).rstrip() == "Sources: [the docs][1]."
        with layouts_counted() as laid_out:
            view.set_tail("[1]: https://example.com/docs\n")
            await pilot.pause()
        assert view.line_text(0).rstrip() == "Sources: the docs."
        assert not any(source.startswith("Paragraph") for source in laid_out)
        view.extend("[1]: https://example.com/docs\n")  # the reply ends
        view.set_tail("")
        await pilot.pause()
        assert view.line_text(0).rstrip() == "Sources: the docs."

"""Link reference definitions found a segment at a time, as one parse of the whole finds
them: what `RenderedMarkdown` lays each segment out with (the cells are compared with
Textual's own `Markdown` in `test_markdown_equivalence`)."""

from __future__ import annotations

from tests.test_stored_replies import plain_look
from tui.ui.markdown_lines import join_laid_out, lay_out
from tui.ui.markdown_references import definitions_in, joined


def test_definitions_are_found_where_markdown_has_them_and_nowhere_else() -> None:
    assert definitions_in("Text.\n\n[1]: https://example.com/a\n[Guide]: /g 'The guide'\n") == (
        ("1", "https://example.com/a", ""),
        ("GUIDE", "/g", "The guide"),
    )
    assert definitions_in("> - [in]: /a-quoted-list") == (("IN", "/a-quoted-list", ""),)
    assert definitions_in("```\n[not]: /in-code\n```\n") == ()
    assert definitions_in("for key in d[key]:\n    pass\n") == ()
    assert definitions_in("A paragraph\n[lazy]: /continues-it\n") == ()


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

"""Where a long reply may be split into separate Markdown widgets."""

from __future__ import annotations

from tui.ui.segment_splitter import SegmentSplitter


def split_points(*pieces: str) -> list[int]:
    """Offsets into the joined text, feeding it in the given pieces."""
    splitter = SegmentSplitter()
    points: list[int] = []
    base = 0
    for piece in pieces:
        points.extend(base + offset for offset in splitter.feed(piece))
        base += len(piece)
    return points


def test_splits_only_at_top_level_block_starts() -> None:
    text = "Para one.\n\nPara two.\n\n    indented\n\n- item\n"
    assert split_points(text) == [text.index("Para two"), text.index("- item")]


def test_never_splits_inside_a_fenced_code_block() -> None:
    text = "Intro\n\n```python\na = 1\n\nb = 2\n```\n\nAfter\n"
    assert split_points(text) == [text.index("```python"), text.index("After")]


def test_same_points_whatever_the_chunking() -> None:
    text = "A\n\n```\nx\n\ny\n```\n\nB\n\nC\n"
    whole = split_points(text)
    by_char = split_points(*text)
    assert whole == by_char == [text.index("```"), text.index("B"), text.index("C")]


def test_lines_models_start_with_a_space_are_still_block_starts() -> None:
    text = "Intro.\n\n ```python\nx = 1\n```\n\n A paragraph.\n\n   Three spaces.\n"
    assert split_points(text) == [
        text.index(" ```python"),
        text.index(" A paragraph"),
        text.index("   Three spaces"),
    ]


def test_a_list_items_indented_continuation_is_not_a_block_start() -> None:
    text = "- item one\n\n  still item one\n\n1. first\n\n   still first\n\n Back out.\n"
    assert split_points(text) == [text.index("1. first"), text.index(" Back out")]


def test_a_list_with_blank_lines_between_its_items_is_one_block() -> None:
    """Models write numbered steps with a blank line between them: cut at each item, the
    list was as many lists, each with a margin below it, and "10." no longer lined up with
    "9.". A list of another kind after it, or a paragraph, is a block start again."""
    steps = "".join(f"{n}. step {n}\n\n" for n in range(1, 13))
    text = f"Steps:\n\n{steps}- a\n\n- b\n\nAfter.\n"
    assert split_points(text) == [
        text.index("1. step 1"),
        text.index("- a"),
        text.index("After."),
    ]
    assert split_points(*text) == split_points(text)


def test_a_loose_list_goes_on_after_a_list_nested_in_its_item() -> None:
    """Numbered steps, each with bullets under it and blank lines between: the next step
    continues the numbered list (the bullets are not the list it belongs to)."""
    text = "1. **One**\n\n   - a\n   - b\n\n2. **Two**\n\n   - c\n\nDone.\n"
    assert split_points(text) == [text.index("Done.")]
    assert split_points(*text) == split_points(text)


def test_an_html_block_that_blank_lines_do_not_end_is_one_block() -> None:
    """A comment, `<pre>` or `<script>` goes on past blank lines to its end: cut inside, the
    rest was drawn as Markdown (a heading in a comment drawn, a definition in it defining
    a link), where Textual's `Markdown` draws none of it."""
    text = (
        "Intro.\n\n<!--\nnote\n\n[a]: /x\n\n# not a heading\n-->\n\n"
        "<PRE>\nkept\n\n  as is\n</pre>\n\n<!-- on one line -->\n\nAfter.\n"
    )
    assert split_points(text) == [
        text.index("<!--"),
        text.index("<PRE>"),
        text.index("<!-- on one line"),
        text.index("After."),
    ]
    assert split_points(*text) == split_points(text)


def test_an_html_block_opened_in_a_list_item_ends_with_the_item() -> None:
    """As markdown-it has it: the splitter went on skipping to the block's end marker, found
    it in a later fence, and then took that fence's closing line for an opening one (a
    cut inside the next fence, a heading drawn from a comment in the code)."""
    text = (
        '1. Put this in the page:\n\n   <script src="app.js">\n\n2. Then start it:\n\n'
        "```html\n<script>\n  start();\n</script>\n```\n\nSome text.\n\n"
        "```\n$ npm install\n\n# a comment\n$ npm start\n```\n\nEnd.\n"
    )
    assert split_points(text) == [
        text.index("```html"),
        text.index("Some text."),
        text.index("```\n$ npm"),
        text.index("End."),
    ]
    assert split_points(*text) == split_points(text)


def test_only_html_blocks_as_markdown_it_knows_them_go_on_past_blank_lines() -> None:
    text = "<![cdata[ not cdata\n\n- item\n\n  <!-- in the item\n\nAfter.\n"
    assert split_points(text) == [text.index("- item"), text.index("After.")]


def test_a_paragraph_back_under_a_step_after_its_bullets_is_the_steps() -> None:
    """A numbered step, its bullets, then more about the step at the step's own indent: cut
    there, the paragraph left the list and the next step began a list of its own."""
    text = (
        "1. Step one\n   - detail\n   - detail\n\n   More about step one.\n\n"
        "2. Step two\n\n- a\n  - b\n\n  more of a\n- c\n\nDone.\n"
    )
    assert split_points(text) == [text.index("- a"), text.index("Done.")]
    assert split_points(*text) == split_points(text)


def test_a_list_ended_by_a_heading_leaves_an_html_block_after_it_top_level() -> None:
    text = "- a\n# Heading\n  <!--\n\n# not a heading\n\n-->\n\nEnd.\n"
    assert split_points(text) == [text.index("End.")]

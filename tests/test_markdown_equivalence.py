"""A stored reply draws the cells Textual's own `Markdown` widget draws, at every terminal
width from narrow to wide, for everything a model writes: the same text in every cell, the
same colours (within rounding) and weights."""

from __future__ import annotations

import pytest
from textual.strip import Strip
from textual.widgets import Markdown

from tests.test_stored_replies import (
    ColourCell,
    MessageLogApp,
    assert_same_cells,
    cells_in,
)
from tui.chat import Conversation
from tui.chat.message import MessageStatus
from tui.gc_tuning import fewer_collections
from tui.ui.segment_splitter import SegmentSplitter
from tui.ui.widgets.message_log import MessageLog
from tui.ui.widgets.message_views import AssistantMessageView
from tui.ui.widgets.rendered_markdown import RenderedMarkdown
from tui.ui.widgets.reply_body import BLOCKS_PER_SEGMENT, cut

WIDTHS = (40, 50, 60, 80, 100, 121, 160, 200)
"""Terminal widths: the reply's text is 6 cells narrower (the log's padding, the message's
border and padding)."""

LONG_URL = "https://example.com/" + "a1b2c3d4e5" * 18
"""200 characters with nowhere to break."""

CJK = (
    "日本語の文章はこのように続きます。漢字とひらがなとカタカナが混ざっています。"
    "中文的句子也很长，没有空格可以换行。한국어 문장도 있습니다."  # noqa: RUF001 (a Chinese comma)
)

PROSE = (
    "# A Title Long Enough to Wrap at the Narrowest Width Tried\n\n"
    "Some *emphasis*, **strong**, ***both***, ~~struck~~, `inline code`, a "
    "[link](https://example.com) and **bold with `code` and *em* inside**, in a paragraph "
    "long enough to wrap more than once at the narrow widths.\n\n"
    "## A heading with a [link](https://example.com) and `code`\n\n"
    "An image ![a diagram of the flow](https://example.com/flow.png) in the text, and one "
    "with no alt text:\n\n"
    "![](https://example.com/no-alt.png)\n\n"
    "Press <kbd>Ctrl</kbd>+<kbd>C</kbd> to copy; E = mc<sup>2</sup> and H<sub>2</sub>O.<br>"
    'After a break tag.<br/>And <b>bold html</b> <span style="color:red">span</span>.\n\n'
    '<div align="center">\n  <p>A block of HTML</p>\n</div>\n\n'
    "### Third level\n\n"
    "Line one  \nhard break, then a soft\nbreak.\n\n"
    "---\n\n"
    f"A long unbreakable word: {LONG_URL} and after it.\n\n"
    f"{LONG_URL}\n\n"
    f"Wide text: {CJK}\n\n"
    "```python\ndef double(x):\n"
    "    return x * 2  # a comment long enough to be cut at the edge\n```\n\n"
    "```\nplain fence, no language\n  indented line\n```\n\n"
    '```go\nfunc main() {\n\tfmt.Println("tabs, and a line long enough to wrap")\n}\n```\n\n'
    "The end."
)
"""Text: headings, inline styles, images, inline and block HTML, breaks, a rule, a long
word, wide characters, code with and without a language (and with tabs)."""

STRUCTURE = (
    "## Lists\n\n"
    "- first item with **bold** and a tail long enough to wrap at the narrow widths\n"
    "  - nested with `code`\n"
    "    - third level, deep enough to wrap when the column is narrow, for certain\n"
    "- \n"
    "- after an empty item\n\n"
    "1. one\n"
    "   1. one-one\n"
    "      - a bullet under numbers\n"
    "10. ten\n\n"
    "> A quote with **bold** that is long enough to wrap at the narrow widths, surely.\n"
    ">\n"
    "> - a list in a quote\n"
    ">\n"
    "> ## A heading in a quote\n"
    ">\n"
    "> ```\n> code in a quote\n> ```\n"
    ">\n"
    "> > a nested quote\n\n"
    "Tables:\n\n"
    "| Option | Type | Default | Description | Example |\n"
    "|---|---|---|---|---|\n"
    "| `max_tokens` | integer | 1024 | The most tokens the model may write in one reply "
    "before it stops | `max_tokens = 512` |\n"
    "| **temperature** | float | 0.7 | Higher values make the output more random, lower "
    "values more focused | see [docs](https://example.com) |\n\n"
    f"| name | value |\n|:---|---:|\n| {LONG_URL[:60]} | 1 |\n| 日本語 | {CJK} |\n"
    "| | *empty on the left* |\n\n"
    "> | in | a quote |\n> |---|---|\n> | 1 | 2 |\n\n"
    "After the tables."
)
"""Structure: nested lists and quotes, and tables wide and narrow, shrunk and stretched."""

REFERENCES = (
    "Models cite sources as [the docs][1] and [a guide][guide], or [collapsed][] and "
    "[shortcut] links, and footnotes[^1].\n\n"
    + "\n\n".join(f"Paragraph {n} between the link and its definition." for n in range(12))
    + "\n\n[1]: https://example.com/docs\n[guide]: https://example.com/guide 'Guide'\n"
    "[collapsed]: https://example.com/c\n[shortcut]: https://example.com/s\n\n"
    "[^1]: A footnote.\n\nThe end."
)
"""Reference links defined segments below where they are used (and footnotes, which neither
Textual nor this resolves)."""

RARER = (
    "Setext Title\n============\n\nSetext second\n-------------\n\n"
    "#### Four\n\n##### Five\n\n###### Six\n\n"
    "- [ ] a task\n- [x] done task\n\n"
    "5. starts at five\n6. six\n\n1) paren one\n2) paren two\n\n"
    "    indented code block\n    second line\n\n"
    "~~~js\nconst a = 1;\n~~~\n\n"
    "Autolink <https://example.com/auto> and bare https://example.com/bare and "
    "an email <me@example.com>.\n\n"
    "Escapes \\*not em\\* and entities &amp; &copy; &lt;tag&gt; and _under em_ "
    "__under strong__.\n\n"
    "Backslash hard break\\\nnext line.\n\n"
    "[![badge](https://example.com/b.svg)](https://example.com) image in a link.\n\n"
    "Math $E = mc^2$ and $$\\int_0^1 x\\,dx$$ inline.\n\n"
    "$$\nx^2 + y^2 = z^2\n$$\n\n"
    "* star list\n+ plus list\n\n"
    "- item\n\n  continued paragraph in item\n\n  ```\n  code in item\n  ```\n- next\n\n"
    "Emoji 🎉 and ✅ done, arrows → and ‘quotes’ “double”.\n\n"  # noqa: RUF001
    "***\n\n___\n\n"
    "<details>\n<summary>Click</summary>\n\nHidden text.\n\n</details>\n\n"
    "| a | b |\n|---|---|\n| `x \\| y` | **b** |\n| only one |\n\n"
    "Term  \n: not a definition list\n\n"
    "See [this][hidden].\n\n"
    "<!--\nA comment with blank lines in it\n\n[hidden]: /not-a-definition\n\n"
    "# not a heading\n-->\n\n"
    "<pre>\npreformatted\n\n  with a blank line\n</pre>\n\n"
    "<script>\nlet a = 1;\n\nlet b = 2;\n</script>\n\n"
    "After the HTML.\n\n"
    '1. Put this in the page:\n\n   <script src="app.js">\n\n2. Then start it:\n\n'
    "```html\n<script>\n  start();\n</script>\n```\n\n"
    "```\n$ npm install\n\n# a comment in code\n$ npm start\n```\n\n"
    "1. Step one\n   - detail\n   - detail\n\n   More about step one.\n\n2. Step two\n\n"
)
"""What models write less often: setext headings, task lists, other list markers, indented
and tilde fences, autolinks and bare links, escapes and entities, image links, TeX, HTML
details, a table cell with a pipe and a short row, HTML blocks over blank lines (one in a
list item, which ends with the item), a fence after them, a step's paragraph after its
bullets."""

EDGES = (
    "| "
    + " | ".join(f"col{n}" for n in range(9))
    + " |\n|"
    + "---|" * 9
    + "\n| "
    + " | ".join(f"value {n} with words" for n in range(9))
    + " |\n\n"
    f"| word |\n|---|\n| {LONG_URL} |\n\n"
    "> > > > deep quote with enough words to wrap at narrow widths, surely it wraps\n\n"
    "- a\n  - b\n    - c\n      - d\n        - e\n          - f with words enough to wrap here\n\n"
    "- 日本語のリスト項目はこのように長く続きます。漢字とひらがなとカタカナが混ざっています。\n\n"
    "> 中文的引用也很长，没有空格可以换行。中文的引用也很长，没有空格可以换行。\n\n"  # noqa: RUF001
    "Tab\there and family 👨‍👩‍👧 and flags 🇯🇵 and combining é.\n\n"
    "# " + "Averyveryverylongheadingwordwithoutanyspaces" * 3 + "\n\n"
    "```\n" + "x" * 250 + "\n```\n\n"
    "Trailing `code span with a very long content that must wrap across lines at narrow "
    "widths`.\n\n"
    "1. item\n\n   > quote in item\n\n   | t | u |\n   |---|---|\n   | 1 | 2 |\n\n"
    "<!-- an html comment -->\n\nText after comment.\n\n"
    "A line with trailing spaces   \nand **bold across\nlines** here.\n\nThe end."
)
"""Extremes: nine columns, an unbreakable cell, quotes and lists nested deep, wide
characters in a list and a quote, tabs, joined emoji, an unbreakable heading and code line,
a table and a quote in a list item, an HTML comment."""

DOCUMENTS = {
    "prose": PROSE,
    "structure": STRUCTURE,
    "references": REFERENCES,
    "rarer": RARER + EDGES,
}


@pytest.mark.parametrize("name", list(DOCUMENTS))
async def test_a_stored_reply_looks_like_textuals_markdown_at_every_width(name: str) -> None:
    """The reply three times in one log: as stored (`RenderedMarkdown`, laid out a segment
    of a few blocks at a time), as cut while it streams (a block a segment, the open
    segment's definitions shared with those above) and as Textual's `Markdown`, compared
    at each width in turn. Textual's
    widget sits in the message itself, not in the reply body: the body's stream layout
    keeps a height measured while the widget was still filling in, a few blank lines too
    many that are no part of what Markdown draws."""
    source = DOCUMENTS[name]
    message = Conversation(model="m").start_reply("m")
    message.content, message.status = source, MessageStatus.DONE
    app = MessageLogApp()
    # as while a reply streams: every frame here is a whole screen of new widgets' lines
    with fewer_collections():
        async with app.run_test(size=(WIDTHS[0], 400)) as pilot:
            log = app.query_one(MessageLog)
            stored, textual = AssistantMessageView(message), AssistantMessageView(message)
            streamed = AssistantMessageView(message)
            await log.mount_all([stored, textual, streamed])
            markdown = Markdown(source)
            markdown.styles.padding = 0  # as the reply's own text has none
            await textual.body.remove()
            await textual.mount(markdown)
            rendered = RenderedMarkdown()
            await streamed.body.remove()
            await streamed.mount(rendered)
            await pilot.pause()  # laid out: what follows goes the streaming way
            for segment in streamed_segments(source):
                rendered.set_tail(segment)  # each block open at first, then finished
                rendered.extend(segment)
                rendered.set_tail("")
            await pilot.pause()
            stored_segments = stored.body.query_one(RenderedMarkdown).segment_count
            assert stored_segments >= 2, "a seam in between"
            assert rendered.segment_count > stored_segments, "a block a segment"
            # no taller than the two at their tallest (the narrowest): every frame is drawn whole
            height = sum(view.outer_size.height + view.styles.margin.top for view in log.children)
            failures: list[str] = []
            for width in WIDTHS:
                await pilot.resize_terminal(width, height)
                await pilot.pause()
                screen = app.screen._compositor.render_strips()
                expected = _cells(screen, textual)
                for name, view in (("stored", stored), ("streamed", streamed)):
                    try:
                        assert_same_cells(expected, _cells(screen, view))
                    except AssertionError as error:
                        failures.append(f"{name}, at {width} columns: {error}"[:3000])
            assert not failures, "\n".join(failures)


def streamed_segments(source: str) -> list[str]:
    """The segments a streaming reply is cut into, a block each."""
    pieces, _ = cut(source, SegmentSplitter().feed(source), BLOCKS_PER_SEGMENT, 0)
    return [piece for piece, _ in pieces]


def _cells(screen: list[Strip], view: AssistantMessageView) -> list[list[ColourCell]]:
    region = view.region
    assert region.y >= 0 and region.bottom <= len(screen), "the whole reply is on screen"
    return cells_in(screen, region)

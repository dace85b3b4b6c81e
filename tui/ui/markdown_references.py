"""Link reference definitions shared by every segment of a reply.

A reply is laid out a segment (a few top-level blocks) at a time, and each segment was
parsed alone, so `[the docs][1]` above a `[1]: https://…` further down stayed as typed,
brackets and all, where Textual's `Markdown`, parsing the whole text, draws a link named
"the docs" and nothing for the definition. The definitions found in every segment, in the
order they come (the first of a label wins, as in one parse), go with each segment's parse.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt

References = tuple[tuple[str, str, str], ...]
"""(label as the parser normalizes it, destination, title), in the order defined, each
label once: hashable, so a layout kept for its text is kept for its references too."""

_MAY_DEFINE = re.compile(r"^[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)*\[", re.MULTILINE)
"""A line that may start a definition: `[` after indentation, quote and list markers.
With "]:" somewhere, the text is parsed to be sure; most segments (code that indexes,
`d[key]:`, included) are passed over without a parse."""


def definitions_in(source: str) -> References:
    """The link reference definitions in one segment's text."""
    if "]:" not in source or _MAY_DEFINE.search(source) is None:
        return ()
    return _parsed_definitions(source)


@lru_cache(maxsize=64)
def _parsed_definitions(source: str) -> References:
    """Parsed once per text: a streaming reply's finished segments, and the same segments
    of a stored reply laid out ahead and then shown, ask again."""
    env: dict[str, Any] = {}
    _block_parser().parse(source, env)
    found: dict[str, dict[str, str]] = env.get("references", {})
    return tuple((label, found[label]["href"], found[label]["title"]) for label in found)


@lru_cache(maxsize=1)
def _block_parser() -> MarkdownIt:
    """The parser Textual's `Markdown` uses, without the inline pass the definitions do
    not need."""
    return MarkdownIt("gfm-like").disable("inline")


def joined(groups: list[References]) -> References:
    """The definitions of segments in their order, each label's first only."""
    seen: set[str] = set()
    every: list[tuple[str, str, str]] = []
    for group in groups:
        for definition in group:
            if definition[0] not in seen:
                seen.add(definition[0])
                every.append(definition)
    return tuple(every)


def parse_environment(references: References) -> dict[str, Any]:
    """What a parse starts from so that links to `references` resolve (and a segment's own
    definition of a label defined earlier gives way to it, as in one parse)."""
    if not references:
        return {}
    return {
        "references": {
            label: {"href": href, "title": title, "map": None} for label, href, title in references
        }
    }

"""Link reference definitions shared by every segment of a reply.

A reply is laid out a segment (a few top-level blocks) at a time, and each segment was
parsed alone, so `[the docs][1]` above a `[1]: https://…` further down stayed as typed,
brackets and all, where Textual's `Markdown`, parsing the whole text, draws a link named
"the docs" and nothing for the definition. The definitions found in every segment, in the
order they come (the first of a label wins, as in one parse), go with the parse of each
segment that names them (`SharedReferences`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (the parser is imported only when something is parsed)
    from markdown_it import MarkdownIt

References = tuple[tuple[str, str, str], ...]
"""(label as the parser normalizes it, destination, title), in the order defined, each
label once: hashable, so a layout kept for its text is kept for its references too."""

_MAY_DEFINE = re.compile(r"^[ \t>*+\-\d.)]*\[", re.MULTILINE)
"""A line that may start a definition: `[` after indentation, quote and list markers in
any order (`- > [a]: /x` is one). With "]:" somewhere, the text is parsed to be sure;
most segments (code that indexes, `d[key]:`, included) are passed over without a parse."""
_BRACKETED = re.compile(r"\\.|\[((?:[^\[\]\\]|\\.)+)\]", re.DOTALL)
"""Text in brackets, which a link label is (it holds no unescaped brackets); an escaped
character outside is passed over whole: `\\[` starts no label (and made each a search to
the next bracket, seconds for TeX's `\\[ x \\]` in a long reply)."""
_CONTINUATION_MARKERS = re.compile(r"\n[ \t>]*")
"""What a quote puts before each line of a label that goes on over lines."""


def definitions_in(source: str, *, remembered: bool = True) -> References:
    """The link reference definitions in one segment's text; `remembered`: parsed once
    per text (a finished segment, which a stored reply laid out ahead asks for again),
    not for text that changes at every flush (a streaming reply's open segment)."""
    if "]:" not in source or _MAY_DEFINE.search(source) is None:
        return ()
    return _parsed_definitions(source) if remembered else _parse_definitions(source)


def labels_in(source: str) -> frozenset[str]:
    """Every text in brackets in `source`, normalized as the parser does a label: what it
    may look up among the definitions."""
    if "[" not in source:
        return frozenset()
    from markdown_it.common.utils import normalizeReference

    labels: set[str] = set()
    for label in _BRACKETED.findall(source):
        if label:
            # As the parser may see it too: inside a quote (its markers gone), in a table
            # cell (`\|` unescaped). More labels than used only cost nothing.
            labels.update(
                normalizeReference(seen)
                for seen in {
                    label,
                    _CONTINUATION_MARKERS.sub("\n", label),
                    label.replace("\\|", "|"),
                }
            )
    return frozenset(labels)


def used_by(labels: frozenset[str], references: References) -> References:
    """The references a text with `labels` may use: laid out with these alone, a segment's
    layout stays the same (and kept, `lay_out_kept`) when definitions it never names come."""
    if not labels or not references:
        return ()
    return tuple(reference for reference in references if reference[0] in labels)


@lru_cache(maxsize=64)
def _parsed_definitions(source: str) -> References:
    return _parse_definitions(source)


def _parse_definitions(source: str) -> References:
    env: dict[str, Any] = {}
    _block_parser().parse(source, env)
    found: dict[str, dict[str, str]] = env.get("references", {})
    return tuple((label, found[label]["href"], found[label]["title"]) for label in found)


@lru_cache(maxsize=1)
def _block_parser() -> MarkdownIt:
    """The parser Textual's `Markdown` uses, without the inline pass the definitions do
    not need."""
    from markdown_it import MarkdownIt

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


class SharedReferences:
    """The definitions of a reply's segments (finished ones and the open one at the end),
    and which of them each finished segment was laid out with: when new ones come, only
    the segments that name them are laid out again (a reply of 3,000 segments took 0.7 s
    laid out whole, at each segment that brought one)."""

    def __init__(self) -> None:
        self.every: References = ()
        """Each label's first definition, in the order the segments come."""
        self._definitions: list[References] = []
        self._sources: list[str] = []
        self._labels: list[frozenset[str] | None] = []
        """The labels each finished segment names, found when first needed: with no
        definitions (most replies) never, nor the parser's import with them."""
        self._used: list[References | None] = []
        """What each finished segment was laid out with (None: not laid out yet)."""
        self._tail: References = ()

    def insert(self, index: int, segments: list[str]) -> bool:
        """Finished segments put at `index`; whether the definitions changed."""
        definitions = [definitions_in(segment) for segment in segments]
        self._definitions[index:index] = definitions
        self._sources[index:index] = segments
        self._labels[index:index] = [None] * len(segments)
        self._used[index:index] = [None] * len(segments)
        return any(definitions) and self._join()

    def set_tail(self, source: str) -> bool:
        """The open segment as it stands; whether the definitions changed. Only its whole
        lines count: a definition whose destination is still streaming in would change at
        every flush, and lay out again at each the segments that name it."""
        definitions = definitions_in(source[: source.rfind("\n") + 1], remembered=False)
        if definitions == self._tail:
            return False
        self._tail = definitions
        return self._join()

    def for_segment(self, index: int) -> References:
        """What the finished segment at `index` is laid out with, now."""
        used = self._now_used_by(index)
        self._used[index] = used
        return used

    def outdated(self) -> list[int]:
        """The finished segments laid out with other definitions than they would be now."""
        return [
            index
            for index, used in enumerate(self._used)
            if used is not None and used != self._now_used_by(index)
        ]

    def _now_used_by(self, index: int) -> References:
        if not self.every:
            return ()
        labels = self._labels[index]
        if labels is None:
            labels = self._labels[index] = labels_in(self._sources[index])
        return used_by(labels, self.every)

    def _join(self) -> bool:
        every = joined([*self._definitions, self._tail])
        if every == self.every:
            return False
        self.every = every
        return True

"""Replies' runs kept laid out: in memory, the last few (a reply laid out ahead of a
scroll is laid out once, not again when shown), and those an earlier launch laid out
(`tui.ui.kept_layouts`), taken instead of laying them out again.

A run whose code was drawn plain (its highlighter not built yet) is not kept: it is laid
out again, highlighted, once the highlighter is built."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache
from typing import Protocol

from tui.ui import markdown_lines
from tui.ui.markdown_inline import MarkdownLook
from tui.ui.markdown_lines import LaidOut, LaidOutInSteps, finished, plain_draws
from tui.ui.markdown_references import References

Run = tuple[str, int, MarkdownLook, References]
"""A finished run of a reply as laid out: its text, width, look and the link definitions
it is laid out with."""

LAID_OUT_KEPT = 32
"""Finished runs kept laid out by `lay_out_kept`. Those laid out ahead of a scroll to the
top are the latest, so they are found; runs no widget shows any more are kept alive by
this only, and every full collection goes through their lines (a few thousand objects)."""
_kept: OrderedDict[tuple[str, int, MarkdownLook, References], LaidOut] = OrderedDict()


KEPT_RUN_CHARS = 8000
"""Longer runs are not kept: a few long code blocks kept alive after their reply went
would hold tens of megabytes (8 runs of 80 KB: 44 MB)."""


def lay_out_kept(
    source: str, width: int, look: MarkdownLook, references: References = ()
) -> LaidOut:
    """`lay_out` for a finished run of a reply shown at once, remembering the last
    `LAID_OUT_KEPT` results. A run whose code was drawn plain (its highlighter not built
    yet) is not kept: it is laid out again, highlighted, once the highlighter is built."""
    return finished(laying_out_kept(source, width, look, references))


def laying_out_kept(
    source: str, width: int, look: MarkdownLook, references: References = ()
) -> LaidOutInSteps:
    """`lay_out_kept` in steps (see `laying_out`)."""
    if len(source) > KEPT_RUN_CHARS:
        return (yield from markdown_lines.laying_out(source, width, look, references))
    key = (source, width, highlighted_look(look), references)
    found = _kept.get(key)
    if found is not None:
        _kept.move_to_end(key)
        return found
    recalled = _recalled.pop((source, width, references), None)
    found = recalled.laid_out_for(look) if recalled is not None else None
    if found is not None:
        _keep(key, found)
        return found
    steps = markdown_lines.laying_out(source, width, look, references)  # (tests count them)
    drew_plain = False
    while True:  # code drawn plain by this layout's own steps, not by others meanwhile
        before = plain_draws()
        try:
            next(steps)
        except StopIteration as done:
            laid_out: LaidOut = done.value
            break
        finally:
            drew_plain = drew_plain or plain_draws() != before
        yield
    if not drew_plain:
        _keep(key, laid_out)
    return laid_out


def _keep(key: tuple[str, int, MarkdownLook, References], laid_out: LaidOut) -> None:
    _kept[key] = laid_out
    if len(_kept) > LAID_OUT_KEPT:
        _kept.popitem(last=False)


@lru_cache(maxsize=8)
def highlighted_look(look: MarkdownLook) -> MarkdownLook:
    """The look as kept: a run is kept only if none of its code was drawn plain, so its
    layout is the same whether code in a language not highlighted yet would be."""
    return look if look.highlight_unbuilt else replace(look, highlight_unbuilt=True)


def kept_layout(
    source: str, width: int, look: MarkdownLook, references: References
) -> LaidOut | None:
    """The run's layout if it is kept (so none of its code was drawn plain)."""
    return _kept.get((source, width, highlighted_look(look), references))


class RecalledRun(Protocol):
    """A run laid out by an earlier launch (`tui.ui.kept_layouts`)."""

    def laid_out_for(self, look: MarkdownLook) -> LaidOut | None:
        """Its layout, if it was made for `look`."""


_recalled: dict[tuple[str, int, References], RecalledRun] = {}
"""Runs laid out by an earlier launch, by text, width and references; each is taken
(and kept as laid out here) the first time it is asked for."""


def recall_layouts(runs: dict[tuple[str, int, References], RecalledRun]) -> None:
    """What an earlier launch laid out, instead of what was recalled before."""
    _recalled.clear()
    _recalled.update(runs)


def forget_kept_layouts() -> None:
    """Empties what `lay_out_kept` remembers: what follows is laid out afresh."""
    _kept.clear()
    _recalled.clear()

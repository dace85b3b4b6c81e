"""The caches Textual keeps in every drawn line (`Strip`), made to cost less.

A `Strip` caches what its methods make of it, in itself, in seven small caches made with
every line. Lines are made by the thousand each frame and kept by the thousand (a
screenful per widget, the layouts of the replies shown), so the caches decide how much
garbage a frame leaves and how much a full collection walks through. Like
`textual_workarounds`, this reaches into a private shape of Textual, checked first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from textual.cache import FIFOCache
from textual.strip import Strip

_PATCHED: set[str] = set()
"""The patches applied: each wraps methods the other may have wrapped already."""


def strip_caches_without_self_cycles() -> None:
    """Lets a drawn line be freed as soon as nothing uses it, not at the next full collection.

    A `Strip` caches what its methods make of it, in itself, and two of them can make the
    strip itself: `divide` at its whole length (the result is `[self]`) and `crop_extend`
    to exactly its length. The strip then refers to itself through its cache. The
    compositor divides every line it draws, so every line on screen became cyclic garbage
    once replaced, each with its seven caches and its segments, that only a full
    collection frees: 60 presses of Up in a 2,000-message history left 256,000 such
    objects, and each full collection (every half second) held a frame for 25-30 ms
    (textual 8.2; recorded in benchmarks/README.md). Those two cases are answered without
    the cache; the results are the same."""
    if "self cycles" in _PATCHED:
        return
    _PATCHED.add("self cycles")
    divide, crop_extend = Strip.divide, Strip.crop_extend

    def divide_whole_uncached(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        length = self.cell_length
        kept = [cut for cut in cuts if cut <= length]  # as `divide` itself does
        if kept == [length]:
            return [self]
        return divide(self, kept)

    def crop_extend_whole_uncached(self: Strip, start: int, end: int, style: Any) -> Strip:
        if start <= 0 and end == self.cell_length:
            return self
        return crop_extend(self, start, end, style)

    Strip.divide = divide_whole_uncached  # type: ignore[method-assign]
    Strip.crop_extend = crop_extend_whole_uncached  # type: ignore[method-assign]


STRIP_CACHES = {
    "divide": "_divide_cache",
    "crop": "_crop_cache",
    "apply_style": "_style_cache",
    "apply_filter": "_filter_cache",
    "adjust_cell_length": "_line_length_cache",
    "crop_extend": "_crop_extend_cache",
    "apply_offsets": "_offsets_cache",
}
"""Each cache slot a `Strip` has (Textual 8.2), by the one method that uses it; the
wrappers below make each at the size Textual does."""


def strip_caches_made_when_first_used() -> None:
    """Makes a `Strip`'s caches when one of its methods first needs them, not all seven
    with every line.

    While a long history scrolls, 39,000 of the 84,000 objects the collector tracks are
    these caches, most never used, and the full collections that come every 0.6 s or so
    (the unmounted turns are cyclic garbage) went through all of them: 24 ms each with
    nothing to free. Found here; see benchmarks/README.md."""
    if "made when used" in _PATCHED or not all(
        getattr(Strip, method, None) is not None and slot in Strip.__slots__
        for method, slot in STRIP_CACHES.items()
    ):
        return
    _PATCHED.add("made when used")

    def init_without_caches(self: Strip, segments: Iterable[Any], cell_length: Any = None) -> None:
        self._segments = list(segments)
        self._cell_length = cell_length
        self._divide_cache = self._crop_cache = self._style_cache = None  # type: ignore[assignment]
        self._filter_cache = self._line_length_cache = None  # type: ignore[assignment]
        self._crop_extend_cache = self._offsets_cache = None  # type: ignore[assignment]
        self._render_cache = None
        self._link_ids = None
        self._cell_count = None

    # A wrapper per method, with its signature: through `*args` a stream's frames cost 5%
    # more CPU (these run thousands of times a frame).
    divide, crop, apply_style = Strip.divide, Strip.crop, Strip.apply_style
    apply_filter, adjust_cell_length = Strip.apply_filter, Strip.adjust_cell_length
    crop_extend, apply_offsets = Strip.crop_extend, Strip.apply_offsets

    def divide_caching(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        if self._divide_cache is None:
            self._divide_cache = FIFOCache(4)
        return divide(self, cuts)

    def crop_caching(self: Strip, start: int, end: int | None = None) -> Strip:
        if self._crop_cache is None:
            self._crop_cache = FIFOCache(16)
        return crop(self, start, end)

    def apply_style_caching(self: Strip, style: Any) -> Strip:
        if self._style_cache is None:
            self._style_cache = FIFOCache(16)
        return apply_style(self, style)

    def apply_filter_caching(self: Strip, filter: Any, background: Any) -> Strip:
        if self._filter_cache is None:
            self._filter_cache = FIFOCache(4)
        return apply_filter(self, filter, background)

    def adjust_cell_length_caching(self: Strip, cell_length: int, style: Any = None) -> Strip:
        if self._line_length_cache is None:
            self._line_length_cache = FIFOCache(4)
        return adjust_cell_length(self, cell_length, style)

    def crop_extend_caching(self: Strip, start: int, end: int, style: Any) -> Strip:
        if self._crop_extend_cache is None:
            self._crop_extend_cache = FIFOCache(4)
        return crop_extend(self, start, end, style)

    def apply_offsets_caching(self: Strip, x: int, y: int) -> Strip:
        if self._offsets_cache is None:
            self._offsets_cache = FIFOCache(4)
        return apply_offsets(self, x, y)

    Strip.divide = divide_caching  # type: ignore[method-assign]
    Strip.crop = crop_caching  # type: ignore[method-assign]
    Strip.apply_style = apply_style_caching  # type: ignore[method-assign]
    Strip.apply_filter = apply_filter_caching  # type: ignore[method-assign]
    Strip.adjust_cell_length = adjust_cell_length_caching  # type: ignore[method-assign]
    Strip.crop_extend = crop_extend_caching  # type: ignore[method-assign]
    Strip.apply_offsets = apply_offsets_caching  # type: ignore[method-assign]
    Strip.__init__ = init_without_caches  # type: ignore[method-assign]

"""Works around Textual bugs that cost this app time or memory, each with where it is tracked."""

from __future__ import annotations

from textual._styles_cache import StylesCache
from textual.geometry import Region


def forget_removed_widgets() -> None:
    """Lets the rendered lines of removed widgets be freed.

    Textual 8.2 caches `StylesCache.get_inner_outer` with an `lru_cache` on an instance
    method, so the last 1,024 `StylesCache` objects stay alive with every line they cached
    after their widgets are gone (Textualize/textual#6665, open). Scrolling back through a
    long conversation mounts and removes messages all the time: the retained lines grew to
    40,000 `Strip`s (each with seven small caches of its own), RSS to 196 MB, and full
    garbage collections to 450 ms each, which were the worst stalls while scrolling."""
    cache_clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


def mark_only_cached_lines_dirty() -> None:
    """Makes a refresh of a tall widget cost the lines it has drawn, not its height.

    `StylesCache.set_dirty` adds every line of the refreshed region to a set, and a
    widget's refresh covers its whole height: a reply laid out as one widget of 600,000
    lines (20 MB) spent 15 s of a 100 s stream in that `set.update`. But a line is drawn
    again when it is marked dirty *or* is not in the cache (`StylesCache.render`), so only
    the cached lines (about a screenful) need marking: the same result, at the cost of the
    cache's size. Found here; see benchmarks/README.md."""
    if getattr(StylesCache.set_dirty, "_tui_chat_patched", False):
        return

    def set_dirty(self: StylesCache, *regions: Region) -> None:
        if not regions:
            self.clear()
            return
        cached = self._cache
        for region in regions:
            top, bottom = region.y, region.bottom
            if bottom - top <= len(cached):
                self._dirty_lines.update(region.line_range)
            else:
                self._dirty_lines.update(y for y in cached if top <= y < bottom)

    set_dirty._tui_chat_patched = True  # type: ignore[attr-defined]
    StylesCache.set_dirty = set_dirty  # type: ignore[method-assign]

"""Works around Textual bugs that cost this app time or memory, each with where it is tracked."""

from __future__ import annotations

from textual._styles_cache import StylesCache


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

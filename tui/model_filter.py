"""Ranking a server's model names against what the user types, fast enough for 20,000.

Textual's fuzzy matcher scored every name in Python on every keystroke (15 s to type a
filter over OpenRouter-sized lists); here one compiled pattern does the matching in C, the
ranking is a sort key, and only the best few hundred are shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SHOWN = 200
"""Names put in the list at once: more is only scrolling, and each costs a widget line."""


def rank_models(query: str, names: Sequence[str], limit: int = SHOWN) -> tuple[list[str], int]:
    """The best `limit` names for `query` (all names in order when it is empty), and how
    many matched in all. A name matches when the query's characters appear in it in order
    (case ignored); a run of them together, earlier, in a shorter name ranks first."""
    query = query.strip().lower()
    if not query:
        return list(names[:limit]), len(names)
    pattern = re.compile(".*?".join(re.escape(char) for char in query), re.IGNORECASE)
    scored: list[tuple[int, int, int, str]] = []
    for name in names:
        match = pattern.search(name)
        if match is None:
            continue
        at = name.lower().find(query)
        together = 0 if at >= 0 else 1
        start = at if at >= 0 else match.start()
        scored.append((together, match.end() - match.start(), start + len(name) // 8, name))
    scored.sort()
    return [name for *_, name in scored[:limit]], len(scored)

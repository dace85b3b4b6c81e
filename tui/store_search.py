"""Finding stored messages by their words, newest first, as the user types."""

from __future__ import annotations

import sqlite3

from tui.frozen import frozen
from tui.store_schema import SEARCHED_KINDS


@frozen(slots=True)
class SearchHit:
    conversation_id: int
    message_id: int
    title: str
    snippet: str


def search_messages(db: sqlite3.Connection, text: str, limit: int) -> list[SearchHit]:
    """Messages matching `text` on any branch, newest first, each quoting its text part
    where that matched (not a tool call's JSON): with SQLite's FTS5 (each word as a
    prefix, as the user types) where it is compiled in, a case-insensitive LIKE scan
    otherwise.

    The messages are found from the matching parts' ids alone, grouped and sorted, and
    only the hits shown are then read whole: joining every match to its message and
    conversation before sorting took 40-53 ms a key for one or two letters in 20,000
    messages (thousands of matches), against 7-12 ms."""
    words = text.split()
    if not words:
        return []
    if has_full_text_index(db):
        argument = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
        matching = "parts_fts f JOIN message_parts p ON p.id = f.rowid WHERE parts_fts MATCH ?"
    else:
        argument = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching = f"message_parts p WHERE p.kind IN {SEARCHED_KINDS} AND p.text LIKE ? ESCAPE '\\'"
    rows = db.execute(
        "WITH hits AS (SELECT p.message_id AS message_id, COALESCE("
        " MIN(CASE WHEN p.kind = 'text' THEN p.id END), MIN(p.id)) AS part_id"
        f" FROM {matching} GROUP BY p.message_id ORDER BY p.message_id DESC LIMIT ?)"
        " SELECT m.conversation_id, m.id, c.title, p.text FROM hits"
        " JOIN message_parts p ON p.id = hits.part_id JOIN messages m ON m.id = hits.message_id"
        " JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id DESC",
        (argument, limit),
    ).fetchall()
    return [
        SearchHit(int(conversation), int(message), str(title), _snippet(str(text), words[0]))
        for conversation, message, title, text in rows
    ]


def has_full_text_index(db: sqlite3.Connection) -> bool:
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'parts_fts'"
    ).fetchone()
    return row is not None


def _snippet(content: str, text: str, width: int = 70) -> str:
    """The line around the first match, so a result shows why it matched."""
    at = content.lower().find(text.lower())
    start = max(0, at - width // 3)
    piece = " ".join(content[start : start + width].split())
    return ("…" if start else "") + piece

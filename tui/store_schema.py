"""The history database's schema and its forward migrations, one per `user_version`.

Each migration runs in one transaction with foreign keys off (SQLite's own advice for
rebuilding a table), so a failed upgrade leaves the file exactly as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = str | Callable[[sqlite3.Connection], None]

V1 = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    model TEXT,
    endpoint TEXT,
    system_prompt TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    error TEXT,
    finish_reason TEXT,
    model TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    time_to_first_token REAL,
    duration REAL,
    created_at REAL NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
"""

V2 = "ALTER TABLE messages ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0"
"""Regenerated replies kept as versions (told apart only by sitting next to each other)."""

V3_TABLES = """
CREATE TABLE messages_v3 (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    chosen_child_id INTEGER,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    finish_reason TEXT,
    model TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    time_to_first_token REAL,
    duration REAL,
    created_at REAL NOT NULL
);
CREATE TABLE message_parts (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    data TEXT
);
ALTER TABLE conversations ADD COLUMN chosen_root_id INTEGER;
"""

V3_INDEXES = """
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE INDEX parts_by_message ON message_parts(message_id, position, id)
"""

SEARCH_INDEX = [
    "CREATE VIRTUAL TABLE parts_fts USING fts5(text, content='message_parts', content_rowid='id')",
    "CREATE TRIGGER parts_fts_insert AFTER INSERT ON message_parts WHEN new.kind = 'text' BEGIN"
    " INSERT INTO parts_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER parts_fts_delete AFTER DELETE ON message_parts WHEN old.kind = 'text' BEGIN"
    " INSERT INTO parts_fts(parts_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER parts_fts_update AFTER UPDATE OF text ON message_parts"
    " WHEN old.kind = 'text' BEGIN"
    " INSERT INTO parts_fts(parts_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO parts_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO parts_fts(rowid, text) SELECT id, text FROM message_parts WHERE kind = 'text'",
]
"""Full-text search over text parts, kept in step by triggers. Streaming text is indexed
piece by piece as it is saved and once whole when the reply ends. (Version 3's index; V5
widens it to tool calls and results.)"""

SEARCHED_KINDS = "('text', 'tool_call', 'tool_result')"
"""Part kinds search finds: what the user and the model wrote, and what tools did."""


def _v3_tree_and_parts(connection: sqlite3.Connection) -> None:
    """Messages become a tree made of parts.

    Before, the versions of a regenerated reply were the assistant rows that sat next to
    each other, the shown one not marked `replaced`; here they become sibling replies of
    the prompt before them, the shown one chosen. Text and reasoning move into parts.
    """
    for statement in ("insert", "delete", "update"):
        connection.execute(f"DROP TRIGGER IF EXISTS messages_fts_{statement}")
    connection.execute("DROP TABLE IF EXISTS messages_fts")
    _run_script(connection, V3_TABLES)
    connection.execute(
        "INSERT INTO messages_v3 (id, conversation_id, role, status, error, finish_reason,"
        " model, prompt_tokens, completion_tokens, time_to_first_token, duration, created_at)"
        " SELECT id, conversation_id, role, status, error, finish_reason, model, prompt_tokens,"
        " completion_tokens, time_to_first_token, duration, created_at FROM messages"
    )
    connection.execute(
        "INSERT INTO message_parts (message_id, position, kind, text)"
        " SELECT id, 0, 'reasoning', reasoning FROM messages WHERE reasoning != ''"
    )
    connection.execute(
        "INSERT INTO message_parts (message_id, position, kind, text)"
        " SELECT id, CASE WHEN reasoning != '' THEN 1 ELSE 0 END, 'text', content"
        " FROM messages WHERE content != ''"
    )
    rows = connection.execute(
        "SELECT id, conversation_id, role, replaced FROM messages ORDER BY conversation_id, id"
    ).fetchall()
    links: list[tuple[int | None, int]] = []  # (parent_id, id)
    chosen: dict[int | None, int] = {}  # parent id (None: top) -> chosen child, per conversation
    roots: dict[int, int] = {}
    conversation: int | None = None
    tip: int | None = None  # the last shown message: what the next one follows
    group: list[tuple[int, bool]] = []  # consecutive assistant rows: versions of one reply

    def close_group() -> None:
        nonlocal tip
        if not group:
            return
        shown = next((row_id for row_id, replaced in group if not replaced), group[-1][0])
        for row_id, _ in group:
            links.append((tip, row_id))
        _choose(tip, shown)
        tip = shown
        group.clear()

    def _choose(parent: int | None, child: int) -> None:
        if parent is None:
            assert conversation is not None
            roots[conversation] = child
        else:
            chosen[parent] = child

    for row_id, conversation_id, role, replaced in rows:
        if conversation_id != conversation:
            close_group()
            conversation, tip = conversation_id, None
        if role == "assistant":
            group.append((row_id, bool(replaced)))
            continue
        close_group()
        links.append((tip, row_id))
        _choose(tip, row_id)
        tip = row_id
    close_group()
    connection.executemany("UPDATE messages_v3 SET parent_id = ? WHERE id = ?", links)
    connection.executemany(
        "UPDATE messages_v3 SET chosen_child_id = ? WHERE id = ?",
        [(child, parent) for parent, child in chosen.items()],
    )
    connection.executemany(
        "UPDATE conversations SET chosen_root_id = ? WHERE id = ?",
        [(child, conversation_id) for conversation_id, child in roots.items()],
    )
    connection.execute("DROP TABLE messages")
    connection.execute("ALTER TABLE messages_v3 RENAME TO messages")
    _run_script(connection, V3_INDEXES)
    if has_fts5(connection):
        for statement in SEARCH_INDEX:
            connection.execute(statement)


V4 = "ALTER TABLE conversations ADD COLUMN tool_choices TEXT"
"""Which tools are off and which are always allowed in a conversation (JSON; NULL: none)."""


def _v5_search_tool_parts(connection: sqlite3.Connection) -> None:
    """Tool calls and results become searchable: the triggers take their kinds too."""
    if not has_fts5(connection) or not _has_table(connection, "parts_fts"):
        return
    for trigger in ("parts_fts_insert", "parts_fts_delete", "parts_fts_update"):
        connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    kinds = SEARCHED_KINDS
    connection.execute(
        f"CREATE TRIGGER parts_fts_insert AFTER INSERT ON message_parts WHEN new.kind IN {kinds}"
        " BEGIN INSERT INTO parts_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    connection.execute(
        f"CREATE TRIGGER parts_fts_delete AFTER DELETE ON message_parts WHEN old.kind IN {kinds}"
        " BEGIN INSERT INTO parts_fts(parts_fts, rowid, text)"
        " VALUES ('delete', old.id, old.text); END"
    )
    connection.execute(
        "CREATE TRIGGER parts_fts_update AFTER UPDATE OF text ON message_parts"
        f" WHEN old.kind IN {kinds} BEGIN"
        " INSERT INTO parts_fts(parts_fts, rowid, text) VALUES ('delete', old.id, old.text);"
        " INSERT INTO parts_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    connection.execute(
        "INSERT INTO parts_fts(rowid, text) SELECT id, text FROM message_parts"
        " WHERE kind IN ('tool_call', 'tool_result')"
    )


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    row = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE name = ? AND type = 'table'", (name,)
    ).fetchone()
    return row is not None


V6 = """
CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    data BLOB NOT NULL
)
"""
"""Image bytes, once each however many messages carry them (by SHA-256)."""

V7 = """
CREATE TABLE imports (
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    PRIMARY KEY (source, source_id)
)
"""
"""What `tui-chat import` brought in, by the source's own ids: running it twice imports
nothing new (a conversation deleted since is not brought back either)."""

_V8_STATEMENTS = (
    "ALTER TABLE conversations ADD COLUMN path_end_id INTEGER",
    "ALTER TABLE conversations ADD COLUMN path_length INTEGER",
    "CREATE TRIGGER path_end_forgotten_on_insert AFTER INSERT ON messages BEGIN"
    " UPDATE conversations SET path_end_id = NULL WHERE id = new.conversation_id; END",
    "CREATE TRIGGER path_end_forgotten_on_delete AFTER DELETE ON messages BEGIN"
    " UPDATE conversations SET path_end_id = NULL WHERE id = old.conversation_id; END",
    "CREATE TRIGGER path_end_forgotten_on_move"
    " AFTER UPDATE OF parent_id, chosen_child_id, conversation_id ON messages"
    " WHEN old.parent_id IS NOT new.parent_id OR old.chosen_child_id IS NOT new.chosen_child_id"
    " OR old.conversation_id IS NOT new.conversation_id BEGIN"
    " UPDATE conversations SET path_end_id = NULL"
    " WHERE id IN (old.conversation_id, new.conversation_id); END",
    "CREATE TRIGGER path_end_forgotten_on_root AFTER UPDATE OF chosen_root_id ON conversations"
    " WHEN old.chosen_root_id IS NOT new.chosen_root_id"
    " BEGIN UPDATE conversations SET path_end_id = NULL WHERE id = new.id; END",
)


def _v8_path_end(connection: sqlite3.Connection) -> None:
    """Where a conversation's path ends and how many messages it has, so that a launch
    reads the end of a long path without walking it from the top (25 ms over 20,000
    messages). tui-chat writes them with every change it makes to the tree; any change
    made by anything else (an older version, another tool) forgets them, through these
    triggers, and the path is walked as before. (A message saved again as it streams,
    its place unchanged, forgets nothing.)"""
    for statement in _V8_STATEMENTS:
        connection.execute(statement)


MIGRATIONS: list[Migration] = [
    V1,
    V2,
    _v3_tree_and_parts,
    V4,
    _v5_search_tool_parts,
    V6,
    V7,
    _v8_path_end,
]


def migrate(connection: sqlite3.Connection) -> None:
    """Brings the file up to the newest schema; a newer file than this release knows is
    left alone (its extra columns are ignored, not dropped)."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(migration, str):
                _run_script(connection, migration)
            else:
                migration(connection)
            connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def has_fts5(connection: sqlite3.Connection) -> bool:
    """Whether this SQLite was built with FTS5; without it search scans with LIKE."""
    try:
        connection.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        connection.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError:
        return False
    return True


def _run_script(connection: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)

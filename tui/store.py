"""Conversation history in one SQLite file: WAL, a schema version, forward migrations.

The file and its folder are private to the user (0600/0700). A database that cannot be
read is never deleted: it is moved aside with a timestamp and a fresh one is started.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from tui.chat.conversation import Conversation
from tui.chat.message import Message, MessageStatus, Role, Usage

MIGRATIONS: list[str] = [
    # version 1
    """
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
    """,
    # version 2: regenerated replies are kept as versions instead of being deleted
    """
    ALTER TABLE messages ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
    """,
]


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: int
    title: str
    updated_at: float
    message_count: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: int
    message_id: int
    title: str
    snippet: str


def _snippet(content: str, text: str, width: int = 70) -> str:
    """The line around the first match, so a result shows why it matched."""
    at = content.lower().find(text.lower())
    start = max(0, at - width // 3)
    piece = " ".join(content[start : start + width].split())
    return ("…" if start else "") + piece


class StoreError(Exception):
    """The history could not be opened or written; the message says what and where."""


class Store:
    def __init__(self, connection: sqlite3.Connection, path: Path, notice: str | None) -> None:
        self._db = connection
        self.path = path
        self.notice = notice
        """Set when opening had to set a damaged file aside: tell the user once."""

    @classmethod
    def open(cls, path: Path) -> Store:
        path = Path(path)
        notice = None
        try:
            connection = _connect(path)
        except sqlite3.DatabaseError:
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{path}{suffix}")
                if source.exists():
                    source.rename(Path(f"{aside}{suffix}"))
            notice = (
                f"The history database could not be read; it was kept as {aside} "
                "and a fresh one was started."
            )
            connection = _connect(path)
        return cls(connection, path, notice)

    def close(self) -> None:
        self._db.close()

    def save_conversation(self, conversation: Conversation, endpoint: str | None) -> None:
        now = time.time()
        with self._db:
            if conversation.id is None:
                cursor = self._db.execute(
                    "INSERT INTO conversations (title, model, endpoint, system_prompt,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        conversation.title,
                        conversation.model,
                        endpoint,
                        conversation.system_prompt,
                        conversation.created_at,
                        now,
                    ),
                )
                conversation.id = cursor.lastrowid
            else:
                self._db.execute(
                    "UPDATE conversations SET title = ?, model = ?, system_prompt = ?,"
                    " updated_at = ? WHERE id = ?",
                    (
                        conversation.title,
                        conversation.model,
                        conversation.system_prompt,
                        now,
                        conversation.id,
                    ),
                )

    def save_message(self, conversation: Conversation, message: Message) -> None:
        """Inserts or updates one message; called at most every half second while streaming."""
        if conversation.id is None:
            raise StoreError("save the conversation before its messages")
        usage = message.usage
        values = (
            message.role.value,
            message.content,
            message.reasoning,
            message.status.value,
            message.error,
            message.finish_reason,
            message.model,
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
            message.time_to_first_token,
            message.duration,
            int(message.replaced),
        )
        with self._db:
            if message.id is None:
                cursor = self._db.execute(
                    "INSERT INTO messages (role, content, reasoning, status, error, finish_reason,"
                    " model, prompt_tokens, completion_tokens, time_to_first_token, duration,"
                    " replaced, conversation_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, conversation.id, message.created_at),
                )
                message.id = cursor.lastrowid
            else:
                self._db.execute(
                    "UPDATE messages SET role = ?, content = ?, reasoning = ?, status = ?,"
                    " error = ?, finish_reason = ?, model = ?, prompt_tokens = ?,"
                    " completion_tokens = ?, time_to_first_token = ?, duration = ?, replaced = ?"
                    " WHERE id = ?",
                    (*values, message.id),
                )
            self._db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (time.time(), conversation.id),
            )

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        with self._db:
            self._db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)
            )

    def delete_messages(self, message_ids: list[int]) -> None:
        with self._db:
            self._db.executemany(
                "DELETE FROM messages WHERE id = ?", [(message_id,) for message_id in message_ids]
            )

    def recent_prompts(self, limit: int = 200) -> list[str]:
        """The user's latest prompts across all conversations, oldest first, without
        repeats: the prompt box's history survives restarts."""
        rows = self._db.execute(
            "SELECT content FROM messages WHERE role = 'user' ORDER BY id DESC LIMIT ?",
            (limit * 2,),
        ).fetchall()
        seen: set[str] = set()
        prompts: list[str] = []
        for (content,) in rows:
            if content not in seen:
                seen.add(content)
                prompts.append(content)
        return prompts[:limit][::-1]

    def delete_conversation(self, conversation_id: int) -> None:
        with self._db:
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages matching `text`, newest first: with SQLite's FTS5 (each word as a prefix,
        as the user types) where it is compiled in, a case-insensitive LIKE scan otherwise."""
        words = text.split()
        if not words:
            return []
        if self.has_full_text_index:
            query = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
            sql = (
                "SELECT m.conversation_id, m.id, c.title, m.content FROM messages_fts f"
                " JOIN messages m ON m.id = f.rowid"
                " JOIN conversations c ON c.id = m.conversation_id"
                " WHERE messages_fts MATCH ? AND m.replaced = 0 ORDER BY m.id DESC LIMIT ?"
            )
            argument = query
        else:
            argument = (
                "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            sql = (
                "SELECT m.conversation_id, m.id, c.title, m.content FROM messages m"
                " JOIN conversations c ON c.id = m.conversation_id"
                " WHERE m.content LIKE ? ESCAPE '\\' AND m.replaced = 0"
                " ORDER BY m.id DESC LIMIT ?"
            )
        rows = self._db.execute(sql, (argument, limit)).fetchall()
        return [
            SearchHit(int(r[0]), int(r[1]), str(r[2]), _snippet(str(r[3]), words[0])) for r in rows
        ]

    @property
    def has_full_text_index(self) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'"
        ).fetchone()
        return row is not None

    def latest_conversation_id(self) -> int | None:
        row = self._db.execute(
            "SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else int(row[0])

    def list_conversations(self, limit: int = 200) -> list[ConversationSummary]:
        rows = self._db.execute(
            "SELECT c.id, c.title, c.updated_at, COUNT(m.id) FROM conversations c"
            " LEFT JOIN messages m ON m.conversation_id = c.id"
            " GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [ConversationSummary(int(r[0]), str(r[1]), float(r[2]), int(r[3])) for r in rows]

    def load_conversation(self, conversation_id: int) -> Conversation | None:
        """Loads a conversation; a reply left streaming by a dead process comes back
        marked interrupted, ready to be regenerated."""
        row = self._db.execute(
            "SELECT id, title, model, system_prompt, created_at FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return None
        conversation = Conversation(
            id=int(row[0]), title=row[1], model=row[2], system_prompt=row[3], created_at=row[4]
        )
        group: list[Message] = []  # consecutive assistant rows: versions of one reply
        for m in self._db.execute(
            "SELECT id, role, content, reasoning, status, error, finish_reason, model,"
            " prompt_tokens, completion_tokens, time_to_first_token, duration, created_at,"
            " replaced FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ):
            status = MessageStatus(m[4])
            if status is MessageStatus.STREAMING:
                status = MessageStatus.INTERRUPTED
            usage = Usage(m[8], m[9]) if m[8] is not None and m[9] is not None else None
            message = Message(
                id=m[0],
                role=Role(m[1]),
                content=m[2],
                reasoning=m[3],
                status=status,
                error=m[5],
                finish_reason=m[6],
                model=m[7],
                usage=usage,
                time_to_first_token=m[10],
                duration=m[11],
                created_at=m[12],
                replaced=bool(m[13]),
            )
            if message.role is Role.ASSISTANT:
                group.append(message)
                continue
            _show_one_version(conversation, group)
            group = []
            conversation.messages.append(message)
        _show_one_version(conversation, group)
        return conversation


def _show_one_version(conversation: Conversation, group: list[Message]) -> None:
    """Consecutive assistant rows are versions of one reply: the one not marked replaced is
    shown (the newest if the marks disagree), the others stay reachable as its versions."""
    if not group:
        return
    shown = next((m for m in group if not m.replaced), group[-1])
    shown.replaced = False
    if len(group) > 1:
        for version in group:
            version.versions = group
    conversation.messages.append(shown)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        # Create the file private before SQLite writes a byte of conversation into it.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    connection = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        _migrate(connection)
        _ensure_search_index(connection)
        connection.execute("SELECT COUNT(*) FROM messages").fetchone()
    except sqlite3.DatabaseError:
        connection.close()
        raise
    connection.isolation_level = ""  # back to transactions, driven by `with connection`
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.chmod(f"{path}{suffix}", 0o600)
    return connection


def _migrate(connection: sqlite3.Connection) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            _run_script(connection, script)
            connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except Exception:
            connection.execute("ROLLBACK")
            raise


SEARCH_INDEX_STATEMENTS = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, content)"
    " VALUES ('delete', old.id, old.content); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, content)"
    " VALUES ('delete', old.id, old.content);"
    " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]


def _ensure_search_index(connection: sqlite3.Connection) -> None:
    """Adds the FTS5 index (kept in step by triggers) if this SQLite has FTS5; an SQLite
    without it simply searches with LIKE, and the database stays usable by both."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'"
    ).fetchone()
    if exists:
        return
    try:
        connection.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        connection.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in SEARCH_INDEX_STATEMENTS:
            connection.execute(statement)
        connection.execute("COMMIT")
    except sqlite3.Error:
        connection.execute("ROLLBACK")


def _run_script(connection: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)

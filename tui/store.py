"""Conversation history in one SQLite file: WAL, a schema version, forward migrations.

The file and its folder are private to the user (0600/0700). A database that cannot be
read is never deleted: it is moved aside with a timestamp and a fresh one is started.

Messages are stored as a tree (a parent id per message, the chosen child per parent) and
their text as parts. A streaming reply is saved often; each save writes only what arrived
since the last one (a new piece row per grown part), so its cost does not grow with the
reply. When the reply ends its pieces are joined into one row per part, once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tui.chat.conversation import Conversation
from tui.chat.message import Message, MessageStatus, Role, Usage
from tui.chat.parts import Part, part_of_kind
from tui.store_schema import MIGRATIONS, migrate

__all__ = ["MIGRATIONS", "ConversationSummary", "SearchHit", "Store", "StoreError"]


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


@dataclass(slots=True)
class _SavedPart:
    kind: str
    length: int
    pieces: int


class Store:
    """One connection, used from the event loop and, for the rare long write (joining a
    long reply's pieces), from a worker thread: a lock keeps them apart."""

    def __init__(self, connection: sqlite3.Connection, path: Path, notice: str | None) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path
        self.notice = notice
        """Set when opening had to set a damaged file aside: tell the user once."""
        self._saved: dict[int, list[_SavedPart]] = {}
        """Per stored message id: what of each part is in the file, so a save writes only
        what is new."""

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
        """Checkpoints the WAL into the main file, so that file alone is a whole backup."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    def checkpoint(self) -> None:
        """Copies the WAL into the main file, from a connection of its own so writers do
        not wait: SQLite's automatic checkpoint ran inside whichever save crossed 1,000
        pages, holding a streaming reply's save for 5-7 ms. Run in a worker thread."""
        with contextlib.closing(sqlite3.connect(self.path, timeout=1.0)) as connection:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # Writing -----------------------------------------------------------------------------

    def save_conversation(self, conversation: Conversation, endpoint: str | None) -> None:
        """Inserts a new conversation, or writes all of its own fields (title, model,
        system prompt) at once; `save_details` writes one field and nothing stale."""
        now = time.time()
        with self._lock, self._db:
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

    def save_details(self, conversation_id: int, **fields: str | None) -> None:
        """Writes only the named fields (title, model, system_prompt) of a conversation."""
        allowed = {"title", "model", "system_prompt"}
        if not fields or not set(fields) <= allowed:
            raise StoreError(f"unknown conversation fields: {sorted(set(fields) - allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._lock, self._db:
            self._db.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*fields.values(), conversation_id),
            )

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self.save_details(conversation_id, title=title)

    def save_message(self, conversation: Conversation, message: Message) -> None:
        """Inserts or updates one message; its parent must be stored already. Called every
        half second while a reply streams: only what arrived since the last call is written.
        A finished message has its pieces joined (see `join_pieces`)."""
        if conversation.id is None:
            raise StoreError("save the conversation before its messages")
        parent = message.parent
        parent_id = None if parent is None or parent is conversation.root else parent.id
        if parent is not None and parent is not conversation.root and parent_id is None:
            raise StoreError("save a message's parent before the message")
        usage = message.usage
        values = (
            message.role.value,
            message.status.value,
            message.error,
            message.finish_reason,
            message.model,
            _bounded(usage.prompt_tokens) if usage else None,
            _bounded(usage.completion_tokens) if usage else None,
            message.time_to_first_token,
            message.duration,
        )
        with self._lock, self._db:
            if message.id is None:
                cursor = self._db.execute(
                    "INSERT INTO messages (role, status, error, finish_reason, model,"
                    " prompt_tokens, completion_tokens, time_to_first_token, duration,"
                    " conversation_id, parent_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, conversation.id, parent_id, message.created_at),
                )
                message.id = cursor.lastrowid
                self._saved[message.id or 0] = []
                if parent is not None and parent.chosen is message:
                    self._write_choice(conversation, parent)
            else:
                self._db.execute(
                    "UPDATE messages SET role = ?, status = ?, error = ?, finish_reason = ?,"
                    " model = ?, prompt_tokens = ?, completion_tokens = ?,"
                    " time_to_first_token = ?, duration = ? WHERE id = ?",
                    (*values, message.id),
                )
            self._write_parts(message)
            if message.is_final:
                self._join_pieces(message)
            self._db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (time.time(), conversation.id),
            )

    def _write_parts(self, message: Message) -> None:
        """Appends what each part gained as a new piece row; a part that changed in any
        other way (or that this store has not seen) is written again whole."""
        assert message.id is not None
        saved = self._saved.get(message.id)
        if (
            saved is None
            or len(saved) > len(message.parts)
            or any(
                record.kind != part.kind or record.length > len(part.text)
                for record, part in zip(saved, message.parts, strict=False)
            )
        ):
            self._db.execute("DELETE FROM message_parts WHERE message_id = ?", (message.id,))
            saved = self._saved[message.id] = []
        for position, part in enumerate(message.parts):
            if position == len(saved):
                saved.append(_SavedPart(part.kind, 0, 0))
            record = saved[position]
            if record.length == len(part.text) and record.pieces:
                continue
            self._db.execute(
                "INSERT INTO message_parts (message_id, position, kind, text) VALUES (?, ?, ?, ?)",
                (message.id, position, part.kind, part.text[record.length :]),
            )
            record.length = len(part.text)
            record.pieces += 1

    def _join_pieces(self, message: Message) -> None:
        """One row per part once a message is final: search matches across the seams, and
        loading reads one row. Costs the length of the reply, once."""
        saved = self._saved.get(message.id or 0, [])
        if all(record.pieces <= 1 for record in saved):
            return
        self._db.execute("DELETE FROM message_parts WHERE message_id = ?", (message.id,))
        self._db.executemany(
            "INSERT INTO message_parts (message_id, position, kind, text) VALUES (?, ?, ?, ?)",
            [(message.id, i, part.kind, part.text) for i, part in enumerate(message.parts)],
        )
        for record in saved:
            record.pieces = 1

    def needs_long_write(self, message: Message) -> bool:
        """Whether saving `message` now would join many pieces: worth a worker thread."""
        saved = self._saved.get(message.id or 0, [])
        return message.is_final and sum(record.length for record in saved if record.pieces > 1) > (
            64 * 1024
        )

    def save_choice(self, conversation: Conversation, parent: Message) -> None:
        """Records which child of `parent` (or of the top) is on the path now."""
        with self._lock, self._db:
            self._write_choice(conversation, parent)

    def _write_choice(self, conversation: Conversation, parent: Message) -> None:
        chosen_id = parent.chosen.id if parent.chosen is not None else None
        if parent is conversation.root:
            self._db.execute(
                "UPDATE conversations SET chosen_root_id = ? WHERE id = ?",
                (chosen_id, conversation.id),
            )
        elif parent.id is not None:
            self._db.execute(
                "UPDATE messages SET chosen_child_id = ? WHERE id = ?", (chosen_id, parent.id)
            )

    def save_path(self, conversation: Conversation) -> None:
        """Records every choice along the path (after a search hit was revealed)."""
        with self._lock, self._db:
            node = conversation.root
            while node.chosen is not None:
                self._write_choice(conversation, node)
                node = node.chosen

    def delete_message(
        self, conversation: Conversation, message_id: int, moved: list[Message]
    ) -> None:
        """Deletes one message whose children (`moved`, already moved up in memory) now
        follow its parent; the parent's choice is written again."""
        with self._lock, self._db:
            for child in moved:
                if child.id is not None:
                    parent = child.parent
                    parent_id = None if parent is None or parent is conversation.root else parent.id
                    self._db.execute(
                        "UPDATE messages SET parent_id = ? WHERE id = ?", (parent_id, child.id)
                    )
            self._db.execute("DELETE FROM messages WHERE id = ?", (message_id,))
            self._saved.pop(message_id, None)

    def delete_conversation(self, conversation_id: int) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # Reading -----------------------------------------------------------------------------

    def recent_prompts(self, limit: int = 200) -> list[str]:
        """The user's latest prompts across all conversations, oldest first, without
        repeats: the prompt box's history survives restarts."""
        with self._lock:
            rows = self._db.execute(
                "SELECT p.text FROM messages m JOIN message_parts p ON p.message_id = m.id"
                " WHERE m.role = 'user' AND p.kind = 'text' ORDER BY m.id DESC LIMIT ?",
                (limit * 2,),
            ).fetchall()
        seen: set[str] = set()
        prompts: list[str] = []
        for (content,) in rows:
            if content not in seen:
                seen.add(content)
                prompts.append(content)
        return prompts[:limit][::-1]

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages matching `text` on any branch, newest first: with SQLite's FTS5 (each
        word as a prefix, as the user types) where it is compiled in, a case-insensitive
        LIKE scan otherwise."""
        words = text.split()
        if not words:
            return []
        if self.has_full_text_index:
            argument = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
            match = "p.id IN (SELECT rowid FROM parts_fts WHERE parts_fts MATCH ?)"
        else:
            argument = (
                "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            match = "p.kind = 'text' AND p.text LIKE ? ESCAPE '\\'"
        sql = (
            "SELECT m.conversation_id, m.id, c.title, p.text FROM message_parts p"
            " JOIN messages m ON m.id = p.message_id"
            " JOIN conversations c ON c.id = m.conversation_id"
            f" WHERE {match} GROUP BY m.id ORDER BY m.id DESC LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (argument, limit)).fetchall()
        return [
            SearchHit(int(r[0]), int(r[1]), str(r[2]), _snippet(str(r[3]), words[0])) for r in rows
        ]

    @property
    def has_full_text_index(self) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'parts_fts'"
            ).fetchone()
        return row is not None

    def latest_conversation_id(self) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else int(row[0])

    def list_conversations(self, limit: int = 200) -> list[ConversationSummary]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.title, c.updated_at, COUNT(m.id) FROM conversations c"
                " LEFT JOIN messages m ON m.conversation_id = c.id"
                " GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [ConversationSummary(int(r[0]), str(r[1]), float(r[2]), int(r[3])) for r in rows]

    def load_conversation(self, conversation_id: int) -> Conversation | None:
        """Loads a conversation's whole tree; a reply left streaming by a dead process
        comes back whole (its pieces joined) and marked interrupted."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, model, system_prompt, created_at, chosen_root_id"
                " FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if row is None:
                return None
            message_rows = self._db.execute(
                "SELECT id, parent_id, chosen_child_id, role, status, error, finish_reason,"
                " model, prompt_tokens, completion_tokens, time_to_first_token, duration,"
                " created_at FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
            part_rows = self._db.execute(
                "SELECT p.message_id, p.position, p.kind, p.text FROM message_parts p"
                " JOIN messages m ON m.id = p.message_id WHERE m.conversation_id = ?"
                " ORDER BY p.message_id, p.position, p.id",
                (conversation_id,),
            ).fetchall()
        conversation = Conversation(
            id=int(row[0]), title=row[1], model=row[2], system_prompt=row[3], created_at=row[4]
        )
        parts = _parts_by_message(part_rows)
        by_id: dict[int, Message] = {}
        chosen_ids: dict[int, int | None] = {}
        for m in message_rows:
            status = MessageStatus(m[4])
            if status is MessageStatus.STREAMING:
                status = MessageStatus.INTERRUPTED
            usage = Usage(m[8], m[9]) if m[8] is not None and m[9] is not None else None
            message = Message(
                Role(m[3]),
                id=m[0],
                status=status,
                error=m[5],
                finish_reason=m[6],
                model=m[7],
                usage=usage,
                time_to_first_token=m[10],
                duration=m[11],
                created_at=m[12],
                parts=parts.get(m[0], []),
            )
            by_id[m[0]] = message
            chosen_ids[m[0]] = m[2]
        for m in message_rows:  # parents are older than their children: already built
            parent = by_id.get(m[1]) if m[1] is not None else None
            message = by_id[m[0]]
            message.parent = parent or conversation.root
            message.parent.children.append(message)
        for message_id, chosen_id in [(None, row[5]), *chosen_ids.items()]:
            parent = conversation.root if message_id is None else by_id[message_id]
            if parent.children:
                chosen = by_id.get(chosen_id) if chosen_id is not None else None
                parent.chosen = chosen if chosen in parent.children else parent.children[-1]
        return conversation


def _parts_by_message(rows: list[tuple[int, int, str, str]]) -> dict[int, list[Part]]:
    """Joins the pieces of each part (a reply saved while streaming has several)."""
    found: dict[int, list[Part]] = {}
    last: tuple[int, int] | None = None
    for message_id, position, kind, text in rows:
        parts = found.setdefault(message_id, [])
        if last == (message_id, position) and parts:
            parts[-1].text += text
            continue
        last = (message_id, position)
        part = part_of_kind(kind, text)
        if part is not None:
            parts.append(part)
        else:
            last = None
    return found


SQLITE_INTEGER_MAX = 2**63 - 1


def _bounded(number: int) -> int:
    """Numbers from a server are untrusted: one past SQLite's integer range would make
    the whole message unsavable."""
    return max(0, min(int(number), SQLITE_INTEGER_MAX))


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        # Create the file private before SQLite writes a byte of conversation into it.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    connection = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")  # see Store.checkpoint
        migrate(connection)  # foreign keys off: a migration may rebuild a table
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("SELECT COUNT(*) FROM messages").fetchone()
    except sqlite3.DatabaseError:
        connection.close()
        raise
    connection.isolation_level = "DEFERRED"  # back to transactions, driven by `with`
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.chmod(f"{path}{suffix}", 0o600)
    return connection

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
import sqlite3
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from tui.chat.conversation import Conversation
from tui.chat.images import ImagePart
from tui.chat.message import Message, texts_of
from tui.chat.parts import APPENDED_KINDS
from tui.frozen import frozen
from tui.store_file import StoreUnavailable, open_history
from tui.store_schema import MIGRATIONS
from tui.store_search import SearchHit, has_full_text_index, search_messages
from tui.store_tree import conversation_in_steps, read_conversation

__all__ = [
    "MIGRATIONS",
    "ConversationSummary",
    "SearchHit",
    "Store",
    "StoreError",
    "StoreUnavailable",
]


@frozen(slots=True)
class ConversationSummary:
    id: int
    title: str
    updated_at: float
    message_count: int


class StoreError(Exception):
    """The history could not be opened or written; the message says what and where."""


@dataclass(slots=True)
class _SavedPart:
    kind: str
    length: int
    pieces: int
    whole: str | None = None
    """What was written, for a part that is rewritten rather than appended to (a tool
    call whose arguments grew changes its JSON in the middle)."""


class Store:
    """One connection, used from the event loop and, for the rare long write (joining a
    long reply's pieces), from a worker thread: a lock keeps them apart."""

    def __init__(self, connection: sqlite3.Connection, path: Path, notice: str | None) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path
        self._read_only_uri = f"{path.resolve().as_uri()}?mode=ro"
        self.notice = notice
        """Set when opening had to set a damaged file aside: tell the user once."""
        self._saved: dict[int, list[_SavedPart]] = {}
        """Per stored message id: what of each part is in the file, so a save writes only
        what is new."""

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = 5.0) -> Store:
        """Opens (creating or migrating) the history. A damaged file is set aside and
        `notice` says where; any other trouble raises `StoreUnavailable`, file untouched.
        `busy_timeout`: how long a write waits for another process's lock (the app uses a
        short one and retries in the background, so a lock never freezes it)."""
        path = Path(path)
        connection, notice = open_history(path, busy_timeout)
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
    # Ids and what is known to be in the file change only once a transaction commits: a
    # write that fails (full disk, lock) leaves the objects as they were, to be saved again.

    def save_conversation(self, conversation: Conversation, endpoint: str | None) -> None:
        """Inserts a new conversation, or writes all of its own fields (title, model,
        system prompt) at once; `save_details` writes one field and nothing stale."""
        new = conversation.id is None
        try:
            with self._lock, self._db:
                self._write_conversation(conversation, endpoint)
        except BaseException:
            if new:
                conversation.id = None  # the insert was rolled back
            raise

    def _write_conversation(self, conversation: Conversation, endpoint: str | None) -> None:
        now = time.time()
        fields = (
            conversation.title,
            conversation.model,
            conversation.system_prompt,
            conversation.tools.to_text(),
        )
        if conversation.id is None:
            cursor = self._db.execute(
                "INSERT INTO conversations (title, model, system_prompt, tool_choices, endpoint,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*fields, endpoint, conversation.created_at, now),
            )
            conversation.id = cursor.lastrowid
        else:
            self._db.execute(
                "UPDATE conversations SET title = ?, model = ?, system_prompt = ?,"
                " tool_choices = ?, updated_at = ? WHERE id = ?",
                (*fields, now, conversation.id),
            )

    def save_details(self, conversation_id: int, **fields: str | None) -> None:
        """Writes only the named fields (title, model, system_prompt, tool_choices) of a
        conversation."""
        allowed = {"title", "model", "system_prompt", "tool_choices"}
        if not fields or not set(fields) <= allowed:
            raise StoreError(f"unknown conversation fields: {sorted(set(fields) - allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._lock, self._db:
            self._db.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*fields.values(), conversation_id),
            )

    def save_message(self, conversation: Conversation, message: Message) -> None:
        """Inserts or updates one message; its parent must be stored already. Called every
        half second while a reply streams: only what arrived since the last call is written.
        A finished message has its pieces joined (see `_join_pieces`)."""
        if conversation.id is None:
            raise StoreError("save the conversation before its messages")
        new = message.id is None
        try:
            with self._lock, self._db:
                self._write_message(conversation, message)
                self._db.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = ?",
                    (time.time(), conversation.id),
                )
        except BaseException:
            # What the file holds of its parts is unknown now: the next save writes them whole.
            self._saved.pop(message.id or 0, None)
            if new:
                message.id = None  # the insert was rolled back
            raise

    def save_everything(self, conversation: Conversation, endpoint: str | None) -> None:
        """Writes the whole conversation (every message on every branch, whole, and every
        choice) in one transaction: how changes held in memory after a failed write reach
        the file once it can take them again."""
        inserted: list[Message] = []
        had_id = conversation.id is not None
        try:
            with self._lock, self._db:
                self._write_conversation(conversation, endpoint)
                for message in conversation.all_messages():
                    if message.id is None:
                        inserted.append(message)
                    else:
                        self._saved.pop(message.id, None)  # rewrite its parts whole
                    self._write_message(conversation, message)
                for parent in (conversation.root, *conversation.all_messages()):
                    self._write_choice(conversation, parent)
        except BaseException:
            for message in inserted:
                self._saved.pop(message.id or 0, None)
                message.id = None
            if not had_id:
                conversation.id = None
            raise

    def import_conversation(
        self, conversation: Conversation, source: str, source_id: str, updated_at: float
    ) -> bool:
        """Stores a conversation read from another client, whole, in one transaction;
        False (and nothing written) when that source's conversation was imported before."""
        with self._lock, self._db:
            known = self._db.execute(
                "SELECT 1 FROM imports WHERE source = ? AND source_id = ?", (source, source_id)
            ).fetchone()
            if known is not None:
                return False
            self._write_conversation(conversation, None)
            for message in conversation.all_messages():
                self._write_message(conversation, message)
            for parent in (conversation.root, *conversation.all_messages()):
                self._write_choice(conversation, parent)
            self._db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (updated_at, conversation.id),
            )
            self._db.execute(
                "INSERT INTO imports (source, source_id, conversation_id) VALUES (?, ?, ?)",
                (source, source_id, conversation.id),
            )
        return True

    def _write_message(self, conversation: Conversation, message: Message) -> None:
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
            parent_id,
        )
        if message.id is None:
            cursor = self._db.execute(
                "INSERT INTO messages (role, status, error, finish_reason, model,"
                " prompt_tokens, completion_tokens, time_to_first_token, duration,"
                " parent_id, conversation_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, conversation.id, message.created_at),
            )
            message.id = cursor.lastrowid
            self._saved[message.id or 0] = []
            if parent is not None and parent.chosen is message:
                self._write_choice(conversation, parent)
        else:
            self._db.execute(
                "UPDATE messages SET role = ?, status = ?, error = ?, finish_reason = ?,"
                " model = ?, prompt_tokens = ?, completion_tokens = ?,"
                " time_to_first_token = ?, duration = ?, parent_id = ? WHERE id = ?",
                (*values, message.id),
            )
        self._write_parts(message)
        if message.is_final:
            self._join_pieces(message)

    def _write_parts(self, message: Message) -> None:
        """Appends what each part gained as a new piece row; a part that changed in any
        other way (or that this store has not seen) is written again whole."""
        assert message.id is not None
        saved = self._saved.get(message.id)
        # Read once: a stream may add to them meanwhile (the saver's retry runs in a thread).
        parts = list(message.parts)
        texts = texts_of(parts)
        if (
            saved is None
            or len(saved) > len(parts)
            or any(
                record.kind != part.kind
                or record.length > len(text)
                or (record.whole is not None and record.whole != text)
                for record, part, text in zip(saved, parts, texts, strict=False)
            )
        ):
            self._db.execute("DELETE FROM message_parts WHERE message_id = ?", (message.id,))
            saved = self._saved[message.id] = []
        for position, (part, text) in enumerate(zip(parts, texts, strict=True)):
            if position == len(saved):
                saved.append(_SavedPart(part.kind, 0, 0))
            record = saved[position]
            if record.length == len(text) and record.pieces:
                continue
            if part.kind not in APPENDED_KINDS:
                record.whole = text
            if isinstance(part, ImagePart) and part.data:
                self._db.execute(
                    "INSERT OR IGNORE INTO blobs (digest, media_type, data) VALUES (?, ?, ?)",
                    (part.digest, part.media_type, part.data),
                )
            self._db.execute(
                "INSERT INTO message_parts (message_id, position, kind, text) VALUES (?, ?, ?, ?)",
                (message.id, position, part.kind, text[record.length :]),
            )
            record.length = len(text)
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
        follow its parent (their parent ids are written first)."""
        with self._lock, self._db:
            for child in moved:
                if child.id is not None:
                    parent = child.parent
                    parent_id = None if parent is None or parent is conversation.root else parent.id
                    self._db.execute(
                        "UPDATE messages SET parent_id = ? WHERE id = ?", (parent_id, child.id)
                    )
            self._db.execute("DELETE FROM messages WHERE id = ?", (message_id,))
            self._forget_unused_images()
            self._saved.pop(message_id, None)

    def delete_messages(self, message_ids: list[int]) -> None:
        """Deletes messages by id (their children already moved up, see `delete_message`)."""
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM messages WHERE id = ?", [(message_id,) for message_id in message_ids]
            )
            self._forget_unused_images()
        for message_id in message_ids:
            self._saved.pop(message_id, None)

    def delete_conversation(self, conversation_id: int) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            self._forget_unused_images()

    def _forget_unused_images(self) -> None:
        """An image no message carries any more goes too: deleting is deleting."""
        if self._db.execute("SELECT 1 FROM blobs LIMIT 1").fetchone() is None:
            return  # no images at all: no scan of every part
        self._db.execute(
            "DELETE FROM blobs WHERE digest NOT IN (SELECT json_extract(text, '$.digest')"
            " FROM message_parts WHERE kind = 'image')"
        )

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
        """Messages matching `text` on any branch, newest first (see `search_messages`)."""
        with self._lock:
            return search_messages(self._db, text, limit)

    @property
    def has_full_text_index(self) -> bool:
        with self._lock:
            return has_full_text_index(self._db)

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
            return read_conversation(self._db, conversation_id)

    def change_stamp(self) -> tuple[int, int]:
        """Differs from an earlier stamp once anything was written to the history since,
        by this store (its connection's count of changes) or any other connection or
        process (SQLite's `data_version`)."""
        with self._lock:
            row = self._db.execute("PRAGMA data_version").fetchone()
            return int(row[0]), self._db.total_changes

    def read_elsewhere(self, conversation_id: int) -> Generator[None, None, Conversation | None]:
        """`load_conversation` a step at a time (`conversation_in_steps`), on a read-only
        connection of its own: the store's lock stays free between the steps (a search
        typed, a reply saved), which a quarter second's read of 20,000 messages would have
        held, and one snapshot serves every step. Closing it midway ends the read and its
        snapshot."""
        reader = sqlite3.connect(
            self._read_only_uri, uri=True, isolation_level=None, timeout=READER_BUSY_TIMEOUT
        )
        with contextlib.closing(reader):
            reader.execute("BEGIN")  # one snapshot for every step
            return (yield from conversation_in_steps(reader, conversation_id))


READER_BUSY_TIMEOUT = 0.05
"""Seconds `read_elsewhere` waits for a lock (while SQLite recovers a WAL file), on the
event loop's thread: a read ahead that cannot start soon is not worth a stall (opening
the conversation reads it then)."""


SQLITE_INTEGER_MAX = 2**63 - 1


def _bounded(number: int) -> int:
    """Numbers from a server are untrusted: one past SQLite's integer range would make
    the whole message unsavable."""
    return max(0, min(int(number), SQLITE_INTEGER_MAX))

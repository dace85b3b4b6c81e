"""Conversation history in one SQLite file: WAL, a schema version, forward migrations.

The file and its folder are private to the user (0600/0700). A database that cannot be
read is never deleted: it is moved aside with a timestamp and a fresh one is started.

Messages are stored as a tree (a parent id per message, the chosen child per parent) and
their text as parts. This file holds the transactions, the lock and what a failed write
undoes in memory; the statements that write the rows (a streaming reply a piece at a time)
are in `tui.store_rows`, reading a conversation back in `tui.store_tree`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Generator
from pathlib import Path

from tui.chat.conversation import Conversation
from tui.chat.message import Message
from tui.frozen import frozen
from tui.store_file import StoreUnavailable, open_history
from tui.store_path_parts import PathPart, read_path_around, read_path_end
from tui.store_rows import RowWriting, StoreError
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


class Store(RowWriting):
    """One connection, used from the event loop and, for the rare long write (joining a
    long reply's pieces), from a worker thread: a lock keeps them apart."""

    def __init__(self, connection: sqlite3.Connection, path: Path, notice: str | None) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path
        self._read_only_uri = f"{path.resolve().as_uri()}?mode=ro"
        self.notice = notice
        """Set when opening had to set a damaged file aside: tell the user once."""
        self._saved = {}

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
                if new:
                    self._write_path_end(conversation)
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
                self._write_path_end(conversation)
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
            self._write_path_end(conversation)
            self._db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (updated_at, conversation.id),
            )
            self._db.execute(
                "INSERT INTO imports (source, source_id, conversation_id) VALUES (?, ?, ?)",
                (source, source_id, conversation.id),
            )
        return True

    def save_choice(self, conversation: Conversation, parent: Message) -> None:
        """Records which child of `parent` (or of the top) is on the path now."""
        with self._lock, self._db:
            self._write_choice(conversation, parent)
            self._write_path_end(conversation)

    def remember_path_end(self, conversation: Conversation, read_at: tuple[int, int]) -> None:
        """Writes where the path of `conversation`, read whole from the file as it was at
        `read_at` (`change_stamp`), ends, if the file does not say: changed last by an
        older version or another tool, the next launch would walk the path again. Not if
        anything was written since the read (its end may be another now), nor over an end
        another process wrote. Only a help for the next launch: a file that cannot take it
        now is left as it is."""
        with contextlib.suppress(sqlite3.Error), self._lock:
            if self.change_stamp() != read_at:
                return
            with self._db:
                self._write_path_end(conversation, if_unknown=True)

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
            # (The path's end stays forgotten: the parent's choice is written after this,
            # by `save_choice`, which writes the end with it.)
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

    def read_path_end(self, conversation_id: int) -> PathPart | None:
        """The conversation as a resumed one is shown first: the end of its path, the rest
        read after the first frame (`read_elsewhere` with `known`); whole if it is short."""
        with self._lock:
            return read_path_end(self._db, conversation_id)

    def read_path_around(self, conversation_id: int, message_id: int) -> PathPart | None:
        """The path around a message on it, as a search hit is shown first (None: read
        it whole, the message is not on the path shown last)."""
        with self._lock:
            return read_path_around(self._db, conversation_id, message_id)

    def change_stamp(self) -> tuple[int, int]:
        """Differs from an earlier stamp once anything was written to the history since,
        by this store (its connection's count of changes) or any other connection or
        process (SQLite's `data_version`)."""
        with self._lock:
            row = self._db.execute("PRAGMA data_version").fetchone()
            return int(row[0]), self._db.total_changes

    def read_elsewhere(
        self, conversation_id: int, known: Conversation | None = None
    ) -> Generator[None, None, Conversation | None]:
        """`load_conversation` a step at a time (`conversation_in_steps`, taking the
        messages of `known` as they are), on a read-only connection of its own: the
        store's lock stays free between the steps (a search typed, a reply saved), which a
        quarter second's read of 20,000 messages would have held, and one snapshot serves
        every step. Closing it midway ends the read and its snapshot."""
        reader = sqlite3.connect(
            self._read_only_uri, uri=True, isolation_level=None, timeout=READER_BUSY_TIMEOUT
        )
        with contextlib.closing(reader):
            reader.execute("BEGIN")  # one snapshot for every step
            return (yield from conversation_in_steps(reader, conversation_id, known=known))


READER_BUSY_TIMEOUT = 0.05
"""Seconds `read_elsewhere` waits for a lock (while SQLite recovers a WAL file), on the
event loop's thread: a read ahead that cannot start soon is not worth a stall (opening
the conversation reads it then)."""

"""The statements that write a conversation's rows: the conversation itself, each message
and its parts, and which child each parent has chosen.

A streaming reply is saved often; each save writes only what arrived since the last one
(a new piece row per grown part), so its cost does not grow with the reply. When the reply
ends its pieces are joined into one row per part, once.

A part of `Store` kept in its own file (a mixin), as `tui.session_context` is for the
session: these run inside a transaction the store opens and under its lock, and
`tui.store` keeps those, and what a failed write undoes in memory.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from tui.chat.conversation import Conversation
from tui.chat.images import ImagePart
from tui.chat.message import Message, texts_of
from tui.chat.parts import APPENDED_KINDS


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


class RowWriting:
    """Needs from the store: its connection. The caller holds the store's lock and the
    transaction."""

    _db: sqlite3.Connection
    _saved: dict[int, list[_SavedPart]]
    """Per stored message id: what of each part is in the file, so a save writes only
    what is new."""

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

    def _write_path_end(self, conversation: Conversation, *, if_unknown: bool = False) -> None:
        """Where the path now ends and how many messages it has: a launch reads its end
        from there (`read_path_end`). After every change to the tree, in the same
        transaction: the change itself has just forgotten them (the V8 triggers).
        `if_unknown`: only where the file holds no end (another process may have written
        one)."""
        path = conversation.messages
        end = path[-1].id if path else None
        unknown = " AND path_end_id IS NULL" if if_unknown else ""
        self._db.execute(
            f"UPDATE conversations SET path_end_id = ?, path_length = ? WHERE id = ?{unknown}",
            (end, len(path) if end is not None else None, conversation.id),
        )


SQLITE_INTEGER_MAX = 2**63 - 1


def _bounded(number: int) -> int:
    """Numbers from a server are untrusted: one past SQLite's integer range would make
    the whole message unsavable."""
    return max(0, min(int(number), SQLITE_INTEGER_MAX))

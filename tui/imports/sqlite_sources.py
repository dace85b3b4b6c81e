"""elia's and oterm's SQLite histories, read with SQLite's read-only, immutable open (the
file is never written, not even a journal).

- elia (`elia.sqlite`): `chat(id, model, title, started_at, archived)` and
  `message(id, chat_id, role, content, timestamp, meta, parent_id, model)`: a tree by
  `parent_id`, a system prompt as a `system` message at its top.
- oterm (`store.db`): `chat(id, name, model, system, ...)` and
  `message(id, chat_id, author, text, images)`: one line of messages per chat, in id order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui.chat.conversation import Conversation
from tui.chat.message import Message, Role
from tui.imports.found import ROLES, Found, ImportFailed, utc_timestamp

SQLITE_HEADER = b"SQLite format 3\x00"


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(16) == SQLITE_HEADER
    except OSError:
        return False


def open_read_only(path: Path) -> sqlite3.Connection:
    uri = f"file:{path.resolve().as_posix()}?mode=ro&immutable=1"
    try:
        return sqlite3.connect(uri, uri=True)
    except sqlite3.Error as error:
        raise ImportFailed(f"{path}: cannot be opened ({error})") from error


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def kind_of(db: sqlite3.Connection) -> str | None:
    message = columns(db, "message")
    chat = columns(db, "chat")
    if {"parent_id", "role", "content"} <= message and "started_at" in chat:
        return "elia"
    if {"author", "text"} <= message and {"name", "system"} <= chat:
        return "oterm"
    return None


def read_elia(path: Path, db: sqlite3.Connection) -> Found:
    found = Found("elia history")
    try:
        chats = db.execute("SELECT id, model, title, started_at FROM chat ORDER BY id").fetchall()
        rows = db.execute(
            "SELECT id, chat_id, role, content, timestamp, parent_id, model FROM message"
            " ORDER BY id"
        ).fetchall()
    except sqlite3.Error as error:
        raise ImportFailed(f"{path}: not a readable elia history ({error})") from error
    by_chat = _by_chat(rows)
    for chat_id, model, title, started_at in chats:
        started = utc_timestamp(started_at)
        conversation = Conversation(model=model, title=str(title or ""), created_at=started or 0.0)
        made: dict[int, Message] = {}
        for message_id, _chat, role, content, timestamp, parent_id, reply_model in by_chat.get(
            chat_id, []
        ):
            parent = made.get(parent_id, conversation.root) if parent_id else conversation.root
            kind = ROLES.get(role)
            if kind is None:
                if role == "system" and not conversation.system_prompt and content:
                    conversation.system_prompt = str(content)
                else:
                    found.skipped["system and tool messages"] += 1
                made[message_id] = parent
                continue
            if not content:
                found.skipped["messages with no text"] += 1
                made[message_id] = parent
                continue
            message = Message(
                kind,
                str(content),
                model=reply_model if kind is Role.ASSISTANT else None,
                created_at=utc_timestamp(timestamp) or conversation.created_at,
            )
            made[message_id] = conversation.attach(message, parent)
        found.add(f"{chat_id}@{started_at}", conversation)
    return found


def read_oterm(path: Path, db: sqlite3.Connection) -> Found:
    found = Found("oterm history")
    try:
        chats = db.execute("SELECT id, name, model, system FROM chat ORDER BY id").fetchall()
        rows = db.execute(
            "SELECT id, chat_id, author, text, images FROM message ORDER BY id"
        ).fetchall()
    except sqlite3.Error as error:
        raise ImportFailed(f"{path}: not a readable oterm history ({error})") from error
    by_chat = _by_chat(rows)
    modified = path.stat().st_mtime
    for chat_id, name, model, system in chats:
        conversation = Conversation(
            model=model, title=str(name or ""), system_prompt=system or None, created_at=modified
        )
        first_id = None
        for message_id, _chat, author, text, images in by_chat.get(chat_id, []):
            first_id = first_id or message_id
            kind = ROLES.get(author)
            if kind is None or not text:
                found.skipped["messages with no text" if kind else "system and tool messages"] += 1
                continue
            if images and images != "[]":
                found.skipped["images and files (not imported)"] += 1
            model_of = model if kind is Role.ASSISTANT else None
            conversation.append(Message(kind, str(text), model=model_of, created_at=modified))
        found.add(f"{chat_id}/{first_id}", conversation, modified)
    return found


def _by_chat(rows: list[tuple]) -> dict[int, list[tuple]]:
    """Message rows (chat id second) grouped by chat, in their order."""
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[1], []).append(row)
    return grouped

"""Reading a stored conversation back as a tree of messages made of parts."""

from __future__ import annotations

import sqlite3

from tui.chat.conversation import Conversation
from tui.chat.images import ImagePart
from tui.chat.message import Message, MessageStatus, Role, Usage
from tui.chat.parts import Part, ToolOutcome, ToolResultPart, part_of_kind
from tui.chat.tool_choices import ToolChoices

_ROLES = {role.value: role for role in Role}
_STATUSES = {status.value: status for status in MessageStatus}
"""Looked up, not called: `Role(value)` per row was a quarter of reading 20,000 messages."""


def read_conversation(db: sqlite3.Connection, conversation_id: int) -> Conversation | None:
    """The conversation with every message on every branch, each under its parent, each
    parent's chosen child chosen again; a reply left streaming by a dead process comes
    back whole (its pieces joined) and marked interrupted."""
    row = db.execute(
        "SELECT id, title, model, system_prompt, created_at, chosen_root_id, tool_choices"
        " FROM conversations WHERE id = ?",
        (conversation_id,),
    ).fetchone()
    if row is None:
        return None
    message_rows = db.execute(
        "SELECT id, parent_id, chosen_child_id, role, status, error, finish_reason,"
        " model, prompt_tokens, completion_tokens, time_to_first_token, duration,"
        " created_at FROM messages WHERE conversation_id = ? ORDER BY id",
        (conversation_id,),
    ).fetchall()
    part_rows = db.execute(
        "SELECT p.message_id, p.position, p.kind, p.text FROM message_parts p"
        " JOIN messages m ON m.id = p.message_id WHERE m.conversation_id = ?"
        " ORDER BY m.id, p.position, p.id",  # m.id: in index order, no sort (10 ms)
        (conversation_id,),
    ).fetchall()
    conversation = Conversation(
        id=int(row[0]), title=row[1], model=row[2], system_prompt=row[3], created_at=row[4]
    )
    conversation.tools = ToolChoices.from_text(row[6])
    parts = _parts_by_message(part_rows)
    _load_images(db, parts)
    by_id: dict[int, Message] = {}
    chosen_ids: dict[int, int | None] = {}
    for m in message_rows:
        status = _STATUSES.get(m[4]) or MessageStatus(m[4])  # (a bad value raises)
        if status is MessageStatus.STREAMING:
            status = MessageStatus.INTERRUPTED
        usage = Usage(m[8], m[9]) if m[8] is not None and m[9] is not None else None
        message = Message(
            _ROLES.get(m[3]) or Role(m[3]),
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
        if status is MessageStatus.INTERRUPTED:
            for call in message.unanswered_calls():
                message.parts.append(ToolResultPart(call.call_id, ToolOutcome.INTERRUPTED))
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


def _load_images(db: sqlite3.Connection, parts: dict[int, list[Part]]) -> None:
    """Gives each image part its bytes (stored once, by digest)."""
    images = [p for found in parts.values() for p in found if isinstance(p, ImagePart)]
    for image in images:
        row = db.execute("SELECT data FROM blobs WHERE digest = ?", (image.digest,)).fetchone()
        image.data = bytes(row[0]) if row is not None else b""


def _parts_by_message(rows: list[tuple[int, int, str, str]]) -> dict[int, list[Part]]:
    """Joins the pieces of each part (a reply saved while streaming has several; only
    text and reasoning are saved in pieces, a tool part is always one row)."""
    found: dict[int, list[Part]] = {}
    key: tuple[int, int] | None = None
    kind, texts = "", [""]

    def close() -> None:
        if key is not None:
            part = part_of_kind(kind, texts[0] if len(texts) == 1 else "".join(texts))
            if part is not None:
                found.setdefault(key[0], []).append(part)

    for message_id, position, row_kind, text in rows:
        if key is not None and key[0] == message_id and key[1] == position:
            texts.append(text)
            continue
        close()
        key, kind, texts = (message_id, position), row_kind, [text]
    close()
    return found

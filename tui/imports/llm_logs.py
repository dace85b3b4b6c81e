"""`llm`'s `logs.db` (0.36): both of its stores, as that release still reads both.

- Older history: `conversations(id, name, model)` and `responses(id, model, prompt,
  system, response, conversation_id, datetime_utc)`: each response is a prompt and its
  answer, in time order.
- Since 0.36: content-addressed `messages(hash, parent_hash, role)` with their `parts`
  (`type`, `text`, or a `payload` whose `text_ref` pieces are literals or `fragments`
  ids), `threads(id, name, tip_message_hash, forked_from, datetime_utc)` whose tips end
  each path, and `turns` (the model and time of each answer). A thread and the threads
  forked from it make one conversation; where their paths part are its branches.
Any other shape is refused by name: llm's schema has changed before.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tui.chat.conversation import Conversation
from tui.chat.message import Message, Role
from tui.imports.found import ROLES, Found, ImportFailed, utc_timestamp


def is_llm_logs(tables: set[str]) -> bool:
    return "responses" in tables and "conversations" in tables


def read_llm(path: Path, db: sqlite3.Connection, tables: set[str]) -> Found:
    found = Found("llm logs")
    try:
        _read_responses(db, found)
        if {"messages", "parts", "threads"} <= tables:
            _read_threads(db, found, "fragments" in tables, "turns" in tables)
    except (sqlite3.Error, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ImportFailed(f"{path}: not a logs.db this release can read ({error})") from error
    return found


def _read_responses(db: sqlite3.Connection, found: Found) -> None:
    names = dict(db.execute("SELECT id, name FROM conversations").fetchall())
    rows = db.execute(
        "SELECT id, model, prompt, system, response, conversation_id, datetime_utc"
        " FROM responses ORDER BY datetime_utc, rowid"
    ).fetchall()
    conversations: dict[str, Conversation] = {}
    for response_id, model, prompt, system, answer, conversation_id, when in rows:
        key = str(conversation_id or response_id)
        conversation = conversations.get(key)
        if conversation is None:
            conversation = conversations[key] = Conversation(
                model=model, title=str(names.get(conversation_id) or ""), system_prompt=system
            )
            conversation.created_at = utc_timestamp(when) or 0.0
        moment = utc_timestamp(when) or conversation.created_at
        if prompt:
            conversation.append(Message(Role.USER, str(prompt), created_at=moment))
        if answer:
            conversation.append(
                Message(Role.ASSISTANT, str(answer), model=model, created_at=moment)
            )
    for key, conversation in conversations.items():
        found.add(f"responses:{key}", conversation)


def _read_threads(db: sqlite3.Connection, found: Found, fragments: bool, turns: bool) -> None:
    parents: dict[str, str | None] = {}
    roles: dict[str, str] = {}
    for message_hash, parent_hash, role in db.execute(
        "SELECT hash, parent_hash, role FROM messages"
    ):
        parents[message_hash], roles[message_hash] = parent_hash, role
    texts = _texts(db, fragments, found)
    answers: dict[str, tuple[str | None, float | None]] = {}
    if turns:
        for tip, model, when in db.execute(
            "SELECT tip_message_hash, model, datetime_utc FROM turns"
        ):
            answers[tip] = (model, utc_timestamp(when))
    threads = db.execute(
        "SELECT id, name, tip_message_hash, forked_from, datetime_utc FROM threads"
        " ORDER BY datetime_utc, id"
    ).fetchall()
    family: dict[str, str] = {}
    """thread id -> the thread at the top of its forks."""
    forked = {thread_id: parent for thread_id, _, _, parent, _ in threads}
    for thread_id, *_ in threads:
        top, seen = thread_id, set()
        while forked.get(top) in forked and top not in seen:
            seen.add(top)
            top = forked[top]
        family[thread_id] = top
    trees: dict[str, tuple[Conversation, dict[str, Message]]] = {}
    for thread_id, name, tip, _, when in threads:
        top = family[thread_id]
        if top not in trees:
            conversation = Conversation(
                title=str(name or ""), created_at=utc_timestamp(when) or 0.0
            )
            trees[top] = (conversation, {})
        conversation, made = trees[top]
        path: list[str] = []
        node, guard = tip, 0
        while node is not None and guard < 1_000_000:
            path.append(node)
            node, guard = parents.get(node), guard + 1
        parent = conversation.root
        for message_hash in reversed(path):
            if message_hash in made:
                parent = made[message_hash]
                continue
            role, text = roles.get(message_hash), texts.get(message_hash, "")
            if role == "system":
                conversation.system_prompt = conversation.system_prompt or text or None
                made[message_hash] = parent
                continue
            kind = ROLES.get(str(role))
            if kind is None or not text:
                found.skipped["tool calls and messages with no text"] += 1
                made[message_hash] = parent
                continue
            model, moment = answers.get(message_hash, (None, None))
            message = Message(kind, text, model=model, created_at=moment or conversation.created_at)
            made[message_hash] = parent = conversation.attach(message, parent)
            conversation.model = conversation.model or model
    for top, (conversation, _) in trees.items():
        found.add(f"thread:{top}", conversation)


def _texts(db: sqlite3.Connection, fragments: bool, found: Found) -> dict[str, str]:
    """Each message's text parts joined (fragments put back in their places)."""
    pieces: dict[str, list[str]] = {}
    stored = dict(db.execute("SELECT id, content FROM fragments").fetchall()) if fragments else {}
    for message_hash, kind, text, payload in db.execute(
        "SELECT message_hash, type, text, payload FROM parts ORDER BY message_hash, position"
    ):
        if kind != "text":
            if kind != "reasoning":
                found.skipped[f"{kind} parts"] += 1
            continue
        if text is None and payload:
            decoded = json.loads(payload)
            refs = decoded.get("text_ref", []) if isinstance(decoded, dict) else []
            text = "".join(
                str(piece["literal"])
                if "literal" in piece
                else str(stored.get(piece["fragment"], ""))
                for piece in refs
            )
        pieces.setdefault(message_hash, []).append(str(text or ""))
    return {key: "".join(value) for key, value in pieces.items()}

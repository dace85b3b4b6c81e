"""ChatGPT's data export: `conversations.json` (or the zip it comes in).

A list of conversations, each with `title`, `create_time`, `update_time`, `current_node`
and `mapping`: node id -> `{id, message, parent, children}`. The mapping is already a
tree: branches are nodes with several children (an edited prompt, a regenerated reply),
and `current_node` is the end of the branch that was shown. A message has `author.role`,
`content.content_type` and `content.parts`; hidden system nodes carry
`metadata.is_visually_hidden_from_conversation`. Only what a person wrote and the model
answered in text is imported; the rest is counted as skipped, by kind.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from tui.chat.conversation import Conversation
from tui.chat.message import Message
from tui.imports.found import ROLES, Found, ImportFailed


def looks_like_chatgpt(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return "conversations.json" in archive.namelist()
        except (OSError, zipfile.BadZipFile):
            return False
    if path.suffix.lower() != ".json":
        return False
    try:
        with path.open("rb") as file:
            start = file.read(4096).lstrip()
    except OSError:
        return False
    return start.startswith(b"[") and b'"mapping"' in start


def read_chatgpt(path: Path) -> Found:
    name = str(path)
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                raw = archive.read("conversations.json")
            name = f"{path} (conversations.json)"
        else:
            raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise ImportFailed(f"{name}: cannot be read ({error})") from error
    except ValueError as error:
        raise ImportFailed(f"{name}: not valid JSON ({error})") from error
    if not isinstance(data, list):
        raise ImportFailed(f"{name}: expected a list of conversations, found {type(data).__name__}")
    found = Found("ChatGPT export")
    for index, item in enumerate(data):
        where = f"{name}, conversation {index + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("mapping"), dict):
            raise ImportFailed(f"{where}: no 'mapping' of messages")
        source_id = str(item.get("conversation_id") or item.get("id") or f"#{index + 1}")
        try:
            conversation = _conversation(item, where, found)
        except (TypeError, AttributeError, ValueError) as error:
            raise ImportFailed(f"{where}: an unexpected shape ({error})") from error
        updated = _time(item.get("update_time")) or conversation.created_at
        found.add(source_id, conversation, updated)
    return found


def _conversation(item: dict[str, Any], where: str, found: Found) -> Conversation:
    mapping: dict[str, Any] = item["mapping"]
    conversation = Conversation(
        title=" ".join(str(item.get("title") or "").split())[:200],
        created_at=_time(item.get("create_time")) or 0.0,
    )
    made: dict[str, Message] = {}
    """Node id -> the message it became, or the nearest kept ancestor's."""
    roots = [
        node_id
        for node_id, node in mapping.items()
        if not isinstance(node, dict) or _id(node.get("parent")) not in mapping
    ]
    stack: list[tuple[str, Message]] = [(node_id, conversation.root) for node_id in reversed(roots)]
    seen: set[str] = set()
    while stack:  # no recursion: a conversation may be thousands of nodes deep
        node_id, parent = stack.pop()
        if node_id in seen:
            raise ImportFailed(f"{where}: node {node_id!r} appears twice in the tree")
        seen.add(node_id)
        node = mapping.get(node_id)
        if not isinstance(node, dict):
            raise ImportFailed(f"{where}: node {node_id!r} is not an object")
        message = _message(node.get("message"), found, conversation)
        if message is not None:
            conversation.attach(message, parent)
            if not conversation.model and message.model:
                conversation.model = message.model
        here = message or parent
        made[node_id] = here
        children = node.get("children") or []
        if not isinstance(children, list):
            raise ImportFailed(f"{where}: node {node_id!r} has children that are not a list")
        stack.extend((child, here) for child in reversed(children) if _id(child) in mapping)
    _choose_path(conversation, made.get(str(item.get("current_node"))))
    return conversation


def _message(message: object, found: Found, conversation: Conversation) -> Message | None:
    if not isinstance(message, dict):
        return None
    author = message.get("author")
    role = ROLES.get(str(author.get("role"))) if isinstance(author, dict) else None
    found_metadata = message.get("metadata")
    metadata: dict[str, Any] = found_metadata if isinstance(found_metadata, dict) else {}
    if metadata.get("is_visually_hidden_from_conversation"):
        found.skipped["hidden messages"] += 1
        return None
    if role is None:
        found.skipped["system and tool messages"] += 1
        return None
    content = message.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    texts = [part for part in parts if isinstance(part, str)] if isinstance(parts, list) else []
    if isinstance(parts, list) and len(texts) < len(parts):
        found.skipped["images and files (not imported)"] += len(parts) - len(texts)
    text = "\n".join(texts).strip()
    if not text:
        if content is not None:
            found.skipped["messages with no text"] += 1
        return None
    model = metadata.get("model_slug")
    return Message(
        role,
        text,
        model=model if isinstance(model, str) else None,
        created_at=_time(message.get("create_time")) or conversation.created_at,
    )


def _choose_path(conversation: Conversation, end: Message | None) -> None:
    """The branch that was shown in ChatGPT is the one shown here."""
    if end is not None and end is not conversation.root:
        conversation.reveal(end)


def _time(value: object) -> float | None:
    """Seconds since 1970, as the export writes them; anything else (or absurd) is None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        return float(value)
    return None


def _id(value: object) -> str | None:
    """A node id as the mapping keys it; a list or object in its place is no id."""
    return value if isinstance(value, str) else None

"""`tui-chat import SOURCE`: finds the format, reads all of it, then stores each
conversation whole; says what it found, imported and skipped (and why)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tui.imports.chatgpt import looks_like_chatgpt, read_chatgpt
from tui.imports.found import Found, ImportFailed
from tui.imports.llm_logs import is_llm_logs, read_llm
from tui.imports.sqlite_sources import is_sqlite, kind_of, open_read_only, read_elia, read_oterm
from tui.store import Store

SOURCES = (
    "a ChatGPT data export (conversations.json, or its zip), llm's logs.db, elia's "
    "elia.sqlite or oterm's store.db"
)


def read_source(path: Path) -> Found:
    """Everything the source holds, read before anything is written: a malformed file
    stops here, naming the place, with nothing stored."""
    if not path.exists():
        raise ImportFailed(f"{path} does not exist")
    if looks_like_chatgpt(path):
        return read_chatgpt(path)
    if is_sqlite(path):
        try:
            return _read_sqlite(path)
        except sqlite3.Error as error:  # truncated or damaged
            raise ImportFailed(f"{path}: a damaged SQLite file ({error})") from error
    raise ImportFailed(f"{path}: not a format tui-chat can import ({SOURCES})")


def _read_sqlite(path: Path) -> Found:
    with contextlib.closing(open_read_only(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if is_llm_logs(tables):
            return read_llm(path, db, tables)
        kind = kind_of(db)
        if kind == "elia":
            return read_elia(path, db)
        if kind == "oterm":
            return read_oterm(path, db)
    raise ImportFailed(f"{path}: not a format tui-chat can import ({SOURCES})")


def import_into(store: Store, path: Path) -> str:
    """Imports `path` into `store`; returns the report."""
    found = read_source(path)
    imported = messages = 0
    already = 0
    for source_id, conversation, updated in found.conversations:
        if store.import_conversation(conversation, found.format, source_id, updated):
            imported += 1
            messages += sum(1 for _ in conversation.all_messages())
        else:
            already += 1
    lines = [
        f"{path}: {found.format}, {_counted(len(found.conversations), 'conversation')} found",
        f"imported {_counted(imported, 'conversation')} ({_counted(messages, 'message')}, "
        "every branch kept)",
    ]
    if already:
        lines.append(f"skipped {_counted(already, 'conversation')} imported before")
    for why, count in sorted(found.skipped.items()):
        lines.append(f"skipped {count:,} {why}")
    return "\n".join(lines)


def _counted(count: int, noun: str) -> str:
    """A count in words: 1 conversation, 2 conversations, 5,120 messages."""
    return f"{count} {noun}" if count == 1 else f"{count:,} {noun}s"

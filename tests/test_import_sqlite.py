"""`tui-chat import` of elia's and oterm's SQLite histories (schemas as their current
releases create them): read-only, branches kept, twice imports nothing new."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer
from tui.store import Store

ELIA_SCHEMA = """
CREATE TABLE system_prompt (id INTEGER PRIMARY KEY, title VARCHAR NOT NULL,
    prompt VARCHAR NOT NULL, created_at DATETIME DEFAULT (CURRENT_TIMESTAMP));
CREATE TABLE chat (id INTEGER PRIMARY KEY, model VARCHAR NOT NULL, title VARCHAR,
    started_at DATETIME DEFAULT (CURRENT_TIMESTAMP), archived BOOLEAN NOT NULL);
CREATE TABLE message (id INTEGER PRIMARY KEY, chat_id INTEGER REFERENCES chat (id),
    role VARCHAR NOT NULL, content VARCHAR NOT NULL,
    timestamp DATETIME DEFAULT (CURRENT_TIMESTAMP), meta JSON,
    parent_id INTEGER REFERENCES message (id), model VARCHAR);
"""
OTERM_SCHEMA = """
CREATE TABLE IF NOT EXISTS "chat" ("id" INTEGER, "name" TEXT, "model" TEXT NOT NULL,
    "system" TEXT, "provider" TEXT DEFAULT "ollama", "parameters" TEXT DEFAULT "{}",
    "tools" TEXT DEFAULT "[]", "thinking" BOOLEAN DEFAULT 0,
    PRIMARY KEY("id" AUTOINCREMENT));
CREATE TABLE IF NOT EXISTS "message" ("id" INTEGER, "chat_id" INTEGER NOT NULL,
    "author" TEXT NOT NULL, "text" TEXT NOT NULL, "images" TEXT DEFAULT "[]",
    PRIMARY KEY("id" AUTOINCREMENT),
    FOREIGN KEY("chat_id") REFERENCES "chat"("id") ON DELETE CASCADE);
"""


def make_db(path: Path, schema: str, rows: list[tuple[str, tuple]]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(schema)
        for sql, values in rows:
            db.execute(sql, values)
        db.commit()


def test_an_elia_history_comes_in_with_its_branches_and_system_prompt(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    source = tmp_path / "elia.sqlite"
    message = (
        "INSERT INTO message (id, chat_id, role, content, timestamp, parent_id, model)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    make_db(
        source,
        ELIA_SCHEMA,
        [
            (
                "INSERT INTO chat VALUES (?, ?, ?, ?, ?)",
                (1, "gpt-4o", "Haiku", "2025-03-01 10:00:00", 0),
            ),
            (message, (1, 1, "system", "Be brief.", "2025-03-01 10:00:00", None, None)),
            (message, (2, 1, "user", "A haiku on rain", "2025-03-01 10:00:01", 1, None)),
            (
                message,
                (3, 1, "assistant", "Rain taps the window", "2025-03-01 10:00:02", 2, "gpt-4o"),
            ),
            (
                message,
                (
                    4,
                    1,
                    "assistant",
                    "Soft rain on tin roofs",
                    "2025-03-01 10:00:09",
                    2,
                    "gpt-4o-mini",
                ),
            ),
        ],
    )
    before = source.read_bytes()
    db = tmp_path / "history.sqlite3"
    result = run_cli(server.base_url, "--db", str(db), "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "elia history, 1 conversation found" in result.stdout
    assert "imported 1 conversation (3 messages" in result.stdout
    assert source.read_bytes() == before
    assert not list(tmp_path.glob("elia.sqlite-*")), "no journal or WAL file was made"
    store = Store.open(db)
    conversation = store.load_conversation(store.list_conversations()[0].id)
    assert conversation is not None
    assert conversation.system_prompt == "Be brief." and conversation.title == "Haiku"
    prompt = conversation.messages[0]
    assert [reply.content for reply in prompt.children] == [
        "Rain taps the window",
        "Soft rain on tin roofs",
    ]
    assert conversation.messages[1].model == "gpt-4o-mini"
    assert prompt.created_at == 1740823201.0
    again = run_cli(server.base_url, "--db", str(db), "import", str(source))
    assert "imported 0 conversations" in again.stdout


def test_an_oterm_history_comes_in_in_order(server: OpenAIStyleServer, tmp_path: Path) -> None:
    source = tmp_path / "store.db"
    message = "INSERT INTO message (chat_id, author, text, images) VALUES (?, ?, ?, ?)"
    make_db(
        source,
        OTERM_SCHEMA,
        [
            (
                "INSERT INTO chat (id, name, model, system) VALUES (?, ?, ?, ?)",
                (1, "Llamas", "llama3.2", "You are kind."),
            ),
            (message, (1, "user", "Tell me about llamas", "[]")),
            (message, (1, "assistant", "They hum.", "[]")),
            (message, (1, "user", "And this picture?", '["iVBORw0KGgo="]')),
            (message, (1, "assistant", "A llama.", "[]")),
        ],
    )
    db = tmp_path / "history.sqlite3"
    result = run_cli(server.base_url, "--db", str(db), "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "oterm history, 1 conversation found" in result.stdout
    assert "skipped 1 images and files (not imported)" in result.stdout
    store = Store.open(db)
    conversation = store.load_conversation(store.list_conversations()[0].id)
    assert conversation is not None
    assert [m.content for m in conversation.messages] == [
        "Tell me about llamas",
        "They hum.",
        "And this picture?",
        "A llama.",
    ]
    assert conversation.system_prompt == "You are kind." and conversation.model == "llama3.2"


def test_an_unknown_sqlite_file_is_refused_by_name(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    source = tmp_path / "other.db"
    make_db(source, "CREATE TABLE things (id INTEGER);", [])
    result = run_cli(server.base_url, "--db", str(tmp_path / "h.sqlite3"), "import", str(source))
    assert result.returncode == 1
    assert "not a format tui-chat can import" in result.stderr


def test_a_truncated_history_is_refused_by_name_with_nothing_stored(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    whole = tmp_path / "whole.sqlite"
    make_db(whole, ELIA_SCHEMA, [])
    source = tmp_path / "elia.sqlite"
    source.write_bytes(whole.read_bytes()[:1500])  # the header survives, the pages do not
    db = tmp_path / "h.sqlite3"
    result = run_cli(server.base_url, "--db", str(db), "import", str(source))
    assert result.returncode == 1
    assert f"{source}: a damaged SQLite file" in result.stderr
    assert "Traceback" not in result.stderr
    assert Store.open(db).list_conversations() == []

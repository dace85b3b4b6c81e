"""`tui-chat import` of `llm`'s logs.db as release 0.36 leaves it: the older
`conversations`/`responses` tables and the content-addressed `messages`/`parts`/`threads`
store, whose forks become branches. Schema written from llm's own migrations."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer
from tui.store import Store

SCHEMA = """
CREATE TABLE conversations (id TEXT PRIMARY KEY, name TEXT, model TEXT);
CREATE TABLE responses (id TEXT PRIMARY KEY, model TEXT, prompt TEXT, system TEXT,
    prompt_json TEXT, options_json TEXT, response TEXT, response_json TEXT,
    conversation_id TEXT REFERENCES conversations(id), duration_ms INTEGER,
    datetime_utc TEXT, input_tokens INTEGER, output_tokens INTEGER);
CREATE TABLE fragments (id INTEGER PRIMARY KEY, hash TEXT, content TEXT,
    datetime_utc TEXT, source TEXT);
CREATE TABLE messages (hash TEXT PRIMARY KEY, parent_hash TEXT REFERENCES messages(hash),
    role TEXT, provider_metadata TEXT);
CREATE TABLE parts (id INTEGER PRIMARY KEY, message_hash TEXT REFERENCES messages(hash),
    position INTEGER, type TEXT, tool_name TEXT, text TEXT, payload TEXT);
CREATE TABLE threads (id TEXT PRIMARY KEY, name TEXT, tip_message_hash TEXT,
    forked_from TEXT, datetime_utc TEXT);
CREATE TABLE turns (id TEXT PRIMARY KEY, thread_id TEXT, parent_message_hash TEXT,
    tip_message_hash TEXT, model TEXT, resolved_model TEXT, options_json TEXT,
    schema_id TEXT, input_tokens INTEGER, output_tokens INTEGER, token_details TEXT,
    duration_ms INTEGER, datetime_utc TEXT);
"""


def make_logs(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(SCHEMA)
        db.execute("INSERT INTO conversations VALUES ('c1', 'Old chat', 'gpt-4o-mini')")
        response = (
            "INSERT INTO responses (id, model, prompt, system, response, conversation_id,"
            " datetime_utc) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        db.execute(response, ("r1", "gpt-4o-mini", "Old question", "Be terse", "Old answer",
                              "c1", "2024-05-01T10:00:00"))  # fmt: skip
        db.execute(response, ("r2", "gpt-4o-mini", "Second", "Be terse", "Second answer",
                              "c1", "2024-05-01T10:01:00"))  # fmt: skip
        db.execute("INSERT INTO fragments VALUES (7, 'x', 'FRAGMENT TEXT', '', '')")
        messages = [
            ("sys", None, "system", "You help."),
            ("u1", "sys", "user", "First new question"),
            ("a1", "u1", "assistant", None),
            ("u2", "a1", "user", "Follow-up"),
            ("a2", "u2", "assistant", "Follow-up answer"),
            ("u2b", "a1", "user", "Other follow-up"),
            ("a2b", "u2b", "assistant", "Other answer"),
        ]
        for digest, parent, role, text in messages:
            db.execute("INSERT INTO messages VALUES (?, ?, ?, NULL)", (digest, parent, role))
            payload = None
            if text is None:  # text that borrows a fragment lives in the payload
                refs = [{"literal": "Answer with "}, {"fragment": 7}]
                payload = json.dumps({"text_ref": refs})
            db.execute(
                "INSERT INTO parts (message_hash, position, type, text, payload)"
                " VALUES (?, 0, 'text', ?, ?)",
                (digest, text, payload),
            )
        db.execute(
            "INSERT INTO threads VALUES ('t1', 'New chat', 'a2', NULL, '2025-01-01T00:00:00')"
        )
        db.execute("INSERT INTO threads VALUES ('t2', NULL, 'a2b', 't1', '2025-01-01T00:05:00')")
        db.execute(
            "INSERT INTO turns (id, thread_id, tip_message_hash, model, datetime_utc)"
            " VALUES ('turn1', 't1', 'a1', 'claude-x', '2025-01-01T00:00:30')"
        )
        db.commit()


def test_llm_logs_come_in_from_both_stores_with_forks_as_branches(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    source = tmp_path / "logs.db"
    make_logs(source)
    before = source.read_bytes()
    db = tmp_path / "history.sqlite3"
    result = run_cli(server.base_url, "--db", str(db), "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "llm logs, 2 conversations found" in result.stdout
    assert "imported 2 conversations (10 messages" in result.stdout
    assert source.read_bytes() == before
    store = Store.open(db)
    by_title = {item.title: item.id for item in store.list_conversations()}
    old = store.load_conversation(by_title["Old chat"])
    assert old is not None and old.system_prompt == "Be terse"
    assert [m.content for m in old.messages] == [
        "Old question", "Old answer", "Second", "Second answer"
    ]  # fmt: skip
    new = store.load_conversation(by_title["New chat"])
    assert new is not None and new.system_prompt == "You help."
    answer = new.messages[1]
    assert answer.content == "Answer with FRAGMENT TEXT" and answer.model == "claude-x"
    assert [child.content for child in answer.children] == ["Follow-up", "Other follow-up"]
    again = run_cli(server.base_url, "--db", str(db), "import", str(source))
    assert "imported 0 conversations" in again.stdout

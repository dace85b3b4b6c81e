"""`tui-chat import` of a ChatGPT data export: every branch kept, the shown branch shown,
run twice imports nothing new, a malformed file names the place and stores nothing, and
the source is never modified. The fixture follows the export's documented shape."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer
from tui.chat.message import Role
from tui.store import Store


def node(node_id: str, parent: str | None, children: list[str], message: Any) -> dict:
    return {"id": node_id, "parent": parent, "children": children, "message": message}


def said(role: str, text: str | list, when: float, **metadata: Any) -> dict:
    parts = text if isinstance(text, list) else [text]
    return {
        "author": {"role": role},
        "create_time": when,
        "content": {"content_type": "text", "parts": parts},
        "metadata": metadata,
    }


def export() -> list[dict]:
    branched = {
        "title": "Sorting  algorithms",
        "conversation_id": "conv-1",
        "create_time": 1_700_000_000.0,
        "update_time": 1_700_000_500.0,
        "current_node": "a2",
        "mapping": {
            "root": node("root", None, ["sys"], None),
            "sys": node(
                "sys",
                "root",
                ["u1", "u2"],
                said("system", "", 1_700_000_000.0, is_visually_hidden_from_conversation=True),
            ),
            "u1": node("u1", "sys", ["a1"], said("user", "Name a sorting algorithm", 1.7e9 + 10)),
            "a1": node(
                "a1", "u1", [], said("assistant", "Quicksort.", 1.7e9 + 20, model_slug="gpt-4o")
            ),
            "u2": node(
                "u2",
                "sys",
                ["a2"],
                said(
                    "user",
                    ["Name a stable one", {"content_type": "image_asset_pointer"}],
                    1.7e9 + 30,
                ),
            ),
            "a2": node(
                "a2", "u2", [], said("assistant", "Merge sort.", 1.7e9 + 40, model_slug="gpt-4o")
            ),
        },
    }
    simple = {
        "title": "Hello",
        "id": "conv-2",
        "create_time": 1_700_001_000.0,
        "update_time": 1_700_001_100.0,
        "current_node": "b",
        "mapping": {
            "a": node("a", None, ["b"], said("user", "Hi", 1_700_001_000.0)),
            "b": node("b", "a", [], said("assistant", "Hello!", 1_700_001_010.0)),
        },
    }
    return [branched, simple]


def write_export(folder: Path, data: Any) -> Path:
    path = folder / "conversations.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def import_cli(server: OpenAIStyleServer, db: Path, source: Path):  # type: ignore[no-untyped-def]
    return run_cli(server.base_url, "--db", str(db), "import", str(source))


def test_a_chatgpt_export_comes_in_with_every_branch_and_the_shown_one_chosen(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    source = write_export(tmp_path, export())
    before = source.read_bytes()
    db = tmp_path / "history.sqlite3"
    result = import_cli(server, db, source)
    assert result.returncode == 0, result.stderr
    assert "ChatGPT export, 2 conversations found" in result.stdout
    assert "imported 2 conversations (6 messages, every branch kept)" in result.stdout
    assert "skipped 1 hidden messages" in result.stdout
    assert "skipped 1 images and files (not imported)" in result.stdout
    assert source.read_bytes() == before, "the source is never modified"
    store = Store.open(db)
    listed = {item.title: item for item in store.list_conversations()}
    assert set(listed) == {"Sorting algorithms", "Hello"}
    sorting = store.load_conversation(listed["Sorting algorithms"].id)
    assert sorting is not None
    assert len(sorting.root.children) == 2, "the edited prompt is a branch"
    assert [m.content for m in sorting.messages] == ["Name a stable one", "Merge sort."]
    assert sorting.messages[1].model == "gpt-4o" and sorting.model == "gpt-4o"
    assert sorting.messages[0].role is Role.USER
    assert listed["Sorting algorithms"].updated_at == 1_700_000_500.0


def test_importing_twice_imports_nothing_new_and_a_zip_works_too(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    source = write_export(tmp_path, export())
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.write(source, "conversations.json")
    db = tmp_path / "history.sqlite3"
    assert import_cli(server, db, archive).returncode == 0
    again = import_cli(server, db, source)
    assert again.returncode == 0
    assert "imported 0 conversations" in again.stdout
    assert "skipped 2 conversations imported before" in again.stdout
    assert len(Store.open(db).list_conversations()) == 2


def test_a_malformed_export_names_the_place_and_stores_nothing(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    broken = export()
    broken[1]["mapping"] = "not a tree"
    source = write_export(tmp_path, broken)
    db = tmp_path / "history.sqlite3"
    result = import_cli(server, db, source)
    assert result.returncode == 1
    assert f"{source}, conversation 2: no 'mapping' of messages" in result.stderr
    assert "Traceback" not in result.stderr
    assert Store.open(db).list_conversations() == []
    source.write_text('[{"mapping": {', encoding="utf-8")
    result = import_cli(server, db, source)
    assert result.returncode == 1 and "not valid JSON" in result.stderr
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    result = import_cli(server, db, other)
    assert result.returncode == 1 and "not a format tui-chat can import" in result.stderr


def test_odd_shapes_in_an_export_are_refused_or_skipped_without_a_traceback(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    odd = export()
    odd[0]["mapping"]["a1"]["parent"] = ["u1"]  # a list where an id belongs
    odd[0]["mapping"]["u1"]["children"] = [{"id": "a1"}]
    odd[1]["create_time"] = 10**400
    source = write_export(tmp_path, odd)
    result = import_cli(server, tmp_path / "h.sqlite3", source)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert "imported 2 conversations" in result.stdout

"""Files and folders with conversation data are the user's alone, whatever the umask, and
an export shown in a terminal cannot drive it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIStyleServer
from tui.chat import Conversation
from tui.chat.message import Message, Role
from tui.store import Store

HOSTILE = "clear\u009b2J and \u202emirrored\u202c and \x1b]52;c;aGk=\x07 end"


def test_folders_made_with_umask_000_are_private(tmp_path: Path) -> None:
    data = tmp_path / "a" / "b" / "history.sqlite3"
    script = (
        "import os, sys\nfrom pathlib import Path\nos.umask(0)\n"
        "from tui.store import Store\nStore.open(Path(sys.argv[1])).close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(data)], check=True, timeout=60)
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(data.stat().st_mode) == 0o600


def test_json_export_to_a_terminal_carries_no_raw_control_or_bidi_character(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    path = tmp_path / "h.sqlite3"
    store = Store.open(path)
    conversation = Conversation(model="m")
    conversation.append(Message(Role.USER, "show me"))
    conversation.append(Message(Role.ASSISTANT, HOSTILE))
    store.save_conversation(conversation, None)
    for message in conversation.messages:
        store.save_message(conversation, message)
    store.close()
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--db", str(path), "export", "1", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OPENAI_API_KEY": TEST_KEY},
    )
    assert result.returncode == 0, result.stderr
    assert not any(0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in result.stdout)
    assert "\x1b" not in result.stdout
    assert json.loads(result.stdout)["messages"][1]["content"] == HOSTILE, "the same text"

"""Snapshot tests of the main screens at 80x24 and 160x48 (pytest-textual-snapshot).

Every screen here is built from stored history, so no server, port or clock shows in it.
Regenerate after a deliberate UI change with `pytest tests/test_snapshots.py
--snapshot-update`, then look at the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tui.chat import Conversation
from tui.chat.message import Message, MessageStatus, Role, Usage
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.widgets.key_footer import SETTLE_SECONDS

SIZES = [(80, 24), (160, 48)]
REPLY = (
    "## A plan\n\nThree steps, **in order**:\n\n1. Measure\n2. Change one thing\n3. Measure again\n"
    "\n```python\ndef measure(run):\n    return min(run() for _ in range(5))\n```\n\n"
    "| step | cost |\n|---|---|\n| measure | 5 runs |\n| change | one line |\n"
)


def stored_app(tmp_path: Path, *, failed: bool = False) -> ChatApp:
    settings = Settings(
        model="demo-model",
        base_url="http://127.0.0.1:9/v1",
        api_key="sk-demo",
        db_path=tmp_path / "history.sqlite3",
    )
    store = Store.open(settings.db_path)
    conversation = Conversation(model="demo-model", title="Planning")
    conversation.append(Message(Role.USER, "How do I speed this up?"))
    if failed:
        conversation.append(
            Message(
                Role.ASSISTANT,
                "Start by",
                status=MessageStatus.ERROR,
                model="demo-model",
                error="Service unavailable (503) — loading — Press Ctrl+R to try again.",
            )
        )
    else:
        conversation.append(Message(Role.ASSISTANT, REPLY, model="demo-model", usage=Usage(12, 60)))
    store.save_conversation(conversation, settings.endpoint_label)
    for message in conversation.messages:
        store.save_message(conversation, message)
    store.close()
    return ChatApp(settings, continue_last=True)


async def steady_cursor(pilot: Any) -> None:
    """The prompt's cursor blinks on a timer: where in its cycle a snapshot falls depends
    on how long start-up took, so it is held still for the picture."""
    for prompt in pilot.app.query("PromptInput"):
        prompt.cursor_blink = False


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_conversation(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(stored_app(tmp_path), terminal_size=size, run_before=steady_cursor)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_failed_reply(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(
        stored_app(tmp_path, failed=True), terminal_size=size, run_before=steady_cursor
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_help(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(
        stored_app(tmp_path), press=["f1"], terminal_size=size, run_before=steady_cursor
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_selected_message(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    # The footer changes its keys within `SETTLE_SECONDS` of a move, on a timer that a
    # pause does not wait for: the picture is taken after it (once, in CI, before it).
    settled = f"wait:{int(SETTLE_SECONDS * 1000) + 70}"
    assert snap_compare(
        stored_app(tmp_path),
        press=["ctrl+up", settled],
        terminal_size=size,
        run_before=steady_cursor,
    )

"""Small choices the app remembers between runs (the theme picked in the app), kept in a
private JSON file beside the history, never in the user's hand-written config file."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from tui.private_files import make_private_folder

FILE_NAME = "remembered.json"


def load_remembered(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: the defaults will do
    return data if isinstance(data, dict) else {}


def remember(folder: Path, **values: Any) -> None:
    data = {**load_remembered(folder), **values}
    with contextlib.suppress(OSError):
        make_private_folder(folder)
        path = folder / FILE_NAME
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file)

"""Shared fixtures: a real OpenAI-style server on 127.0.0.1 and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.openai_server import OpenAIStyleServer
from tui.config import Settings

TEST_KEY = "sk-test-KEY-9f3b2c7d1e"
"""Distinctive, so a test can grep every file the app writes for it."""


@pytest.fixture
def server() -> Iterator[OpenAIStyleServer]:
    running = OpenAIStyleServer().start()
    yield running
    running.stop()


@pytest.fixture
def settings(server: OpenAIStyleServer, tmp_path: Path) -> Settings:
    return Settings(
        model="test-model",
        base_url=server.base_url,
        api_key=TEST_KEY,
        max_retries=0,
        idle_timeout=5.0,
        db_path=tmp_path / "history.sqlite3",
    )

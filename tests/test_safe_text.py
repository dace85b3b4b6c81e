"""Model output can never drive the terminal: control sequences become visible text."""

from __future__ import annotations

from tui.chat.safe_text import is_safe, make_safe


def test_escape_sequences_become_visible() -> None:
    hostile = "a\x1b[2Jb\x1b]52;c;ZXZpbA==\x07c\x1b]8;;http://x\x1b\\link\x9b31m\u202eevil"
    shown = make_safe(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\u202e" not in shown
    assert "␛[2J" in shown and "<U+202E>" in shown
    assert is_safe(shown)


def test_ordinary_text_is_unchanged() -> None:
    text = "Héllo\n\tcode → 日本語 `x` **y** 🙂"
    assert make_safe(text) == text

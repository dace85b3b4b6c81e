"""Makes untrusted model text harmless to a terminal while keeping it readable.

Textual and a plain terminal both pass control characters through raw, so a model could
clear the screen (CSI), write the clipboard (OSC 52), plant links (OSC 8) or reorder text
(bidi overrides). Every control character is replaced by a visible picture instead of being
dropped, so the user can still see that something odd was sent.
"""

from __future__ import annotations

_KEEP = {"\n", "\t"}
_CONTROL_PICTURES_START = 0x2400  # "␀": U+2400 + code point for C0 controls
_DELETE_PICTURE = "\u2421"  # "␡"
BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) not in _KEEP:
            table[code] = chr(_CONTROL_PICTURES_START + code)
    table[0x7F] = _DELETE_PICTURE
    for code in range(0x80, 0xA0):
        table[code] = f"<U+{code:04X}>"
    for code in BIDI_CONTROLS:
        table[code] = f"<U+{code:04X}>"
    # A carriage return alone would move the cursor; as part of CRLF it is just noise.
    table[0x0D] = ""
    return table


_TABLE = _build_table()


def make_safe(text: str) -> str:
    """Returns `text` with every terminal control character shown as a visible stand-in."""
    return text.translate(_TABLE)


def is_safe(text: str) -> bool:
    return not any(ord(char) in _TABLE for char in text)

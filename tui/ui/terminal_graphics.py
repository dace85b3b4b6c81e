"""Whether this terminal draws pictures, asked once before Textual starts.

A prompt's images get a thumbnail where the terminal speaks a graphics protocol (kitty's, or
sixel) and only their chip elsewhere. Drawing goes through the optional `textual-image`
package (`pip install 'tui-chat[images]'`). It asks the terminal what it can do by writing a
query and reading the answer from stdin, which works only before Textual's input thread
owns stdin: so `prepare` runs before the app, and only where a picture is likely, since
a terminal that never answers costs the query's timeout (0.1 s) at every start.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.widget import Widget

    from tui.chat.images import ImagePart


NO_ANSWER = (
    'thumbnails = "on": this terminal did not say it draws pictures (sixel or kitty\'s '
    "graphics protocol); images are shown by name"
)
EXTRA_MISSING = (
    "thumbnails = \"on\" needs the images extra: pip install 'tui-chat[images]' "
    "(images are shown as their names meanwhile)"
)

_DRAWING_TERMS = ("kitty", "foot", "mlterm", "wezterm", "ghostty", "contour", "rio")
_DRAWING_PROGRAMS = ("WezTerm", "ghostty", "iTerm.app", "mintty", "contour", "rio", "konsole")
_DRAWING_VARIABLES = ("KITTY_WINDOW_ID", "WEZTERM_EXECUTABLE", "KONSOLE_VERSION", "WT_SESSION")

_drawer: Callable[..., Widget] | None = None
"""The thumbnail widget class for this terminal, or None: chips alone. Process-wide, like
the terminal it describes; set by `prepare` (or `use` in tests)."""


def terminal_may_draw(env: Mapping[str, str]) -> bool:
    """The terminals whose environment says they draw pictures: kitty, WezTerm, Ghostty,
    foot, iTerm2, mlterm, Konsole, Windows Terminal, mintty, contour, rio."""
    term = env.get("TERM", "")
    return (
        any(name in term for name in _DRAWING_TERMS)
        or env.get("TERM_PROGRAM", "") in _DRAWING_PROGRAMS
        or any(name in env for name in _DRAWING_VARIABLES)
    )


def prepare(setting: str, env: Mapping[str, str] | None = None) -> str | None:
    """Finds out, before the app starts, how this terminal draws thumbnails. `setting` is
    the config's `thumbnails`: "auto" asks only a terminal whose environment names one that
    draws pictures; "on" asks any (tmux built with sixel, xterm -ti vt340); "off" never.
    Returns a notice for the user when they asked for thumbnails that cannot be had."""
    env = os.environ if env is None else env
    if setting == "off" or not _both_ends_are_a_terminal():
        return None
    if setting == "auto" and not terminal_may_draw(env):
        return None
    if find_spec("textual_image") is None:
        return EXTRA_MISSING if setting == "on" else None
    # Its warnings (a terminal that does not tell its cell size) would print a traceback
    # over the user's shell before the app starts: they go nowhere instead.
    logging.getLogger("textual_image").addHandler(logging.NullHandler())
    try:
        # The import itself asks the terminal (its capabilities and its cell size).
        from textual_image.renderable import Image as best
        from textual_image.renderable.sixel import Image as SixelRenderable
        from textual_image.renderable.tgp import Image as TGPRenderable
        from textual_image.widget import SixelImage, TGPImage
    except Exception:  # a terminal that answers nonsense: no pictures, never no app
        return NO_ANSWER if setting == "on" else None
    if best is SixelRenderable:
        use(_sixel_widget(SixelImage))
    elif best is TGPRenderable:
        use(TGPImage)
    else:
        return NO_ANSWER if setting == "on" else None
    return None


def _sixel_widget(stock: Callable[..., Widget]) -> Callable[..., Widget]:
    try:
        from tui.ui.widgets.sixel_thumbnail import SixelThumbnail, shapes_present
    except Exception:  # a release whose private shapes changed: the stock widget
        return stock
    return SixelThumbnail if shapes_present() else stock


def _both_ends_are_a_terminal() -> bool:
    return all(stream is not None and stream.isatty() for stream in (sys.__stdin__, sys.__stdout__))


def use(drawer: Callable[..., Widget] | None) -> None:
    """Draws thumbnails with `drawer` (a textual-image widget class), or not at all."""
    global _drawer
    _drawer = drawer


def draws_pictures() -> bool:
    return _drawer is not None


def thumbnail(image: ImagePart) -> Widget | None:
    """A thumbnail of `image`, or None when this terminal shows chips only or the bytes
    are not a picture the decoder can read (the chip still names it)."""
    if _drawer is None or not image.data:
        return None
    try:
        return _drawer(io.BytesIO(image.data), classes="thumbnail")
    except Exception:  # the header looked right, the body did not decode: the chip says
        return None

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
from functools import lru_cache
from importlib.util import find_spec
from typing import TYPE_CHECKING

from tui.ui.terminal_queries import quiet_terminal, swallow_late_answers

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
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

THUMBNAIL_PIXELS = (640, 320)
"""The box a picture is shrunk into before drawing: eight rows of the tallest usual cells
(40 px), 48 columns of the widest (13 px); the widget scales it to the cells it has."""

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
    if not asks(setting, env) or not _both_ends_are_a_terminal():
        return None
    if find_spec("textual_image") is None:
        return EXTRA_MISSING if setting == "on" else None
    # Its warnings (a terminal that does not tell its cell size) would print a traceback
    # over the user's shell before the app starts: they go nowhere instead.
    logging.getLogger("textual_image").addHandler(logging.NullHandler())
    drawer = _ask_the_terminal()
    use(drawer)
    return NO_ANSWER if drawer is None and setting == "on" else None


def asks(setting: str, env: Mapping[str, str]) -> bool:
    """Whether the terminal is asked at all: "on" always, "off" never, "auto" where the
    environment names a terminal that draws and no multiplexer stands in between."""
    if setting == "auto":
        return terminal_may_draw(env) and not _inside_a_multiplexer(env)
    return setting == "on"


def _ask_the_terminal() -> Callable[..., Widget] | None:
    with quiet_terminal():
        try:
            # The import itself asks the terminal (its capabilities and its cell size).
            from textual_image.renderable import Image as best
            from textual_image.renderable.sixel import Image as SixelRenderable
            from textual_image.renderable.tgp import Image as TGPRenderable
            from textual_image.widget import SixelImage, TGPImage
        except Exception:  # a terminal that answers nonsense: no pictures, never no app
            return None
        finally:
            swallow_late_answers()
    if best is SixelRenderable:
        return _sixel_widget(SixelImage)
    return TGPImage if best is TGPRenderable else None


def _inside_a_multiplexer(env: Mapping[str, str]) -> bool:
    """tmux and screen pass on the outer terminal's variables (KITTY_WINDOW_ID...) but not
    its pictures, nor kitty's question: "auto" would wait for an answer at every start."""
    term = env.get("TERM", "")
    return "TMUX" in env or term.startswith(("screen", "tmux"))


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
    """Whether thumbnails are drawn in this process (in a graphics protocol's sequences,
    which a screen's kept rows must not replay: `tui.ui.kept_frame`)."""
    return _drawer is not None


def thumbnail(image: ImagePart) -> Widget | None:
    """A thumbnail of `image`, or None when this terminal shows chips only or the bytes
    are not a picture the decoder can read (the chip still names it)."""
    if _drawer is None or not image.data:
        return None
    try:
        return _drawer(_small_picture(image.digest, image.data), classes="thumbnail")
    except Exception:  # the header looked right, the body did not decode: the chip says
        return None


@lru_cache(maxsize=32)
def _small_picture(digest: str, data: bytes) -> PILImage:
    """The picture decoded whole, in RGBA, at thumbnail size, once per image: what the
    widgets are given. Given the file, they decoded it again at every repaint (0.2 s for
    a 6-megapixel photo) and failed mid-frame on what decodes only partly (a truncated
    PNG) or cannot be written as PNG (a CMYK JPEG), which crashed the app there."""
    from PIL import Image

    opened = Image.open(io.BytesIO(data))
    opened.draft("RGB", THUMBNAIL_PIXELS)  # a JPEG decodes straight at a smaller scale
    picture = opened.convert("RGBA")  # (reads every pixel: a broken body raises here)
    picture.thumbnail(THUMBNAIL_PIXELS)
    return picture

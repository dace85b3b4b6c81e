"""textual-image's sixel widget, with the cursor put back where Textual expects it.

After writing the sixel data the widget moves the cursor to the row *below* its last row
(lnqs/textual-image#146, open). Textual's partial updates place every chunk themselves, but
a full repaint (closing a dialog) writes a line's chunks one after another: the rest of the
image's last row then lands on the next row, and the dialog's old text stays beside the
image. Seen in xterm -ti vt340; fixed here by ending on the image's own last row.

Imported only by `terminal_graphics.prepare`, once textual-image is known to be installed
(an ImportError there, from a release without these names, means the stock widget).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.widget import Widget
from textual_image.widget.sixel import Image as SixelImage
from textual_image.widget.sixel import _ImageSixelImpl

_NO_STYLE = Style()


def shapes_present() -> bool:
    """The private shapes this overrides are still there; if a release renames them, the
    stock widget is used (and the stale line comes back) rather than a broken one."""
    return callable(getattr(_ImageSixelImpl, "_get_sixel_segments", None))


class _SixelCells(_ImageSixelImpl):
    def _get_sixel_segments(self, sixel_data: str) -> Iterable[Segment]:
        region = self.screen.find_widget(self).visible_region
        # All three are control segments: written to the terminal, left out of a text or
        # SVG screenshot (plain text, the cursor moves put raw ESC bytes into the SVG).
        return [
            _move_to(region.x, region.y),
            Segment(sixel_data, style=_NO_STYLE, control=((ControlType.CURSOR_FORWARD, 0),)),
            _move_to(region.right, region.bottom - 1),
        ]


def _move_to(x: int, y: int) -> Segment:
    return Segment(
        Control.move_to(x, y).segment.text,
        style=_NO_STYLE,
        control=((ControlType.CURSOR_MOVE_TO, x, y),),
    )


class SixelThumbnail(SixelImage, Renderable=SixelImage._Renderable):
    def compose(self) -> ComposeResult:
        cells: Widget = _SixelCells(self.image, self._sixel_options)
        yield cells

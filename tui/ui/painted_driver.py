"""Textual's terminal driver for an app started over rows painted before it loaded
(`tui.ui.kept_frame`): the same driver, but it does not enter the alternate screen the
rows are on already. Entering it again clears it in xterm and terminals like it: the rows
would go blank until Textual's first frame, some 60 ms later, a flash at every launch.
"""

from __future__ import annotations

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

ENTER_ALTERNATE_SCREEN = "\x1b[?1049h"


class DriverOverPaintedRows(LinuxDriver):
    """Leaves out the first entering of the alternate screen (later ones, after a
    suspend, go through); anything else is Textual's own."""

    _painted_rows_shown = True

    def write(self, data: str) -> None:
        if self._painted_rows_shown and data == ENTER_ALTERNATE_SCREEN:
            self._painted_rows_shown = False
            return
        super().write(data)


def over_painted_rows(driver_class: type[Driver]) -> type[Driver]:
    """The driver to use instead of `driver_class` once rows are painted: Textual's own
    if it is not the usual one (another platform's, or one named by TEXTUAL_DRIVER)."""
    return DriverOverPaintedRows if driver_class is LinuxDriver else driver_class

"""Textual's terminal driver for an app started over rows painted before it loaded
(`tui.ui.painted_rows`): the same driver, but it does not enter the alternate screen the
rows are on already (entering it again clears it in xterm and terminals like it: the rows
would go blank until Textual's first frame, some 60 ms later, a flash at every launch),
and as it ends it puts back the terminal's modes as the shell had them, not the loading's.
"""

from __future__ import annotations

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

from tui.ui.painted_rows import PaintedRows

ENTER_ALTERNATE_SCREEN = "\x1b[?1049h"


class DriverOverPaintedRows(LinuxDriver):
    """Leaves out the first entering of the alternate screen (later ones, after a
    suspend, go through); anything else is Textual's own."""

    painted: PaintedRows
    _rows_shown = True

    def write(self, data: str) -> None:
        if self._rows_shown and data == ENTER_ALTERNATE_SCREEN:
            self._rows_shown = False
            return
        super().write(data)

    def start_application_mode(self) -> None:
        super().start_application_mode()
        shell_modes = self.painted.taken_over()
        if shell_modes is not None and self.attrs_before is not None:
            self.attrs_before = shell_modes


def over_painted_rows(driver_class: type[Driver], painted: PaintedRows) -> type[Driver] | None:
    """The driver to use instead of `driver_class` over `painted`; None if it is not the
    usual one (another platform's, or one named by TEXTUAL_DRIVER): then the terminal is
    handed over as it is (`PaintedRows.hand_over`)."""
    if driver_class is not LinuxDriver:
        return None
    return type("DriverOverPaintedRows", (DriverOverPaintedRows,), {"painted": painted})

"""Picks an image file to attach: a tree of the folders from where the app was started,
showing only folders and images."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Static

from tui.ui.widgets.prompt_input import IMAGE_SUFFIXES


class ImageTree(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            path
            for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES)
        ]


class ImagePickerScreen(ModalScreen[str | None]):
    """Dismissed with the picked file's path, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="image_picker.close")]

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self.start = start or Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical(id="image-picker-panel"):
            yield Static("Attach an image (PNG, JPEG, GIF, WebP)", id="image-picker-title")
            yield ImageTree(self.start, id="image-picker-tree")
            yield Static("Enter opens a folder or attaches an image · Esc closes")

    def on_mount(self) -> None:
        self.query_one(ImageTree).focus()

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))

"""Attaching a text file to a prompt: what is accepted, and how it travels in the message.

Only text goes to a chat model, so binary files are refused, and so are files big enough
to blow a context window or the terminal (`MAX_BYTES`); the reason is said, never guessed.
The file is sent as a fenced block inside the user's message, fenced with more backticks
than the file itself contains so that its own fences cannot end the block early.
"""

from __future__ import annotations

import re
from pathlib import Path

from tui.chat.images import ImagePart, image_part, sniff
from tui.frozen import frozen

MAX_BYTES = 256 * 1024
LANGUAGES = {
    ".py": "python", ".js": "javascript", ".ts": "typescript", ".rs": "rust", ".go": "go",
    ".sh": "sh", ".md": "markdown", ".json": "json", ".toml": "toml", ".yaml": "yaml",
    ".yml": "yaml", ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java", ".rb": "ruby",
    ".html": "html", ".css": "css", ".sql": "sql",
}  # fmt: skip


IMAGE_MAX_BYTES = 20 * 1024 * 1024
"""The default limit for an image (`image_max_mb` in the config): what the big APIs take."""


class AttachmentRefused(Exception):
    """Why a file cannot be attached, in words for the user."""


@frozen
class Attachment:
    name: str
    text: str
    image: ImagePart | None = None
    """An image goes to the model as an image part, not in the prompt's text."""

    @property
    def size_label(self) -> str:
        if self.image is not None:
            return self.image.size_text()
        size = len(self.text.encode())
        return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} B"

    def as_markdown(self) -> str:
        fence = fence_for(self.text)
        language = LANGUAGES.get(Path(self.name).suffix.lower(), "")
        body = self.text if self.text.endswith("\n") else self.text + "\n"
        return f"{self.name}:\n{fence}{language}\n{body}{fence}"


def fence_for(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so it cannot end early.
    Only runs of three or more could; "in" skips the scan when there are none (it took
    0.17 s over a 10 MB paste)."""
    runs = re.findall(r"`{3,}", text) if "```" in text else []
    return "`" * max(3, max((len(run) for run in runs), default=0) + 1)


def read_attachment(path_text: str, image_limit: int = IMAGE_MAX_BYTES) -> Attachment:
    """Reads a text file or an image to attach. The size is judged by reading, never by
    what the file system says: /proc files and pipes say 0 bytes whatever they hold."""
    path = Path(path_text).expanduser()
    if not path.exists():
        raise AttachmentRefused(f"{path_text} does not exist")
    if not path.is_file():
        raise AttachmentRefused(f"{path_text} is not a file")
    try:
        with path.open("rb") as file:
            data = file.read(max(MAX_BYTES, image_limit) + 1)
    except OSError as error:
        raise AttachmentRefused(f"cannot read {path_text}: {error.strerror or error}") from error
    if sniff(data) is not None:
        if len(data) > image_limit:
            raise AttachmentRefused(
                f"{path.name} is {len(data) / 1024 / 1024:.1f} MB, over the limit of "
                f"{image_limit / 1024 / 1024:.1f} MB (image_max_mb in the config file sets it)"
            )
        return Attachment(path.name, "", image_part(path.name, data))
    if len(data) > MAX_BYTES:
        raise AttachmentRefused(
            f"{path.name} is over {MAX_BYTES // 1024} KB; larger files are refused (too big "
            "for most context windows)"
        )
    if b"\0" in data[:8192]:
        raise AttachmentRefused(f"{path.name} is neither text nor a PNG, JPEG, GIF or WebP image")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AttachmentRefused(f"{path.name} is not UTF-8 text") from error
    return Attachment(path.name, text)


def images_of(attachments: list[Attachment]) -> list[ImagePart]:
    return [attachment.image for attachment in attachments if attachment.image is not None]


def with_attachments(prompt: str, attachments: list[Attachment]) -> str:
    texts = [attachment for attachment in attachments if attachment.image is None]
    if not texts:
        return prompt
    blocks = "\n\n".join(attachment.as_markdown() for attachment in texts)
    return f"{prompt}\n\n{blocks}" if prompt.strip() else blocks

"""Attaching a text file to a prompt: what is accepted, and how it travels in the message.

Only text goes to a chat model, so binary files are refused, and so are files big enough
to blow a context window or the terminal (`MAX_BYTES`); the reason is said, never guessed.
The file is sent as a fenced block inside the user's message, fenced with more backticks
than the file itself contains so that its own fences cannot end the block early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 256 * 1024
LANGUAGES = {
    ".py": "python", ".js": "javascript", ".ts": "typescript", ".rs": "rust", ".go": "go",
    ".sh": "sh", ".md": "markdown", ".json": "json", ".toml": "toml", ".yaml": "yaml",
    ".yml": "yaml", ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java", ".rb": "ruby",
    ".html": "html", ".css": "css", ".sql": "sql",
}  # fmt: skip


class AttachmentRefused(Exception):
    """Why a file cannot be attached, in words for the user."""


@dataclass(frozen=True)
class Attachment:
    name: str
    text: str

    @property
    def size_label(self) -> str:
        size = len(self.text.encode())
        return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} B"

    def as_markdown(self) -> str:
        # Only runs of three or more could end the fence early; "in" skips the scan when
        # there are none (it took 0.17 s over a 10 MB paste).
        runs = re.findall(r"`{3,}", self.text) if "```" in self.text else []
        longest_run = max((len(run) for run in runs), default=0)
        fence = "`" * max(3, longest_run + 1)
        language = LANGUAGES.get(Path(self.name).suffix.lower(), "")
        body = self.text if self.text.endswith("\n") else self.text + "\n"
        return f"{self.name}:\n{fence}{language}\n{body}{fence}"


def read_attachment(path_text: str) -> Attachment:
    """Reads a text file to attach. The size is judged by reading, never by what the file
    system says: /proc files and pipes say 0 bytes whatever they hold."""
    path = Path(path_text).expanduser()
    if not path.exists():
        raise AttachmentRefused(f"{path_text} does not exist")
    if not path.is_file():
        raise AttachmentRefused(f"{path_text} is not a file")
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise AttachmentRefused(f"cannot read {path_text}: {error.strerror or error}") from error
    if len(data) > MAX_BYTES:
        raise AttachmentRefused(
            f"{path.name} is over {MAX_BYTES // 1024} KB; larger files are refused (too big "
            "for most context windows)"
        )
    if b"\0" in data[:8192]:
        raise AttachmentRefused(f"{path.name} looks binary; only text files can be attached")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AttachmentRefused(f"{path.name} is not UTF-8 text") from error
    return Attachment(path.name, text)


def with_attachments(prompt: str, attachments: list[Attachment]) -> str:
    if not attachments:
        return prompt
    blocks = "\n\n".join(attachment.as_markdown() for attachment in attachments)
    return f"{prompt}\n\n{blocks}" if prompt.strip() else blocks

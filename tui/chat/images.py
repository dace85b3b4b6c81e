"""Images a prompt carries: what kind, how big, and the bytes, recognised by their own
headers (never by the file name). PNG, JPEG, GIF and WebP: what vision models take."""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


class ImageRefused(Exception):
    """Why a file cannot go to the model as an image, in words for the user."""


@dataclass(slots=True)
class ImagePart:
    """An image in a prompt. The bytes live once in the store (by `digest`), however many
    messages carry them; the part holds what is shown and the bytes while in memory."""

    digest: str
    media_type: str
    name: str
    size: int
    width: int = 0
    height: int = 0
    data: bytes = field(default=b"", repr=False)
    kind = "image"

    @property
    def text(self) -> str:
        """What is stored in the part's row (the bytes go to the blobs table)."""
        return json.dumps(
            {
                "digest": self.digest,
                "media_type": self.media_type,
                "name": self.name,
                "size": self.size,
                "width": self.width,
                "height": self.height,
            }
        )

    @classmethod
    def from_text(cls, text: str) -> ImagePart:
        data = json.loads(text)
        return cls(
            str(data["digest"]),
            str(data["media_type"]),
            str(data.get("name", "")),
            int(data.get("size", 0)),
            int(data.get("width", 0)),
            int(data.get("height", 0)),
        )

    def label(self) -> str:
        """The chip: `photo.png (84 KB, 1280x720)`."""
        return f"{self.name} ({self.size_text()})"

    def size_text(self) -> str:
        """`84 KB, 1280x720`: bytes, and pixels when the header says."""
        size = f"{self.size / 1024:.0f} KB" if self.size >= 1024 else f"{self.size} B"
        if self.size >= 1024 * 1024:
            size = f"{self.size / 1024 / 1024:.1f} MB"
        pixels = f", {self.width}x{self.height}" if self.width and self.height else ""
        return f"{size}{pixels}"

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode()}"


def image_part(name: str, data: bytes) -> ImagePart:
    """The part for an image's bytes; `ImageRefused` for anything else."""
    kind = sniff(data)
    if kind is None:
        raise ImageRefused(f"{name} is not a PNG, JPEG, GIF or WebP image")
    import hashlib  # only when an image is attached: start-up time

    width, height = dimensions(kind, data)
    digest = hashlib.sha256(data).hexdigest()
    return ImagePart(digest, MEDIA_TYPES[kind], name, len(data), width, height, data)


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def dimensions(kind: str, data: bytes) -> tuple[int, int]:
    """Width and height from the header; (0, 0) when the header does not say."""
    try:
        if kind == "png":
            return struct.unpack(">II", data[16:24])
        if kind == "gif":
            return struct.unpack("<HH", data[6:10])
        if kind == "webp":
            return _webp_size(data)
        return _jpeg_size(data)
    except struct.error:
        return 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return 0, 0

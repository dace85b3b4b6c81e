"""Images in prompts: recognised by their bytes, sent as content parts in both APIs,
stored once however often they are sent, restored, exported, and refused with reasons."""

from __future__ import annotations

import base64
import json
import sqlite3
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from tests.image_helpers import png
from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.ui_helpers import chat_screen, screen_text, send_and_settle, type_and_send, wait_until
from tui.attachments import AttachmentRefused, read_attachment
from tui.chat.images import image_part
from tui.config import Settings
from tui.error_words import tell
from tui.export import export_to_file
from tui.session import ChatSession
from tui.store import Store
from tui.ui.app import ChatApp

GIF = b"GIF89a" + struct.pack("<HH", 7, 5) + b"\0" * 20
JPEG = (
    b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0" + b"\0" * 9
    + b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 48, 64) + b"\0" * 10
)  # fmt: skip
WEBP = (
    b"RIFF"
    + struct.pack("<I", 30)
    + b"WEBPVP8X"
    + b"\0" * 8
    + (99).to_bytes(3, "little")
    + (49).to_bytes(3, "little")
)


@pytest.mark.parametrize(
    ("data", "media_type", "size"),
    [(png(32, 16), "image/png", (32, 16)), (GIF, "image/gif", (7, 5)),
     (JPEG, "image/jpeg", (64, 48)), (WEBP, "image/webp", (100, 50))],
    ids=["png", "gif", "jpeg", "webp"],
)  # fmt: skip
def test_each_format_is_known_by_its_bytes_with_its_pixel_size(
    data: bytes, media_type: str, size: tuple[int, int]
) -> None:
    image = image_part("picture", data)
    assert image.media_type == media_type and (image.width, image.height) == size


def test_files_that_are_not_images_or_too_big_are_refused_with_the_reason(tmp_path: Path) -> None:
    bmp = tmp_path / "old.bmp"
    bmp.write_bytes(b"BM" + b"\0" * 100)
    with pytest.raises(AttachmentRefused, match=r"neither text nor a PNG, JPEG, GIF or WebP"):
        read_attachment(str(bmp))
    big = tmp_path / "big.png"
    big.write_bytes(png(64, 64) + bytes(range(256)) * 800)
    with pytest.raises(AttachmentRefused, match=r"over the limit of 0.1 MB \(image_max_mb"):
        read_attachment(str(big), image_limit=100_000)
    with pytest.raises(AttachmentRefused, match=r"does not exist"):
        read_attachment(str(tmp_path / "gone.png"))


async def test_an_image_goes_as_a_content_part_and_is_stored_once(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    picture = image_part("shot.png", png(64, 32, seed=7))
    session = ChatSession(settings, Store.open(settings.db_path))
    server.queue(StreamReply(deltas=["A red square."]), StreamReply(deltas=["Still red."]))
    await session.send("What is this?", images=[picture])
    await session.wait_for_reply()
    size_after_one = settings.db_path.stat().st_size
    await session.send("And again?", images=[replace(picture)])
    await session.wait_for_reply()
    await session.close()
    content = server.requests[0]["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What is this?"}
    assert content[1]["type"] == "image_url"
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == picture.data
    second = server.requests[1]["messages"]
    assert sum(isinstance(m["content"], list) for m in second) == 2, "both prompts carry it"
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 1
    assert settings.db_path.stat().st_size - size_after_one < 4096, "the image was not stored again"
    stored = Store.open(settings.db_path).load_conversation(session.conversation.id or 0)
    assert stored is not None
    restored = stored.messages[0].images[0]
    assert restored.data == picture.data and restored.label() == picture.label()


async def test_the_responses_api_gets_input_image_parts(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(replace(settings, api="responses"), None)
    picture = image_part("shot.png", png(8, 8))
    server.queue(StreamReply(deltas=["Small."]))
    await session.send("Size?", images=[picture])
    await session.wait_for_reply()
    await session.close()
    content = server.requests[0]["input"][-1]["content"]
    assert content[0] == {"type": "input_text", "text": "Size?"}
    assert content[1] == {"type": "input_image", "image_url": picture.data_url()}


async def test_a_server_refusing_images_is_named_with_the_model_and_the_prompt_kept(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(settings, None)
    ended = []
    session.subscribe(lambda event: ended.append(event) if hasattr(event, "error") else None)
    server.queue(ErrorReply(400, '{"error": {"message": "image input is not supported"}}'))
    await session.send("Look", images=[image_part("a.png", png(4, 4))])
    await session.wait_for_reply()
    await session.close()
    error = next(event.error for event in ended if event.error is not None)
    told = tell(error, in_app=True)
    assert "'test-model' may not accept images" in told.hint
    assert session.conversation.messages[0].content == "Look"


async def test_exports_carry_the_image(server: OpenAIStyleServer, settings: Settings) -> None:
    picture = image_part("shot.png", png(16, 16))
    session = ChatSession(settings, Store.open(settings.db_path))
    await session.send("See", images=[picture])
    await session.wait_for_reply()
    await session.close()
    conversation = session.conversation
    folder = settings.db_path.parent
    json_path = export_to_file(conversation, folder, "json")
    exported = json.loads(json_path.read_text())["messages"][0]["images"][0]
    assert base64.b64decode(exported["data_base64"]) == picture.data
    assert exported["sha256"] == picture.digest
    md_path = export_to_file(conversation, folder, "md")
    name = f"image-{picture.digest[:16]}.png"
    assert f"![shot.png]({name})" in md_path.read_text()
    assert (md_path.parent / name).read_bytes() == picture.data
    assert (md_path.parent / name).stat().st_mode & 0o077 == 0


async def test_an_image_attached_in_the_app_shows_as_a_chip_and_goes_with_the_prompt(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "diagram.png"
    path.write_bytes(png(120, 80))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, f"/file {path}")
        await wait_until(pilot, lambda: "📷 diagram.png" in screen_text(pilot))
        assert "120x80" in screen_text(pilot)
        await send_and_settle(pilot, "Explain the diagram")
        assert "📷 diagram.png" in screen_text(pilot)
        prompt = chat_screen(pilot).conversation.messages[0]
        assert prompt.images[0].width == 120
    assert server.requests[0]["messages"][-1]["content"][1]["type"] == "image_url"


async def test_f8_picks_an_image_from_a_tree_that_shows_only_folders_and_images(
    server: OpenAIStyleServer,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "photo.png").write_bytes(png(10, 10))
    monkeypatch.chdir(tmp_path)
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await pilot.press("f8")
        await wait_until(pilot, lambda: "photo.png" in screen_text(pilot))
        assert "notes.txt" not in screen_text(pilot)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: "📷 photo.png (" in screen_text(pilot))


async def test_an_image_goes_from_the_store_with_the_last_message_that_carried_it(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(settings, Store.open(settings.db_path))
    picture = image_part("p.png", png(8, 8))
    await session.send("Look", images=[picture])
    await session.wait_for_reply()
    conversation_id = session.conversation.id or 0
    await session.delete_conversation(conversation_id)
    await session.close()
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 0


def test_a_paste_that_only_looks_like_an_image_path_is_left_as_text(tmp_path: Path) -> None:
    from tui.ui.widgets.prompt_input import image_path

    real = tmp_path / "shot.png"
    real.write_bytes(png(2, 2))
    assert image_path(f"'{real}'") == str(real)
    assert image_path("~nosuchuser/x.png") is None
    assert image_path("/" + "a" * 300 + ".png") is None
    assert image_path(f"{real}\nand more text") is None

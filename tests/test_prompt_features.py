"""The prompt box: history across restarts, slash commands with completion, file
attachments, big pastes, and resizing mid-stream."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    replies,
    screen_text,
    send_and_settle,
    type_and_send,
    wait_until,
)
from tui.attachments import AttachmentRefused, read_attachment
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp


async def test_up_in_an_empty_prompt_recalls_earlier_prompts_even_after_a_restart(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "first prompt")
        await send_and_settle(pilot, "second prompt")
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        prompt = chat_screen(pilot).prompt
        await pilot.press("up")
        assert prompt.text == "second prompt"
        await pilot.press("up")
        assert prompt.text == "first prompt"
        await pilot.press("down")
        assert prompt.text == "second prompt"
        await pilot.press("down")
        assert prompt.text == ""
        await pilot.press(*"typed", "up")
        assert prompt.text == "typed", "Up in a non-empty prompt is only cursor movement"


async def test_slash_commands_run_locally_and_unknown_ones_send_nothing(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    async with ChatApp(settings).run_test(size=(120, 30), notifications=True) as pilot:
        prompt = chat_screen(pilot).prompt
        await pilot.press(*"/mo", "tab")
        assert prompt.text == "/model "
        await pilot.press(*"other-model", "enter")
        await type_and_send(pilot, "/system Be terse.")
        await type_and_send(pilot, "/frobnicate")
        await wait_until(pilot, lambda: "Unknown command /frobnicate" in screen_text(pilot))
        assert server.requests == []
        await send_and_settle(pilot, "//etc/hosts is a path")
        await type_and_send(pilot, "/title Renamed by command")
        await pilot.pause(0.2)
        conversation_id = chat_screen(pilot).conversation.id
    request = server.requests[0]
    assert request["model"] == "other-model"
    assert request["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "/etc/hosts is a path"},
    ]
    stored = Store.open(settings.db_path).load_conversation(conversation_id or 0)
    assert stored is not None and stored.title == "Renamed by command"


async def test_file_attachments_go_as_fenced_blocks_and_bad_files_are_refused(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "snippet.py"
    source.write_text("print('```tricky```')\n")
    binary = tmp_path / "program.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\0\0\0")
    huge = tmp_path / "huge.txt"
    huge.write_text("x" * 300_000)
    async with ChatApp(settings).run_test(size=(120, 30), notifications=True) as pilot:
        await type_and_send(pilot, f"/file {binary}")
        await wait_until(pilot, lambda: "neither text nor a PNG" in screen_text(pilot))
        await type_and_send(pilot, f"/file {huge}")
        await wait_until(pilot, lambda: "huge.txt is over 256 KB" in screen_text(pilot))
        await type_and_send(pilot, f"/file {tmp_path / 'missing.txt'}")
        await wait_until(pilot, lambda: "does not exist" in screen_text(pilot))
        await type_and_send(pilot, f"/file {source}")
        await wait_until(pilot, lambda: "📎 snippet.py (22 B)" in screen_text(pilot))
        await send_and_settle(pilot, "Explain this")
        assert "📎" not in screen_text(pilot)
    sent = server.requests[-1]["messages"][-1]["content"]
    assert sent == "Explain this\n\nsnippet.py:\n````python\nprint('```tricky```')\n````"


async def test_a_large_multi_line_paste_lands_in_the_prompt_without_sending(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    pasted = "\n".join(f"line {n} of a pasted log" for n in range(3000))  # 70 KB
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        prompt = chat_screen(pilot).prompt
        pilot.app.post_message(events.Paste(pasted))  # as the terminal driver does
        await wait_until(pilot, lambda: prompt.text == pasted)
        assert server.requests == []
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(server.requests) == 1)
    assert server.requests[0]["messages"][-1]["content"] == pasted


async def test_resizing_mid_stream_loses_nothing(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    words = [f"word{n} " + ("\n\n" if n % 7 == 6 else "") for n in range(120)]
    server.queue(StreamReply(deltas=words, delay=0.01))
    async with ChatApp(settings).run_test(size=(160, 48)) as pilot:
        await type_and_send(pilot, "Long one")
        await wait_until(pilot, lambda: "word20" in replies(pilot)[-1].body.rendered_text)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        await pilot.resize_terminal(250, 70)
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        await pilot.pause(0.3)
        reply = replies(pilot)[-1]
        assert reply.message.content == "".join(words)
        assert reply.body.rendered_text == "".join(words)
        assert "word119" in screen_text(pilot)


async def test_typing_while_a_reply_streams_loses_neither_keys_nor_reply_text(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    words = [f"w{n} " for n in range(200)]
    server.queue(StreamReply(deltas=words, delay=0.005))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "Go")
        await wait_until(pilot, lambda: "w10" in replies(pilot)[-1].body.rendered_text)
        for key in "typed while streaming":
            await pilot.press("space" if key == " " else key)
        assert chat_screen(pilot).prompt.text == "typed while streaming"
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        assert replies(pilot)[-1].body.rendered_text == "".join(words)


def test_a_file_whose_size_lies_is_judged_by_reading_it() -> None:
    """/proc files say 0 bytes; /proc/kallsyms holds megabytes."""
    kallsyms = Path("/proc/kallsyms")
    if not kallsyms.exists() or kallsyms.stat().st_size != 0:
        pytest.skip("needs a /proc file that reports 0 bytes")
    with pytest.raises(AttachmentRefused, match="is over 256 KB"):
        read_attachment(str(kallsyms))


async def test_a_huge_paste_becomes_an_attachment_and_is_sent_whole(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    pasted = "".join(f"log line {n}\n" for n in range(20_000))  # about 250 KB
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        screen = chat_screen(pilot)
        pilot.app.post_message(events.Paste(pasted))  # as the terminal driver does
        await wait_until(pilot, lambda: "📎 pasted text" in screen_text(pilot))
        assert screen.prompt.text == "", "not typed into the box"
        screen.prompt.insert("Why does it fail?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(server.requests) == 1)
        await wait_until(pilot, lambda: "more characters (sent whole" in screen_text(pilot))
    sent = server.requests[0]["messages"][-1]["content"]
    assert sent.startswith("Why does it fail?") and "log line 19999" in sent


async def test_esc_gives_a_waiting_prompt_back_with_its_attachment_as_a_chip(
    server: OpenAIStyleServer, settings: Settings, tmp_path: Path
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("attached words\n")
    server.queue(StreamReply(deltas=[f"w{n} " for n in range(100)], delay=0.05))
    async with ChatApp(settings).run_test(size=(100, 30)) as pilot:
        screen = chat_screen(pilot)
        await type_and_send(pilot, "First")
        await wait_until(pilot, lambda: bool(replies(pilot)))
        await type_and_send(pilot, f"/file {note}")
        await wait_until(pilot, lambda: "📎 note.txt" in screen_text(pilot))
        await type_and_send(pilot, "Second")
        await wait_until(pilot, lambda: "Waiting to send: Second" in screen_text(pilot))
        assert "📎 note.txt" not in screen_text(pilot), "the chip went with the prompt"
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.prompt.text == "Second")
        await wait_until(pilot, lambda: "📎 note.txt" in screen_text(pilot))
    assert len(server.requests) == 1

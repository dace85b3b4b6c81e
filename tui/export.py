"""Turns a stored conversation into Markdown or JSON for people and scripts.

Markdown is made safe (control characters shown as symbols) because it is read in a
terminal or an editor; JSON keeps the exact text, since its escaping is already harmless.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

from tui.attachments import fence_for
from tui.chat.conversation import Conversation
from tui.chat.images import EXTENSIONS, ImagePart
from tui.chat.message import Message, MessageStatus, Role
from tui.chat.safe_text import BIDI_CONTROLS, make_safe
from tui.private_files import make_private_folder
from tui.tools.labels import call_label, pretty_arguments


def to_json(conversation: Conversation) -> str:
    payload: dict[str, Any] = {
        "id": conversation.id,
        "title": conversation.title,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "created_at": conversation.created_at,
        "messages": [_message_dict(message) for message in conversation.messages],
    }
    return escape_invisible(json.dumps(payload, ensure_ascii=False, indent=2)) + "\n"


_INVISIBLE = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS)}


def escape_invisible(text: str) -> str:
    """JSON escapes C0 controls itself; C1 controls (a terminal reads U+009B as CSI) and
    bidi overrides would reach a terminal that shows the file raw. Inside JSON strings,
    their `\\uXXXX` form is the same value, so a parser reads the same text."""
    return text.translate(_INVISIBLE)


def _message_dict(message: Message) -> dict[str, Any]:
    usage = message.usage
    return {
        "role": message.role.value,
        "content": message.content,
        "reasoning": message.reasoning or None,
        "status": message.status.value,
        "error": message.error,
        "finish_reason": message.finish_reason,
        "model": message.model,
        "usage": None
        if usage is None
        else {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens},
        "time_to_first_token": message.time_to_first_token,
        "duration": message.duration,
        "created_at": message.created_at,
        **({"tool_calls": _tool_calls(message)} if message.tool_calls else {}),
        **({"images": [_image(image) for image in message.images]} if message.images else {}),
    }


def _image(image: ImagePart) -> dict[str, Any]:
    return {
        "name": image.name,
        "media_type": image.media_type,
        "sha256": image.digest,
        "width": image.width,
        "height": image.height,
        "data_base64": base64.b64encode(image.data).decode(),
    }


def image_file_name(image: ImagePart) -> str:
    """Where the Markdown export puts an image, beside the `.md` (one file per image,
    named by its content, so the same image is written once)."""
    return f"image-{image.digest[:16]}.{EXTENSIONS.get(image.media_type, 'bin')}"


def _tool_calls(message: Message) -> list[dict[str, Any]]:
    calls = []
    for call in message.tool_calls:
        result = message.result_of(call)
        calls.append(
            {
                "id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
                "outcome": result.outcome.value if result is not None else None,
                "output": result.output if result is not None else None,
            }
        )
    return calls


def _tool_calls_markdown(message: Message) -> list[str]:
    lines: list[str] = []
    for call in message.tool_calls:
        result = message.result_of(call)
        outcome = result.outcome.value if result is not None else "no result"
        lines += [f"### Tool call: {call_label(call.name)} ({outcome})", ""]
        lines += [*_fenced(pretty_arguments(call.arguments) or "{}", "json"), ""]
        if result is not None and result.output:
            lines += [*_fenced(result.output, ""), ""]
    return lines


def _fenced(text: str, language: str) -> list[str]:
    fence = fence_for(text)
    return [f"{fence}{language}", text, fence]


def to_markdown(conversation: Conversation) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.created_at))
    lines = [
        f"# {conversation.title or 'Conversation'}",
        "",
        f"*{when} · {conversation.model}*",
        "",
    ]
    if conversation.system_prompt:
        lines += ["## System", "", conversation.system_prompt, ""]
    for message in conversation.messages:
        heading = "You" if message.role is Role.USER else (message.model or "Assistant")
        if message.status not in (MessageStatus.DONE, MessageStatus.STREAMING):
            heading += f" ({message.status.value})"
        lines += [f"## {heading}", "", message.content, ""]
        for image in message.images:
            lines += [f"![{image.name}]({image_file_name(image)})", ""]
        lines += _tool_calls_markdown(message)
        if message.error:
            lines += [f"> {message.error}", ""]
    return make_safe("\n".join(lines))


def export_to_file(conversation: Conversation, folder: Path, format: str) -> Path:
    """Writes `exports/conversation-ID.md|json` under `folder`, readable by the user only."""
    text = to_json(conversation) if format == "json" else to_markdown(conversation)
    exports = folder / "exports"
    make_private_folder(exports)
    path = exports / f"conversation-{conversation.id}.{format}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    if format != "json":
        write_images(conversation, exports)
    return path


def write_images(conversation: Conversation, folder: Path) -> None:
    """The images the Markdown links to, beside it (readable by the user alone)."""
    for message in conversation.messages:
        for image in message.images:
            target = folder / image_file_name(image)
            if image.data and not target.exists():
                descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as file:
                    file.write(image.data)

"""Non-interactive mode: stream one answer to stdout for pipes and scripts.

stdout carries exactly the answer's text; reasoning, notes and errors go to stderr, so
`answer=$(tui-chat -p "...")` captures only the answer. On a terminal the text is made
safe first; into a pipe it is written as the model sent it.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tui.backend import ChatBackend
from tui.chat.conversation import Conversation
from tui.chat.events import ContentDelta, Failed, Finished, ReasoningDelta, Retrying
from tui.chat.safe_text import make_safe
from tui.config import Settings

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


async def answer_once(
    settings: Settings, prompt: str, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Streams the answer to `prompt`; returns the process exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    clean_out = make_safe if out.isatty() else _unchanged
    clean_err = make_safe if err.isatty() else _unchanged
    conversation = Conversation(system_prompt=settings.system_prompt, model=settings.model)
    conversation.add_user_message(prompt)
    backend = ChatBackend(settings)
    wrote_text = False
    ends_with_newline = False
    try:
        async for event in backend.stream_reply(conversation.request_messages(), settings.model):
            if isinstance(event, ContentDelta):
                out.write(clean_out(event.text))
                out.flush()
                wrote_text = True
                ends_with_newline = event.text.endswith("\n")
            elif isinstance(event, ReasoningDelta):
                err.write(clean_err(event.text))
                err.flush()
            elif isinstance(event, Finished):
                if wrote_text and not ends_with_newline and out.isatty():
                    out.write("\n")
                if event.reason == "length":
                    err.write("tui-chat: the answer was cut off by the token limit\n")
                elif event.reason == "content_filter":
                    err.write("tui-chat: the answer was stopped by the content filter\n")
                return EXIT_OK
            elif isinstance(event, Retrying):
                err.write(f"tui-chat: {clean_err(event.describe())}\n")
                err.flush()
            elif isinstance(event, Failed):
                if wrote_text and out.isatty():
                    out.write("\n")
                out.flush()
                err.write(f"tui-chat: {clean_err(event.error.one_line())}\n")
                return EXIT_API_ERROR
    finally:
        await backend.aclose()
    return EXIT_API_ERROR


def _unchanged(text: str) -> str:
    return text

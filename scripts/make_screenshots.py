"""Regenerates screenshots/*.svg from the real app, run headless against the test server.

python scripts/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.image_helpers import png  # noqa: E402
from tests.openai_server import (  # noqa: E402
    ErrorReply,
    OpenAIStyleServer,
    StreamReply,
    tool_call_chunks,
)
from tests.ui_helpers import (  # noqa: E402
    last_reply_settled,
    replies,
    screen_text,
    send_and_settle,
    type_and_send,
    wait_until,
)
from tui.config import Settings  # noqa: E402
from tui.local_probe import LocalServer  # noqa: E402
from tui.tools.config import ToolServerConfig  # noqa: E402
from tui.ui.app import ChatApp  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (110, 42)
SCREENSHOT_KEY = "sk-screenshot-not-a-real-key"

FINISHED_REPLY = """\
## Reading a file line by line

Use a `with` block so the file is **always closed**, even on errors:

```python
from pathlib import Path

def count_words(path: Path) -> int:
    with path.open(encoding="utf-8") as lines:
        return sum(len(line.split()) for line in lines)
```

| approach | memory | speed |
|---|---|---|
| `read()` | whole file | fast |
| iterate lines | one line | fast |
| `mmap` | paged | fastest |

- Prefer iterating for large files.
- Pass `encoding=` explicitly.
"""

STREAMING_REPLY = [
    "Streaming replies render as Markdown ",
    "while they arrive.\n\n",
    "1. Deltas are batched per frame\n",
    "2. Only the last block is re-parsed\n",
    "3. Long replies are split into segments\n\n",
    "The status line shows the rate ",
] + [f"word{i} " for i in range(400)]


def chunk(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


THINKING = [
    "The user wants ",
    "a file's word count. ",
    "Iterating lines keeps ",
    "memory flat; ",
] + [f"consider{i} " for i in range(60)]


async def shoot() -> None:
    server = OpenAIStyleServer().start()
    server.models = ["deepseek-r1:8b", "gpt-4o-mini", "llama3.2:3b", "qwen2.5-coder:7b"]
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            model="gpt-4o-mini",
            base_url=server.base_url,
            api_key=SCREENSHOT_KEY,
            max_retries=0,
            db_path=Path(home) / "history.sqlite3",
        )
        # The header shows a stable URL; requests go to the real test server.
        shown_url = server.base_url.replace(str(server.port), "8000")

        async def scene(name: str, replies_queued: list, act, app: ChatApp | None = None) -> None:
            server.queue(*replies_queued)
            app = app or ChatApp(settings)
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                app.screen_stack[0].sub_title = f"{settings.model} · {shown_url}"
                await act(pilot)
                await pilot.pause(0.3)
                svg = app.export_screenshot(title=f"tui-chat — {name}")
                assert SCREENSHOT_KEY not in svg
                (OUT / f"{name}.svg").write_text(svg, encoding="utf-8")
                print(f"wrote screenshots/{name}.svg")

        async def finished(pilot) -> None:
            await type_and_send(pilot, "How do I count words in a file in Python?")
            await wait_until(pilot, lambda: last_reply_settled(pilot), 10)

        async def streaming(pilot) -> None:
            await type_and_send(pilot, "Explain how tui-chat streams")
            await wait_until(pilot, lambda: "word40" in replies(pilot)[-1].body.rendered_text, 10)

        async def error(pilot) -> None:
            await type_and_send(pilot, "Hello?")
            await wait_until(pilot, lambda: last_reply_settled(pilot), 10)

        async def thinking(pilot) -> None:
            await type_and_send(pilot, "Which way is best for big files?")
            await wait_until(pilot, lambda: "consider30" in screen_text(pilot), 10)

        async def message_actions(pilot) -> None:
            await finished(pilot)
            await pilot.press("ctrl+up", "1")

        async def model_picker(pilot) -> None:
            await pilot.press("f2")
            await wait_until(pilot, lambda: "4 models" in screen_text(pilot), 10)
            await pilot.press(*"qw")

        async def slash_commands(pilot) -> None:
            await pilot.press("/", "tab")

        async def tools_ready(pilot) -> None:
            tools = pilot.app.screen_stack[0].session.tools
            await wait_until(pilot, lambda: not tools.servers.connecting, 20)

        async def tool_approval(pilot) -> None:
            await tools_ready(pilot)
            await type_and_send(pilot, "How long is README.md?")
            await wait_until(pilot, lambda: "Run word_count" in screen_text(pilot), 10)

        async def tool_call(pilot) -> None:
            await tool_approval(pilot)
            await pilot.press("enter")
            await wait_until(pilot, lambda: last_reply_settled(pilot), 10)
            await pilot.press("ctrl+up", "t")

        async def image_chip(pilot) -> None:
            await type_and_send(pilot, f"/file {picture}")
            await wait_until(pilot, lambda: "📷 architecture.png" in screen_text(pilot), 10)
            await send_and_settle(pilot, "What does this diagram show?")
            await type_and_send(pilot, f"/file {picture}")
            await wait_until(pilot, lambda: "sent with your next" in screen_text(pilot), 10)

        async def context_full(pilot) -> None:
            for index in range(3):
                await send_and_settle(pilot, f"Chapter {index + 1}: " + "lorem ipsum " * 150)
            await wait_until(pilot, lambda: "⚠ ctx 83%" in screen_text(pilot), 10)
            await type_and_send(pilot, "And now the whole appendix: " + "dolor sit " * 400)
            await wait_until(pilot, lambda: "would not fit" in screen_text(pilot), 10)

        async def branches(pilot) -> None:
            await type_and_send(pilot, "Name a sorting algorithm")
            await wait_until(pilot, lambda: last_reply_settled(pilot), 10)
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: "Merge sort" in screen_text(pilot), 10)
            await wait_until(pilot, lambda: last_reply_settled(pilot), 10)
            await pilot.press("ctrl+up", "up", "e", "end", *" that is stable", "enter")
            await wait_until(pilot, lambda: "Timsort" in screen_text(pilot), 10)
            await wait_until(pilot, lambda: last_reply_settled(pilot), 10)
            await pilot.press("ctrl+up", "up")

        await scene("finished-reply", [StreamReply(deltas=chunk(FINISHED_REPLY))], finished)
        await scene("streaming", [StreamReply(deltas=STREAMING_REPLY, delay=0.03)], streaming)
        await scene(
            "error",
            [ErrorReply(401, '{"error": {"message": "Incorrect API key provided."}}')],
            error,
        )
        await scene(
            "thinking",
            [StreamReply(reasoning=THINKING, deltas=["Iterate."], delay=0.03)],
            thinking,
        )
        await scene("message-actions", [StreamReply(deltas=chunk(FINISHED_REPLY))], message_actions)
        await scene("model-picker", [], model_picker)
        await scene("slash-commands", [], slash_commands)
        await scene(
            "branches",
            [
                StreamReply(deltas=["Quicksort: pick a pivot, partition, recurse."]),
                StreamReply(deltas=["Merge sort: split in halves, sort each, merge."]),
                StreamReply(deltas=["Timsort (Python's own): stable, and fast on runs."]),
            ],
            branches,
        )
        lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
        notes = ToolServerConfig(
            "notes",
            command=sys.executable,
            args=(str(ROOT / "tests" / "mcp_tool_server.py"),),
            cwd=str(ROOT),
        )
        tool_settings = replace(settings, tool_servers=(notes,))
        counting = [
            StreamReply(
                deltas=["I'll count it."],
                tool_calls=tool_call_chunks(
                    [("call_1", "notes__word_count", {"path": "README.md"})]
                ),
                finish_reason="tool_calls",
            ),
            StreamReply(deltas=chunk(f"README.md has **{lines} lines**: a long read.")),
        ]
        await scene("tool-approval", counting[:1], tool_approval, ChatApp(tool_settings))
        server.queue(*counting)  # the first scene's reply was stopped by its exit
        await scene("tool-call", [], tool_call, ChatApp(tool_settings))
        picture = Path(home) / "architecture.png"
        picture.write_bytes(png(640, 360, seed=90))
        await scene(
            "image-chip",
            [StreamReply(deltas=chunk("Three services behind a load balancer, one database."))],
            image_chip,
        )
        small_window = replace(settings, context_window=2048)
        chapters = [
            StreamReply(
                deltas=[f"Noted chapter {index + 1}."],
                usage={
                    "prompt_tokens": 480 * (index + 1),
                    "completion_tokens": 4 + 256 * (index == 2),
                },
            )
            for index in range(3)
        ]
        await scene("context-full", chapters, context_full, ChatApp(small_window))
        welcome_settings = replace(
            settings, api_key=None, base_url=None, config_path=Path(home) / "none.toml"
        )
        await scene(
            "welcome",
            [],
            lambda pilot: wait_until(pilot, lambda: "Enter uses" in screen_text(pilot), 10),
            ChatApp(welcome_settings, local_servers=[LocalServer("Ollama", server.port)]),
        )
    server.stop()


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    asyncio.run(shoot())

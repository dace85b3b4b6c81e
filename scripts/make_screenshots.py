"""Regenerates screenshots/*.svg from the real app, run headless against the test server.

python scripts/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply  # noqa: E402
from tests.ui_helpers import last_reply_settled, replies, type_and_send, wait_until  # noqa: E402
from tui.config import Settings  # noqa: E402
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


async def shoot() -> None:
    server = OpenAIStyleServer().start()
    server.queue(
        StreamReply(deltas=chunk(FINISHED_REPLY)),
        StreamReply(deltas=STREAMING_REPLY, delay=0.03),
        ErrorReply(401, '{"error": {"message": "Incorrect API key provided."}}'),
    )
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            model="gpt-4o-mini",
            base_url=server.base_url.replace(str(server.port), "8000"),
            api_key=SCREENSHOT_KEY,
            max_retries=0,
            db_path=Path(home) / "history.sqlite3",
        )
        # The header shows a stable URL; requests go to the real test server.
        from dataclasses import replace

        shown = settings
        settings = replace(settings, base_url=server.base_url)
        for name, prompt in (
            ("finished-reply", "How do I count words in a file in Python?"),
            ("streaming", "Explain how tui-chat streams"),
            ("error", "Hello?"),
        ):
            app = ChatApp(settings)
            async with app.run_test(size=SIZE) as pilot:
                app.screen_stack[0].sub_title = f"{shown.model} · {shown.base_url}"
                await type_and_send(pilot, prompt)
                if name == "streaming":
                    await wait_until(
                        pilot, lambda: "word40" in replies(pilot)[-1].body.rendered_text, 10
                    )
                else:
                    await wait_until(pilot, lambda: last_reply_settled(pilot), 10)
                await pilot.pause(0.3)
                svg = app.export_screenshot(title=f"tui-chat — {name}")
                assert SCREENSHOT_KEY not in svg
                (OUT / f"{name}.svg").write_text(svg, encoding="utf-8")
                print(f"wrote screenshots/{name}.svg")
    server.stop()


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    asyncio.run(shoot())

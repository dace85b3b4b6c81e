"""The baseline: the textbook way to stream into Textual, one `MarkdownStream.write` per delta
through the SDK's own chunk models (what oterm does). Measured in the same run as tui-chat."""

from __future__ import annotations

import openai
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown


class NaiveChatApp(App[None]):
    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base_url)
        self.received = 0
        self.done = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield Markdown(id="reply")

    def on_mount(self) -> None:
        self.query_one("#log").anchor()

    async def stream(self, prompt: str) -> None:
        markdown = self.query_one("#reply", Markdown)
        writer = Markdown.get_stream(markdown)
        response = await self.client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": prompt}], stream=True
        )
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                self.received += 1
                await writer.write(chunk.choices[0].delta.content)
        await writer.stop()
        self.done = True

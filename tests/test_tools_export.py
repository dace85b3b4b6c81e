"""A reply's tool calls in the exports: JSON carries them exactly, Markdown shows them in
fences that its content cannot close."""

from __future__ import annotations

import json

from tui.chat.conversation import Conversation
from tui.chat.parts import TextPart, ToolCallPart, ToolOutcome, ToolResultPart
from tui.export import to_json, to_markdown


def conversation_with_a_call() -> Conversation:
    conversation = Conversation(model="m", title="Counting")
    prompt = conversation.add_user_message("How long is notes.txt?")
    reply = conversation.start_reply("m", parent=prompt)
    reply.parts += [
        TextPart("Counting."),
        ToolCallPart("c1", "files__word_count", '{"path": "notes.txt"}'),
        ToolResultPart("c1", ToolOutcome.RAN, "12 lines\n```\nnot a fence end"),
        TextPart("12 lines."),
    ]
    return conversation


def test_json_export_carries_each_call_with_its_result() -> None:
    reply = json.loads(to_json(conversation_with_a_call()))["messages"][-1]
    assert reply["content"] == "Counting.\n\n12 lines."
    assert reply["tool_calls"] == [
        {
            "id": "c1",
            "name": "files__word_count",
            "arguments": '{"path": "notes.txt"}',
            "outcome": "ran",
            "output": "12 lines\n```\nnot a fence end",
        }
    ]


def test_markdown_export_shows_the_call_in_fences_its_output_cannot_close() -> None:
    markdown = to_markdown(conversation_with_a_call())
    assert "### Tool call: files · word_count (ran)" in markdown
    assert '```json\n{\n  "path": "notes.txt"\n}\n```' in markdown
    assert "````\n12 lines\n```\nnot a fence end\n````" in markdown

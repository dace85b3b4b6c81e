"""A profile with `api = "responses"` streams through the Responses API: text, the
reasoning summary in the Thinking block, usage, errors, cancel and retry, with the rest of
the app (store, pipe mode) working as on Chat Completions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import replies, screen_text, send_and_settle, type_and_send, wait_until
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.ui.app import ChatApp


@pytest.fixture
def responses(settings: Settings) -> Settings:
    return dataclasses.replace(settings, api="responses", params={"reasoning_effort": "low"})


def flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


async def test_text_reasoning_summary_and_usage_stream_through_the_responses_api(
    server: OpenAIStyleServer, responses: Settings
) -> None:
    server.queue(
        StreamReply(reasoning=["Weighing ", "the options."], deltas=["The ", "answer."]),
        StreamReply(deltas=["Second."]),
    )
    async with ChatApp(responses).run_test(size=(100, 30)) as pilot:
        await send_and_settle(pilot, "Think")
        reply = replies(pilot)[-1].message
        assert (reply.content, reply.reasoning) == ("The answer.", "Weighing the options.")
        assert reply.status is MessageStatus.DONE and reply.usage is not None
        assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (7, 4)
        assert "Thought (3 words)" in screen_text(pilot)
        await send_and_settle(pilot, "More")
    assert server.request_paths == ["/v1/responses", "/v1/responses"]
    first, second = server.requests
    assert first["stream"] is True and first["model"] == "test-model"
    assert first["reasoning"] == {"effort": "low", "summary": "auto"}
    assert "reasoning_effort" not in first, "a Chat Completions field the API refuses"
    assert second["input"] == [
        {"role": "user", "content": "Think"},
        {"role": "assistant", "content": "The answer."},
        {"role": "user", "content": "More"},
    ]


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (
            StreamReply(deltas=["Part", "ial", "x"], error_event_after=2),
            "model overloaded mid-stream",
        ),
        (StreamReply(deltas=["Part", "ial", "x"], failed_after=2), "The model failed mid-response"),
    ],
    ids=["error event", "response.failed"],
)
async def test_an_error_event_keeps_the_partial_text_and_says_why(
    server: OpenAIStyleServer, responses: Settings, reply: StreamReply, words: str
) -> None:
    server.queue(reply)
    async with ChatApp(responses).run_test(size=(120, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        message = replies(pilot)[-1].message
        assert (message.content, message.status) == ("Partial", MessageStatus.ERROR)
        assert words in flat(screen_text(pilot))


async def test_an_incomplete_response_is_said_to_be_cut_off(
    server: OpenAIStyleServer, responses: Settings
) -> None:
    server.queue(StreamReply(deltas=["Cut"], finish_reason="length"))
    async with ChatApp(responses).run_test(size=(120, 30)) as pilot:
        await send_and_settle(pilot, "Go")
        assert replies(pilot)[-1].message.finish_reason == "length"
        assert "cut off by the token limit" in screen_text(pilot)


async def test_cancel_mid_stream_closes_the_connection_and_retry_streams_again(
    server: OpenAIStyleServer, responses: Settings
) -> None:
    server.queue(
        StreamReply(deltas=[f"word{i} " for i in range(200)], delay=0.05),
        StreamReply(deltas=["Again."]),
    )
    async with ChatApp(responses).run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "Long one")
        await wait_until(pilot, lambda: "word3" in replies(pilot)[-1].body.rendered_text)
        await pilot.press("escape")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.STOPPED)
        assert server.wait_for(lambda: server.disconnects == 1), "the server saw the close"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "Again.")
    assert server.requests[-1]["input"] == [{"role": "user", "content": "Long one"}]


def test_pipe_mode_streams_through_the_responses_api(
    server: OpenAIStyleServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'default_profile = "r"\n[profiles.r]\nbase_url = "{server.base_url}"\n'
        'model = "test-model"\napi = "responses"\n'
    )
    server.queue(StreamReply(reasoning=["Hmm."], deltas=["Piped ", "answer."]))
    result = run_cli(server.base_url, "--config", str(config), "-p", "Go")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Piped answer." and "Hmm." in result.stderr
    assert server.request_paths == ["/v1/responses"]
    assert "reasoning" not in server.requests[0], "not asked for: the profile sets no effort"
    server.queue(StreamReply(deltas=["Part", "never"], error_event_after=1))
    result = run_cli(server.base_url, "--config", str(config), "-p", "Go")
    assert result.returncode == 1 and result.stdout == "Part"
    assert "model overloaded mid-stream" in result.stderr and "Ctrl" not in result.stderr


def test_an_unknown_api_in_the_config_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('default_profile = "r"\n[profiles.r]\nmodel = "m"\napi = "completions"\n')
    result = run_cli("http://127.0.0.1:9/v1", "--config", str(config), "-p", "Go")
    assert result.returncode == 2
    assert "api = 'completions'" in result.stderr and '"responses"' in result.stderr
    assert "line 4" in result.stderr

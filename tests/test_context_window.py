"""The context window: known from each kind of server (or the profile), counted from the
server's usage, checked before a prompt goes out, and the two ways out when it would not
fit: the recent turns only, or a summary on a new branch. Real client, real test server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from tests.openai_server import ErrorReply, OpenAIStyleServer, StreamReply
from tests.test_session import Recorder
from tui.chat.context import Counter, first_kept
from tui.chat.message import Message, Role, Usage
from tui.chat.session_events import ContextTooLong, TurnsLeftOut
from tui.config import Settings
from tui.session import ChatSession, Fit, SendOutcome
from tui.store import Store


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[ChatSession]:
    running = ChatSession(settings, Store.open(settings.db_path))
    yield running
    await running.close()


async def ask(
    session: ChatSession, prompt: str, fit: Fit = Fit.ALL, images: list | None = None
) -> SendOutcome:
    outcome = await session.send(prompt, fit=fit, images=images or [])
    await session.wait_for_reply()
    return outcome


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        ({("GET", "/models"): {"data": [{"id": "test-model", "context_length": 131072}]}}, 131072),
        ({("GET", "/models"): {"data": [{"id": "test-model", "max_model_len": 32768}]}}, 32768),
        (
            {
                ("GET", "/api/v0/models/test-model"): {
                    "max_context_length": 8192,
                    "loaded_context_length": 4096,
                }
            },
            4096,
        ),
        ({("GET", "/props"): {"default_generation_settings": {"n_ctx": 8192}}}, 8192),
        (
            {
                ("POST", "/api/show"): {
                    "model_info": {"llama.context_length": 131072},
                    "parameters": "num_ctx 4096",
                }
            },
            4096,
        ),
        ({("POST", "/api/show"): {"model_info": {"qwen2.context_length": 32768}}}, 32768),
        ({}, None),
    ],
    ids=["openrouter", "vllm", "lm-studio", "llama.cpp", "ollama-num-ctx", "ollama", "unknown"],
)
async def test_the_window_comes_from_what_the_server_says(
    server: OpenAIStyleServer, session: ChatSession, routes: dict, expected: int | None
) -> None:
    server.json_routes.update(routes)
    assert await session.context_window() == expected


async def test_the_profile_setting_wins_and_the_server_is_not_asked(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(replace(settings, context_window=2048), None)
    assert await session.context_window() == 2048
    assert server.model_list_requests == 0
    await session.close()


async def test_the_fill_is_the_last_usage_plus_an_estimate_of_what_came_after(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(replace(settings, context_window=1000), None)
    server.queue(StreamReply(deltas=["Hi."], usage={"prompt_tokens": 300, "completion_tokens": 1}))
    await ask(session, "x" * 1200)
    fill = await session.context_fill()
    assert fill is not None and fill.exact and fill.tokens == 301
    assert fill.label() == "ctx 30% of 1k" and not fill.warning
    later = await session.context_fill("y" * 1200)  # ~4 characters a token, as measured
    assert later is not None and not later.exact
    assert 301 + 250 <= later.tokens <= 301 + 350
    fuller = await session.context_fill("y" * 2400)
    assert fuller is not None and fuller.warning
    await session.close()


async def test_a_prompt_that_would_not_fit_is_not_sent_and_the_user_is_told(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(replace(settings, context_window=2000), None)
    recorder = Recorder()
    session.subscribe(recorder)
    server.queue(StreamReply(deltas=["A."], usage={"prompt_tokens": 900, "completion_tokens": 10}))
    await ask(session, "a" * 3600)
    assert await ask(session, "b" * 4000) is SendOutcome.TOO_LONG
    told = recorder.of(ContextTooLong)
    assert len(told) == 1 and told[0].prompt == "b" * 4000 and told[0].fill.window == 2000
    assert len(server.requests) == 1, "nothing was sent"
    assert len(session.conversation.messages) == 2
    await session.close()


async def test_sending_the_recent_turns_leaves_the_early_ones_out_and_says_which(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(replace(settings, context_window=3000), None)
    recorder = Recorder()
    session.subscribe(recorder)
    for index in range(4):
        server.queue(StreamReply(deltas=[f"answer {index}"], usage=None))
        await ask(session, f"question {index} " + "q" * 2000)
    server.queue(StreamReply(deltas=["fits"]))
    assert await ask(session, "last " + "z" * 2000) is SendOutcome.TOO_LONG
    assert await ask(session, "last " + "z" * 2000, fit=Fit.RECENT) is SendOutcome.SENT
    sent = server.requests[-1]["messages"]
    assert sent[-1]["content"].startswith("last ")
    assert not any(m["content"].startswith("question 0") for m in sent)
    left_out = recorder.of(TurnsLeftOut)[-1].messages
    assert left_out[0].content.startswith("question 0")
    assert all(m["content"] != left.content for m in sent for left in left_out)
    await session.close()


async def test_compacting_summarises_on_a_new_branch_and_keeps_the_old_one(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(replace(settings, context_window=3000), Store.open(settings.db_path))
    for index in range(3):
        server.queue(StreamReply(deltas=[f"answer {index}"], usage=None))
        await ask(session, f"question {index} " + "q" * 2000)
    server.queue(
        StreamReply(deltas=["We discussed questions 0 to 2."]),
        StreamReply(deltas=["Continuing."]),
    )
    assert await ask(session, "next " + "n" * 3000, fit=Fit.COMPACT) is SendOutcome.SENT
    summary_request = server.requests[-2]["messages"]
    assert "summar" in summary_request[-1]["content"].lower()
    follow_up = server.requests[-1]["messages"]
    assert len([m for m in follow_up if m["role"] == "user"]) == 1
    assert "We discussed questions 0 to 2." in follow_up[-1]["content"]
    assert follow_up[-1]["content"].endswith("next " + "n" * 3000)
    path = session.conversation.messages
    assert [m.content for m in path][-1] == "Continuing."
    assert len(path) == 2
    stored = Store.open(settings.db_path).load_conversation(session.conversation.id or 0)
    assert stored is not None
    assert len(stored.root.children) == 2, "the old branch stays in the tree"
    assert stored.messages[0].content.startswith("Summary of the conversation so far")
    await session.close()


def test_first_kept_drops_whole_turns_from_the_front() -> None:
    path = []
    for index in range(3):
        path.append(Message(Role.USER, f"q{index} " + "x" * 396))
        path.append(Message(Role.ASSISTANT, f"a{index} " + "y" * 396, usage=Usage(1, 1)))
    assert first_kept(None, path, "p" * 40, room=10_000, ratio=4) == 0
    assert first_kept(None, path, "p" * 40, room=250, ratio=4) == 4
    assert first_kept(None, path, "p" * 4000, room=250, ratio=4) is None
    assert Counter(None, path).chars_per_token() > 1


async def test_the_server_saying_the_window_is_full_offers_the_same_ways_out(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(settings, None)
    recorder = Recorder()
    session.subscribe(recorder)
    server.queue(StreamReply(deltas=["one"], usage={"prompt_tokens": 760, "completion_tokens": 1}))
    await ask(session, "first " + "f" * 3000)
    server.queue(
        ErrorReply(
            400,
            '{"error": {"message": "This model\'s maximum context length is 800 tokens.",'
            ' "code": "context_length_exceeded"}}',
        ),
        StreamReply(deltas=["short enough"]),
    )
    await ask(session, "second")
    told = recorder.of(ContextTooLong)
    assert len(told) == 1 and told[0].prompt == "second" and told[0].fill.window == 800
    assert await session.retry_fitting(Fit.RECENT) is True
    await session.wait_for_reply()
    sent = server.requests[-1]["messages"]
    assert [m["content"] for m in sent] == ["second"]
    assert session.conversation.messages[-1].content == "short enough"
    await session.close()


def test_pipe_mode_refuses_a_prompt_longer_than_the_window_with_exit_status_2(
    server: OpenAIStyleServer, tmp_path
) -> None:
    from tests.cli_helpers import run_cli

    server.json_routes[("GET", "/models")] = {"data": [{"id": "m", "max_model_len": 4096}]}
    result = run_cli(server.base_url, "-p", "-m", "m", stdin="word " * 20_000)
    assert result.returncode == 2
    assert "more than the model's context window of 4,096" in result.stderr
    assert server.requests == []
    server.queue(StreamReply(deltas=["ok"]))
    result = run_cli(server.base_url, "-p", "-m", "m", stdin="word " * 2_000)
    assert result.returncode == 0 and result.stdout == "ok"


async def test_after_leaving_turns_out_the_next_prompts_leave_them_out_too(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    session = ChatSession(replace(settings, context_window=3000), None)
    for index in range(4):
        server.queue(StreamReply(deltas=[f"answer {index}"], usage=None))
        await ask(session, f"question {index} " + "q" * 2000)
    server.queue(StreamReply(deltas=["fits"], usage=None), StreamReply(deltas=["still"]))
    await ask(session, "last " + "z" * 2000, fit=Fit.RECENT)
    assert await ask(session, "and one more") is SendOutcome.SENT
    sent = server.requests[-1]["messages"]
    assert not any(m["content"].startswith("question 0") for m in sent)
    assert sent[-1]["content"] == "and one more"
    fill = await session.context_fill()
    assert fill is not None and fill.tokens < 3000
    await session.close()


async def test_compacting_keeps_the_prompts_image_and_esc_stops_it(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    from tests.image_helpers import png
    from tui.chat.images import image_part

    session = ChatSession(replace(settings, context_window=3000), None)
    server.queue(StreamReply(deltas=["one"], usage=None))
    await ask(session, "first " + "f" * 2000)
    picture = image_part("p.png", png(4, 4))
    server.queue(StreamReply(deltas=["Summary."]), StreamReply(deltas=["Seen."]))
    assert await ask(session, "look", fit=Fit.COMPACT, images=[picture]) is SendOutcome.SENT
    assert session.conversation.messages[0].images[0].digest == picture.digest
    assert server.requests[-1]["messages"][-1]["content"][1]["type"] == "image_url"
    server.queue(StreamReply(deltas=["slow", " summary"], delay=5))
    sending = asyncio.create_task(session.send("again", fit=Fit.COMPACT))
    await asyncio.sleep(0.3)
    assert session.is_compacting
    await session.cancel()
    assert await sending is SendOutcome.NOT_SENT
    assert len(session.conversation.root.children) == 2, "no third branch"
    await session.close()

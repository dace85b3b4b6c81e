"""F2 picks the conversation's model from the server's list; F3 sets its system prompt."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import OptionList

from tests.openai_server import OpenAIStyleServer
from tests.ui_helpers import chat_screen, screen_text, send_and_settle, wait_until
from tui.config import Settings
from tui.model_filter import rank_models
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.model_picker_screen import ModelPickerScreen
from tui.ui.system_prompt_screen import SystemPromptScreen


async def test_the_model_picker_filters_the_servers_list_and_the_choice_is_remembered(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.models = ["gpt-4o", "llama3.2:8b", "qwen2.5-coder:7b", "test-model"]
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await send_and_settle(pilot, "First question")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "4 models" in screen_text(pilot))
        assert "llama3.2:8b" in screen_text(pilot) and "(current)" in screen_text(pilot)
        await pilot.press(*"qwcoder")
        await wait_until(pilot, lambda: "gpt-4o" not in screen_text(pilot))
        assert "qwen2.5-coder:7b" in screen_text(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ModelPickerScreen))
        assert "qwen2.5-coder:7b" in screen_text(pilot).splitlines()[0]
        await send_and_settle(pilot, "Second question")
        conversation_id = chat_screen(pilot).conversation.id
    assert [request["model"] for request in server.requests] == ["test-model", "qwen2.5-coder:7b"]
    assert conversation_id is not None
    stored = Store.open(settings.db_path).load_conversation(conversation_id)
    assert stored is not None and stored.model == "qwen2.5-coder:7b"


async def test_without_a_model_list_a_typed_name_is_used(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.models = None
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: "type a model name" in screen_text(pilot))
        assert "no model list (404)" in screen_text(pilot)
        await pilot.press(*"my-own-model", "enter")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ModelPickerScreen))
        assert server.model_list_requests == 1, "the picker asked once"
        await send_and_settle(pilot, "Hi")
    assert server.requests[-1]["model"] == "my-own-model"


async def test_the_system_prompt_is_edited_or_taken_from_a_preset_and_sent_next(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    presets = {"terse": "Answer in one sentence.", "pirate": "Talk like a pirate."}
    settings = replace(settings, system_prompts=presets)
    async with ChatApp(settings).run_test(size=(110, 34)) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SystemPromptScreen))
        await pilot.press(*"Be brief.", "ctrl+s")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, SystemPromptScreen))
        await send_and_settle(pilot, "One")
        assert server.requests[-1]["messages"][0] == {"role": "system", "content": "Be brief."}
        await pilot.press("f3")
        await wait_until(pilot, lambda: "pirate" in screen_text(pilot))
        pilot.app.screen.query_one("#system-presets").focus()
        await pilot.press("down", "enter", "ctrl+s")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, SystemPromptScreen))
        await send_and_settle(pilot, "Two")
        conversation_id = chat_screen(pilot).conversation.id
    assert server.requests[-1]["messages"][0] == {
        "role": "system",
        "content": "Talk like a pirate.",
    }
    assert conversation_id is not None
    stored = Store.open(settings.db_path).load_conversation(conversation_id)
    assert stored is not None and stored.system_prompt == "Talk like a pirate."


async def test_a_list_of_twenty_thousand_models_shows_the_best_few_hundred_as_you_type(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.models = [f"vendor{n % 50}/model-{n}-chat" for n in range(20_000)] + ["qwen/zz-coder"]
    async with ChatApp(settings).run_test(size=(110, 30)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: "of 20001 models" in screen_text(pilot), timeout=10)
        picker = pilot.app.screen
        assert isinstance(picker, ModelPickerScreen)
        assert picker.query_one(OptionList).option_count == 200
        await pilot.press(*"zzcod")
        await wait_until(pilot, lambda: "1 model ·" in screen_text(pilot))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ModelPickerScreen))
        assert chat_screen(pilot).conversation.model == "qwen/zz-coder"


def test_ranking_puts_a_run_of_the_typed_letters_first() -> None:
    names = ["openai/gpt-4o", "qwen/qwen2.5-coder-7b", "x/q-w-e-n", "meta/llama-coder"]
    ranked, matched = rank_models("coder", names)
    assert ranked == ["meta/llama-coder", "qwen/qwen2.5-coder-7b"] and matched == 2
    assert rank_models("qwen", names)[0][0] == "qwen/qwen2.5-coder-7b"
    assert rank_models("", names) == (names, 4)

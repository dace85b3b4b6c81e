"""Selecting messages in the log and acting on them: copy, code copy, edit and resend,
regenerate, delete; the clipboard text asserted is exactly what the app emitted."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tests.openai_server import OpenAIStyleServer, StreamReply
from tests.ui_helpers import (
    chat_screen,
    last_reply_settled,
    replies,
    screen_text,
    send_and_settle,
    send_and_wait_for_text,
    wait_until,
)
from tui.chat.code_blocks import code_blocks, has_code_block
from tui.chat.conversation import Conversation
from tui.chat.message import MessageStatus
from tui.config import Settings
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.widgets.message_views import AssistantMessageView, UserMessageView
from tui.ui.widgets.rendered_markdown import RenderedMarkdown
from tui.ui.widgets.selectable_message import SelectableMessage

CODE_REPLY = [
    "Two snippets:\n\n```python\nprint('one')\nprint('two')\n```\n\n",
    "and\n\n~~~sh\necho three\n~~~\n",
]


async def test_up_down_select_messages_and_c_copies_the_raw_markdown(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=CODE_REPLY))
    async with ChatApp(settings).run_test(size=(100, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "Show code")
        await pilot.press("ctrl+up")
        assert isinstance(pilot.app.focused, AssistantMessageView)
        await pilot.press("c")
        assert pilot.app.clipboard == "".join(CODE_REPLY)
        await pilot.press("2")
        assert pilot.app.clipboard == "echo three"
        await pilot.press("1")
        assert pilot.app.clipboard == "print('one')\nprint('two')"
        await wait_until(pilot, lambda: "code block 1 of 2" in screen_text(pilot))
        await pilot.press("up")
        assert isinstance(pilot.app.focused, UserMessageView)
        await pilot.press("c")
        assert pilot.app.clipboard == "Show code"
        await pilot.press("escape")
        assert pilot.app.focused is chat_screen(pilot).prompt
        await pilot.press(*"/copy", "enter")
        assert pilot.app.clipboard == "".join(CODE_REPLY)


async def test_editing_an_earlier_prompt_branches_in_place_and_alt_left_goes_back(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(
        StreamReply(deltas=["First answer."]),
        StreamReply(deltas=["Second answer."]),
        StreamReply(deltas=["Edited answer."]),
    )
    async with ChatApp(settings).run_test(size=(100, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "First question")
        await send_and_settle(pilot, "Second question")
        await pilot.press("ctrl+up", "up", "up", "up")
        focused = pilot.app.focused
        assert isinstance(focused, UserMessageView)
        assert focused.message.content == "First question"
        await pilot.press("e")
        assert chat_screen(pilot).prompt.text == "First question"
        await pilot.press("end", *" (edited)", "enter")
        await wait_until(pilot, lambda: "Edited answer." in screen_text(pilot))
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        text = screen_text(pilot)
        assert "Second question" not in text and "First answer." not in text
        assert "‹ 2/2 ›" in text, "the edited prompt says it is the second of two"
        conversation_id = chat_screen(pilot).conversation.id
        await pilot.press("alt+left")  # back to the branch before the edit
        await wait_until(pilot, lambda: "Second answer." in screen_text(pilot))
        assert "Edited answer." not in screen_text(pilot)
        assert "‹ 1/2 ›" in screen_text(pilot)
    assert server.requests[-1]["messages"] == [
        {"role": "user", "content": "First question (edited)"}
    ]
    store = Store.open(settings.db_path)
    assert [s.id for s in store.list_conversations()] == [conversation_id], "no copy is made"
    current = store.load_conversation(conversation_id or 0)
    assert current is not None
    assert [m.content for m in current.messages] == [
        "First question",
        "First answer.",
        "Second question",
        "Second answer.",
    ], "the branch shown last is the one reopened"
    edited = current.siblings(current.messages[0])[1]
    assert edited.content == "First question (edited)"
    assert [m.content for m in edited.children] == ["Edited answer."]


async def test_r_regenerates_a_reply_and_d_twice_deletes_one_version(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Old."]), StreamReply(deltas=["New."]))
    async with ChatApp(settings).run_test(size=(100, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "Question")
        await pilot.press("ctrl+up", "r")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "New.")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        await pilot.press("ctrl+up", "d")
        await wait_until(pilot, lambda: "Press d again" in screen_text(pilot))
        assert replies(pilot), "one d only asks"
        await pilot.press("d")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "Old.")
        assert "‹" not in screen_text(pilot), "one version is left: no branch marker"
        await pilot.press("ctrl+up", "d", "d")
        await wait_until(pilot, lambda: not replies(pilot))
        conversation_id = chat_screen(pilot).conversation.id
        assert [m.content for m in chat_screen(pilot).conversation.messages] == ["Question"]
    stored = Store.open(settings.db_path).load_conversation(conversation_id or 0)
    assert stored is not None and [m.content for m in stored.messages] == ["Question"]


async def test_the_selection_follows_the_version_shown_through_r_and_alt_arrows(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Flipping between a reply's versions from the keyboard: the view of the selected
    message is made anew at each change, and the selection stays on the message in its
    place (it used to fall to the prompt above, where Alt+Right had nothing to switch)."""
    server.queue(
        StreamReply(deltas=["Old."]), StreamReply(deltas=["New."]), StreamReply(deltas=["Newer."])
    )

    def selected(pilot: Any) -> str | None:
        focused = pilot.app.focused
        return focused.message.content if isinstance(focused, SelectableMessage) else None

    async with ChatApp(settings).run_test(size=(100, 34), notifications=True) as pilot:
        await send_and_settle(pilot, "Question")
        await pilot.press("ctrl+up", "r")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.content == "New.")
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        assert selected(pilot) == "New.", "the new version is selected, not the prompt"
        await pilot.press("alt+left")
        await wait_until(pilot, lambda: "‹ 1/2 ›" in screen_text(pilot))
        assert "Old." in screen_text(pilot) and selected(pilot) == "Old."
        await pilot.press("alt+right")
        await wait_until(pilot, lambda: "‹ 2/2 ›" in screen_text(pilot))
        assert "New." in screen_text(pilot) and selected(pilot) == "New."
        await pilot.press("escape", "ctrl+r")  # from the prompt: the prompt keeps the focus
        await wait_until(pilot, lambda: "‹ 3/3 ›" in screen_text(pilot))
        assert pilot.app.focused is chat_screen(pilot).prompt


async def test_ctrl_r_far_back_selects_the_new_reply_at_the_end(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """Far back, the whole window is shown afresh when the path changes: the selection goes
    to the new reply (the prompt selected far back is no longer on screen)."""
    conversation = Conversation(model="m")
    store = Store.open(settings.db_path)
    store.save_conversation(conversation, None)
    for turn in range(40):
        store.save_message(conversation, conversation.add_user_message(f"Question {turn}"))
        reply = conversation.start_reply("m")
        reply.content, reply.status = f"Answer {turn}.\n\n" * 3, MessageStatus.DONE
        store.save_message(conversation, reply)
    store.close()
    server.queue(StreamReply(deltas=["A new last answer."]))
    async with ChatApp(settings, continue_last=True).run_test(size=(100, 34)) as pilot:
        await wait_until(pilot, lambda: "Answer 39." in screen_text(pilot))
        await pilot.press("ctrl+up", "home")
        await wait_until(pilot, lambda: "Question 0" in screen_text(pilot))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "A new last answer." in screen_text(pilot))
        await wait_until(pilot, lambda: replies(pilot)[-1].message.status is MessageStatus.DONE)
        focused = pilot.app.focused
        assert isinstance(focused, AssistantMessageView)
        assert focused.message.content == "A new last answer."


async def test_clicking_a_code_block_copies_it_while_streaming_or_finished(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    paragraphs = "".join(f"Paragraph {n} of the explanation.\n\n" for n in range(14))
    frozen_reply = "```python\nprint('frozen one')\n```\n\n" + paragraphs
    server.queue(
        StreamReply(deltas=[*CODE_REPLY, " still streaming"], delay=0.5),
        StreamReply(deltas=[frozen_reply]),
    )
    async with ChatApp(settings).run_test(size=(100, 60), notifications=True) as pilot:
        await send_and_wait_for_text(pilot, "Show code", "echo three")
        streaming = replies(pilot)[-1].query_one(RenderedMarkdown)
        await wait_until(
            pilot, lambda: any("print('two')" in streaming.line_text(y) for y in range(40))
        )
        row = next(y for y in range(40) if "print('two')" in streaming.line_text(y))
        await pilot.click(streaming, offset=(6, row))  # while the reply still streams
        assert pilot.app.clipboard == "print('one')\nprint('two')"
        await wait_until(pilot, lambda: last_reply_settled(pilot))
        await send_and_settle(pilot, "More")
        frozen = replies(pilot)[-1].query_one(RenderedMarkdown)
        row = next(y for y in range(200) if "frozen one" in frozen.line_text(y))
        frozen.scroll_visible(animate=False)
        await pilot.pause(0.2)
        await pilot.click(frozen, offset=(8, row))
        assert pilot.app.clipboard == "print('frozen one')"


FOCUS_DEPENDENT = {"", "*", "message", "Widget"} | {
    cls.__name__ for view in (AssistantMessageView, UserMessageView) for cls in view.__mro__
}
"""Selector names that could match a message view (`SelectableMessage` restyles a view
alone when its focus changes, so nothing inside it may be styled by that focus)."""


async def test_a_selected_message_looks_as_restyling_every_widget_draws_it(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    server.queue(StreamReply(deltas=["Some `inline code`, **bold** and a [link](x).\n\n"]))
    server.queue(StreamReply(deltas=CODE_REPLY))
    async with ChatApp(settings).run_test(size=(100, 34)) as pilot:
        await send_and_settle(pilot, "Some text")
        await send_and_settle(pilot, "Show code")
        styled_inside_by_focus = [
            rule.css
            for rule in pilot.app.stylesheet.rules
            for selectors in rule.selector_set
            for selector in selectors.selectors[:-1]
            if "focus" in selector.pseudo_classes and selector.name in FOCUS_DEPENDENT
        ]
        assert styled_inside_by_focus == []
        compositor = pilot.app.screen._compositor
        for key in ("ctrl+up", "up", "up", "down", "escape"):
            await pilot.press(key)
            await pilot.pause(0.2)  # the footer's keys follow the focus a few frames later
            shown = compositor.render_strips()
            pilot.app.stylesheet.update(pilot.app.screen)
            for widget in pilot.app.screen.walk_children(with_self=True):
                widget._styles_cache.clear()
                widget.notify_style_update()
                widget.refresh()
            await pilot.pause()
            assert compositor.render_strips() == shown, f"after {key}"


class ColouredView(SelectableMessage, Vertical):
    """A message view whose focus changes the colour its text inherits."""

    DEFAULT_CSS = """
    ColouredView { height: auto; border: round $primary; }
    ColouredView:focus { border: heavy $accent; color: red; }
    ColouredView > Static { height: auto; }
    """


class ColouredViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("above")
        with ColouredView():
            yield Static("prompt text")


async def test_text_inside_a_message_follows_what_its_focus_makes_it_inherit() -> None:
    """A message view restyles itself alone when its focus changes, but its text inherits
    what its focus sets (a colour, a tint): that text is drawn again with the new one
    (found by a review: after the focus left, the text stayed red)."""
    app = ColouredViewApp()
    async with app.run_test(size=(30, 6)) as pilot:
        view = app.query_one(ColouredView)

        def text_colour() -> str | None:
            row = app.screen._compositor.render_strips()[2]
            segment = next(segment for segment in row if "prompt" in segment.text)
            colour = segment.style.color if segment.style else None
            return colour.name if colour else None

        for focused in (True, False, True, False):
            if focused:
                view.focus()
            else:
                app.screen.set_focus(None)
            await pilot.pause()
            assert (text_colour() == "#ff0000") is focused, f"focused: {focused}"


async def test_selecting_a_reply_draws_its_frame_again_not_its_text(
    server: OpenAIStyleServer, settings: Settings
) -> None:
    """A reply's view has no background, so the tint its focus adds shows nowhere and its
    text looks the same selected or not: drawing all of that text again at every key
    (with what it sits in, three layers deep) was half of each frame while Up was held."""
    server.queue(StreamReply(deltas=["A short first answer with **bold**.\n"]))
    server.queue(StreamReply(deltas=["A short second answer with `code`.\n"]))
    async with ChatApp(settings).run_test(size=(100, 34)) as pilot:
        await send_and_settle(pilot, "First")
        await send_and_settle(pilot, "Second")
        await pilot.press("ctrl+up")
        await pilot.pause(0.2)
        lines_drawn = 0
        draw_line = RenderedMarkdown.render_line

        def counted(widget: RenderedMarkdown, y: int) -> Any:
            nonlocal lines_drawn
            lines_drawn += 1
            return draw_line(widget, y)

        RenderedMarkdown.render_line = counted  # type: ignore[method-assign]
        try:
            for _ in range(3):  # the second question, the first answer, the first question
                await pilot.press("up")
                await pilot.pause(0.2)
        finally:
            RenderedMarkdown.render_line = draw_line  # type: ignore[method-assign]
        assert isinstance(pilot.app.focused, UserMessageView)
        assert lines_drawn == 0


@pytest.mark.parametrize(
    "text",
    [
        "```\ncode\n```",
        "   ~~~sh\nls",  # three spaces, unclosed: still a block
        "    ```\nindented four: code of its own, no fence",
        "\t```\na tab is no indent of a fence",
        "words ``` in the middle\n",
        "first\r\n```py\r\nx\r\n```\r\n",
        "`` not three ``",
        "~~ nor this ~~\n```",
        "",
    ],
)
def test_the_footers_quick_look_for_a_code_block_agrees_with_copying_one(text: str) -> None:
    """ "Copy code" is offered where `has_code_block` says (asked at every move onto a
    reply); what it copies is `code_blocks`."""
    assert has_code_block(text) == bool(code_blocks(text))

"""Helpers for driving the real app headless: wait for what a user would wait for."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

from textual.pilot import Pilot
from textual.screen import Screen

from tui.chat.message import MessageStatus
from tui.ui.chat_screen import ChatScreen
from tui.ui.widgets.message_views import AssistantMessageView


async def wait_until(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
    await pilot.pause()


def chat_screen(pilot: Pilot) -> ChatScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, ChatScreen)
    return screen


def replies(pilot: Pilot) -> list[AssistantMessageView]:
    return list(chat_screen(pilot).log_view.query(AssistantMessageView))


def last_reply_settled(pilot: Pilot) -> bool:
    views = replies(pilot)
    return (
        bool(views)
        and views[-1].message.status is not MessageStatus.STREAMING
        and not (chat_screen(pilot).is_streaming)
    )


async def type_and_send(pilot: Pilot, text: str) -> None:
    screen = chat_screen(pilot)
    screen.prompt.focus()
    screen.prompt.insert(text)
    await pilot.press("enter")


def screen_text(pilot: Pilot) -> str:
    """The characters currently on the (virtual) screen, as a user would read them."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def send_and_settle(pilot: Pilot, text: str, timeout: float = 5.0) -> None:
    """Sends a prompt and waits until its reply has ended, however it ended."""
    await type_and_send(pilot, text)
    await wait_until(pilot, lambda: last_reply_settled(pilot), timeout)


async def send_and_wait_for_text(pilot: Pilot, prompt: str, text: str) -> None:
    """Sends a prompt and waits until `text` has been rendered in the reply (mid-stream)."""
    await type_and_send(pilot, prompt)
    await wait_until(pilot, lambda: text in replies(pilot)[-1].body.rendered_text)


@contextlib.contextmanager
def counting_reflows() -> Iterator[list[int]]:
    """Counts the screen's layouts (`Screen._refresh_layout`: full reflows and scroll
    reflows) while the block runs, in the list it gives: a frame that needs no layout
    must not cost one."""
    reflows: list[int] = []
    refresh_layout = Screen._refresh_layout

    def counted(screen: Screen[object], *args: object, **kwargs: object) -> None:
        reflows.append(1)
        refresh_layout(screen, *args, **kwargs)  # type: ignore[arg-type]

    Screen._refresh_layout = counted  # type: ignore[method-assign,assignment]
    try:
        yield reflows
    finally:
        Screen._refresh_layout = refresh_layout  # type: ignore[method-assign]

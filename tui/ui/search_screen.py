"""Ctrl+F: search every stored message as you type; Enter opens the conversation there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.chat.safe_text import make_safe
from tui.store import Store
from tui.ui.conversations_screen import OpenConversation

READ_AHEAD_AFTER = 0.15
"""Seconds the hits stay the same before the first one's conversation is read ahead
(at once when the same conversation led the hits of the key before too)."""


class SearchScreen(ModalScreen[OpenConversation | None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="search.close"),
        Binding("down", "focus_results", "Results", show=False, id="search.results"),
    ]

    def __init__(self, store: Store, read_ahead: Callable[[int | None], None]) -> None:
        """`read_ahead`: told the conversation of the hit Enter would open, so that it is
        read while the user looks at the hits (None once the search closes unused)."""
        super().__init__()
        self.store = store
        self.read_ahead = read_ahead
        self._leading: int | None = None
        """The conversation of the first hit of the last search."""

    def compose(self) -> ComposeResult:
        with Vertical(id="search-panel"):
            yield Static("Search all conversations — Enter opens · Esc closes", id="search-title")
            yield Input(placeholder="Type to search", id="search-input")
            yield OptionList(id="search-results")
            yield Static(id="search-nothing")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _search(self, event: Input.Changed) -> None:
        if not self.is_active:
            return  # a key handled after Enter or Escape: nothing more to find or read
        results = self.query_one(OptionList)
        results.clear_options()
        for hit in self.store.search(event.value):
            label = Content.assemble(
                (make_safe(hit.title)[:40], "bold"), "  ", make_safe(hit.snippet)
            )
            results.add_option(Option(label, id=f"{hit.conversation_id}:{hit.message_id}"))
        self._say_if_nothing_matches(event.value.strip(), found=results.option_count > 0)
        first = results.get_option_at_index(0).id if results.option_count else None
        leading = _hit_of(first).conversation_id if first else None
        if leading is not None and leading == self._leading:
            # It led the key before too: likely the one Enter opens, and the user is
            # still typing. Read now: waiting for the typing to stop, then reading, took
            # longer than a quick Enter (20,000 messages: 0.35 s to the hit on screen).
            self.workers.cancel_group(self, "read-ahead")
            self.read_ahead(leading)
        else:
            self._read_ahead_once_the_hits_stay(leading)
        self._leading = leading

    def _say_if_nothing_matches(self, query: str, *, found: bool) -> None:
        """An empty list looks the same as a search still running: one that found
        nothing says so, in place of the list (an empty box searches nothing)."""
        nothing = self.query_one("#search-nothing", Static)
        said = bool(query) and not found
        if said:
            nothing.update(Content.assemble("Nothing matches ", (make_safe(query), "bold"), "."))
        nothing.display = said
        self.query_one(OptionList).display = not said

    @work(exclusive=True, group="read-ahead")
    async def _read_ahead_once_the_hits_stay(self, leading: int | None) -> None:
        """`leading` read ahead once the hits stay the same a moment (not at every key
        typed: the next key's search replaces this worker)."""
        await asyncio.sleep(READ_AHEAD_AFTER)
        if leading is not None:
            self.read_ahead(leading)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.has_focus:  # the user picks among the hits (not new hits)
            self._read_ahead_of(event.option.id)

    def _read_ahead_of(self, option_id: str | None) -> None:
        if option_id:
            self.read_ahead(_hit_of(option_id).conversation_id)

    @on(Input.Submitted)
    def _open_first(self) -> None:
        results = self.query_one(OptionList)
        if results.option_count:
            self._open(results.get_option_at_index(0).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id)

    def _open(self, option_id: str | None) -> None:
        self.workers.cancel_group(self, "read-ahead")
        if option_id:
            self.dismiss(_hit_of(option_id))

    def action_close(self) -> None:
        self.workers.cancel_group(self, "read-ahead")  # (one waiting would read after this)
        self.read_ahead(None)
        self.dismiss(None)

    def action_focus_results(self) -> None:
        """Down from the box: the hits, the first one highlighted (with none, Enter on the
        list did nothing)."""
        results = self.query_one(OptionList)
        if not results.option_count:
            return  # (hidden when nothing matches: the keys typed next would be lost there)
        results.focus()
        if results.highlighted is None:
            results.highlighted = 0


def _hit_of(option_id: str) -> OpenConversation:
    """The conversation and message a hit's option stands for (its id is "conv:message")."""
    conversation_id, message_id = option_id.split(":")
    return OpenConversation(int(conversation_id), int(message_id))

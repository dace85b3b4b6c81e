"""Ctrl+B: the stored conversations, newest first; open, rename or delete one."""

from __future__ import annotations

import time

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.chat.safe_text import make_safe
from tui.frozen import frozen
from tui.session import ChatSession
from tui.ui.kept_layouts import forget_kept_text


@frozen
class OpenConversation:
    """What the list (or search) screen asks of the chat screen when it closes."""

    conversation_id: int
    message_id: int | None = None


class ConversationsScreen(ModalScreen[OpenConversation | None]):
    """Renames and deletes go through the session, the only writer of conversations, so
    the open one's title or existence never goes stale."""

    BINDINGS = [
        Binding("escape,ctrl+b", "close", "Close", id="list.close"),
        Binding("r", "rename", "Rename", id="list.rename"),
        Binding("d,delete", "delete", "Delete", id="list.delete"),
    ]

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session
        self._confirming: int | None = None
        self._titles: dict[int, str] = {}
        """Each listed conversation's title, made safe: what a rename starts from."""

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations-panel"):
            yield Static(
                "Conversations — Enter opens · r renames · d deletes · Esc closes",
                id="conversations-title",
            )
            yield OptionList(id="conversation-options")
            yield Input(placeholder="New title, Enter to save", id="rename-input")
            yield Static("", id="conversations-hint")

    def on_mount(self) -> None:
        self.query_one("#rename-input").display = False
        self._reload()
        self.query_one(OptionList).focus()

    def _reload(self, highlight: int | None = None) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        store = self.session.store
        for item in store.list_conversations() if store is not None else []:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.updated_at))
            label = Content.assemble(
                (when, "dim"),
                "  ",
                make_safe(item.title or "(untitled)"),
                (f"  {item.message_count} msgs", "dim"),
            )
            options.add_option(Option(label, id=str(item.id)))
            self._titles[item.id] = make_safe(item.title or "")
        if options.option_count:
            options.highlighted = min(highlight or 0, options.option_count - 1)
        else:
            self.query_one("#conversations-hint", Static).update("No conversations yet.")

    def _highlighted_id(self) -> int | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        return int(option.id) if option.id else None

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(OpenConversation(int(event.option.id)))

    def action_close(self) -> None:
        rename = self.query_one("#rename-input", Input)
        if rename.display:
            rename.display = False
            self.query_one(OptionList).focus()
            return
        self.dismiss(None)

    def action_rename(self) -> None:
        """The title to edit, all of it selected when focused (the input's own
        `select_on_focus`): typing replaces it, an arrow key keeps it to change."""
        conversation_id = self._highlighted_id()
        if conversation_id is None:
            return
        rename = self.query_one("#rename-input", Input)
        rename.display = True
        rename.value = self._titles.get(conversation_id, "")
        rename.focus()

    @on(Input.Submitted, "#rename-input")
    async def _save_title(self, event: Input.Submitted) -> None:
        conversation_id = self._highlighted_id()
        title = " ".join(event.value.split())
        if conversation_id is not None and title:
            await self.session.rename(title, conversation_id)
        event.input.display = False
        index = self.query_one(OptionList).highlighted
        self._reload(index)
        self.query_one(OptionList).focus()

    async def action_delete(self) -> None:
        """First press asks, a second press on the same conversation deletes it."""
        conversation_id = self._highlighted_id()
        if conversation_id is None:
            return
        hint = self.query_one("#conversations-hint", Static)
        if self._confirming != conversation_id:
            self._confirming = conversation_id
            hint.update("Press d again to delete this conversation for good; Esc keeps it.")
            return
        self._confirming = None
        index = self.query_one(OptionList).highlighted
        await self.session.delete_conversation(conversation_id)
        forget_kept_text(self.session.settings.db_path.parent)  # (its text, maybe)
        hint.update("Deleted.")
        self._reload(index)

"""What makes a message in the log selectable: focus, Up/Down between messages, and the
per-message keys (copy, edit, regenerate, delete, copy a code block).

The view only says what the user asked for, with `ActionRequested`; the chat screen, which
owns the conversation and the store, decides what that means.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message as TextualMessage
from textual.widget import Widget

from tui.chat.message import Message
from tui.commands import Scope
from tui.ui.bindings import bindings_for


class SelectableMessage(Widget, can_focus=True):
    BINDINGS = bindings_for(Scope.MESSAGE)

    @dataclass
    class ActionRequested(TextualMessage):
        message: Message
        action: str
        """copy, edit, regenerate, delete, copy_code, leave, first, last, or select (past
        the turns mounted now)."""
        index: int = 0
        """For copy_code: which code block, from 1; for select: the step, -1 or 1."""

    message: Message

    def watch_has_focus(self, _has_focus: bool) -> None:
        """Restyles this view alone. Textual restyles everything inside a widget whose focus
        changes, in case a rule styles it by that focus; no rule here does (a test keeps
        them so), and each reply's text has some twenty component classes to match again:
        about 3 ms a key while Up is held through a long history. What the widgets inside
        inherit from the view (its colour, tint) may change with its focus: then they
        forget the styles they worked out from it, and are drawn again."""
        before = self._handed_down()
        self.app.stylesheet.update_nodes([self], animate=True)
        if self._handed_down() != before:
            for widget in self.walk_children(Widget):
                widget.notify_style_update()
                widget.refresh()

    def _handed_down(self) -> tuple[object, ...]:
        """What of this view's style the widgets inside it draw with."""
        styles = self.styles
        return (
            styles.color,
            styles.text_style,
            styles.background,
            styles.background_tint,
            styles.opacity,
            styles.text_opacity,
        )

    def action_select(self, step: int) -> None:
        """The message above or below; past the turns mounted now, the screen loads more
        (focusing the next focusable widget wrapped around from the top to the bottom)."""
        parent = self.parent
        views = [view for view in parent.children if view.has_class("message")] if parent else []
        target = views.index(self) + step if self in views else -1
        if 0 <= target < len(views):
            views[target].focus()
        else:
            self.post_message(self.ActionRequested(self.message, "select", step))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`d` is offered only while no reply streams: the screen deletes nothing then (it
        says so). The screen reports streaming as its `is_streaming`."""
        if action == "request" and parameters[:1] == ("delete",):
            return not getattr(self.screen, "is_streaming", False)
        return True

    def action_request(self, action: str, index: int = 0) -> None:
        self.post_message(self.ActionRequested(self.message, action, index))

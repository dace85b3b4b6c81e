"""The views of one message each: the user's prompt and the assistant's reply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from tui.chat.code_blocks import code_blocks, has_code_block
from tui.chat.conversation import Conversation
from tui.chat.events import ChatError
from tui.chat.message import Message, MessageStatus, Role
from tui.chat.safe_text import make_safe
from tui.commands import Scope
from tui.error_words import tell, tell_skipped
from tui.ui.bindings import bindings_for
from tui.ui.kept_lines import BlankBehindChildren
from tui.ui.terminal_graphics import thumbnail
from tui.ui.widgets.rendered_markdown import RenderedMarkdown
from tui.ui.widgets.reply_body import ReplyBody
from tui.ui.widgets.selectable_message import SelectableMessage
from tui.ui.widgets.thinking_block import ThinkingBlock

if TYPE_CHECKING:
    from tui.ui.widgets.tool_activity import ToolActivity


class UserMessageView(SelectableMessage, Static):
    """The user's prompt, shown verbatim (never as Markdown or markup)."""

    BINDINGS = bindings_for(Scope.PROMPT)

    def __init__(self, message: Message) -> None:
        super().__init__(prompt_content(message), classes="message user")
        self.message = message
        self.border_title = "You"


class UserImagesView(SelectableMessage, Vertical):
    """A prompt with images, in a terminal that draws pictures: its text and chips, then a
    row of thumbnails. A container of its own, made only for such prompts: the plain view
    stays one widget, which a long conversation's opening time counts."""

    BINDINGS = bindings_for(Scope.PROMPT)

    def __init__(self, message: Message, thumbnails: list[Widget]) -> None:
        super().__init__(classes="message user")
        self.message = message
        self.border_title = "You"
        self.thumbnails = thumbnails

    def compose(self) -> ComposeResult:
        yield Static(prompt_content(self.message), classes="prompt-text")
        with Horizontal(classes="thumbnails"):
            yield from self.thumbnails


def prompt_content(message: Message) -> Content:
    """The prompt's text as typed, then a chip per image: `📷 name (size, WxH)`."""
    text = shown_part(message.content)
    for image in message.images:
        text += f"\n📷 {image.label()}"
    return Content(make_safe(text.strip("\n")))


class NoticeView(Static):
    """A note from the app itself, such as how to set an API key."""

    def __init__(self, text: str, *, classes: str = "") -> None:
        super().__init__(Content(text), classes=f"notice {classes}".strip())


class AssistantMessageView(SelectableMessage, BlankBehindChildren, Vertical):
    """An assistant reply: its Markdown body and, under it, how it ended if not cleanly."""

    BINDINGS = [
        *bindings_for(Scope.REPLY),
        *[
            Binding(str(n), f"request('copy_code', {n})", f"Copy code {n}", show=False)
            for n in range(2, 10)
        ],
    ]

    def __init__(self, message: Message) -> None:
        super().__init__(classes="message assistant")
        self.message = message
        # A model name is the server's text: never read as markup (a link, an action).
        self.border_title = Content(make_safe(message.model or "Assistant"))
        self.body = ReplyBody(message.content if message.is_final else "")
        # Made with the view when there is one to show: updating a mounted widget asks the
        # compositor for its size, which right after a mount means rebuilding its map (a
        # tenth of the CPU while scrolling back through history). Otherwise made only once
        # there is one: nearly every reply ends cleanly, and a widget more per stored reply
        # was a sixth of what scrolling through history left for the garbage collector.
        initial_outcome = outcome_text(message)
        self.outcome: Static | None = _outcome_line(initial_outcome) if initial_outcome else None
        self.thinking: ThinkingBlock | None = None
        if message.is_final and message.reasoning:
            self.thinking = ThinkingBlock(message.reasoning, live=False)
        self._code_block_found: tuple[str, bool] | None = None
        self.tools: ToolActivity | None = _tool_activity() if message.tool_calls else None
        """Made for a reply that calls tools only: a widget more in every view of a long
        conversation would cost its opening time."""

    def compose(self) -> ComposeResult:
        if self.thinking is not None:
            yield self.thinking
        yield self.body
        if self.tools is not None:
            yield self.tools
        if self.outcome is not None:
            yield self.outcome

    def on_click(self, event: events.Click) -> None:
        """A click on a code block copies that block (streaming or finished); elsewhere it just
        selects the message."""
        line = _clicked_code_line(event)
        if line is None:
            return
        blocks = code_blocks(self.message.content)
        for index, block in enumerate(blocks, start=1):
            if line == block.code or (
                line and any(line == code_line.strip() for code_line in block.code.splitlines())
            ):
                self.action_request("copy_code", index)
                return

    def show_tools(self, running: str | None = None, asking: str | None = None) -> None:
        """The reply's calls as they stream, wait, run and end."""
        if self.tools is None:
            self.tools = _tool_activity()
            self.mount(self.tools, after=self.body)
        self.tools.show(self.message, running, asking)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`t` is offered only on a reply that called tools, the code block keys only on
        one with a code block."""
        if action == "open_tool_calls":
            return bool(self.message.tool_calls)
        if action == "request" and parameters[:1] == ("copy_code",):
            return self._has_code_block()
        return super().check_action(action, parameters)

    def _has_code_block(self) -> bool:
        """Asked for each of the nine code keys, several times a move onto the reply: found
        once per text (the same text is one comparison, the same string none)."""
        text = self.message.content
        if self._code_block_found is None or self._code_block_found[0] != text:
            self._code_block_found = (text, has_code_block(text))
        return self._code_block_found[1]

    def action_open_tool_calls(self) -> None:
        """t on a selected reply: its calls' arguments and results, or not."""
        if self.tools is not None:
            self.tools.open_or_close_all()

    def feed_reasoning(self, text: str) -> None:
        """Streams the model's thinking into a block above the answer, made on first use."""
        if self.thinking is None:
            self.thinking = ThinkingBlock(text, live=True)
            self.mount(self.thinking, before=self.body)
        else:
            self.thinking.feed(text)

    def end_reasoning(self) -> None:
        if self.thinking is not None:
            self.thinking.end()

    def on_mount(self) -> None:
        self._show_status_in_border()
        if self.tools is not None:
            self.tools.show(self.message)

    def show_outcome(self, error: ChatError | None = None) -> None:
        """Marks how the reply ended: stopped, failed (with the cause and fix), or cut short."""
        self._set_outcome(outcome_text(self.message, error))
        # A class change restyles every widget inside the view (63 ms at the end of a long
        # reply): the frame that shows the reply's last words goes first.
        self.call_after_refresh(self._show_status_in_border)

    def _show_status_in_border(self) -> None:
        status = self.message.status
        self.set_class(status is MessageStatus.STREAMING, "-streaming")
        self.set_class(status is MessageStatus.ERROR, "-error")
        self.set_class(status in (MessageStatus.STOPPED, MessageStatus.INTERRUPTED), "-stopped")

    def show_retry(self, notice: str) -> None:
        """While an automatic retry waits, says why and when, under the empty reply."""
        self._set_outcome(f"⟳ {notice}")

    def _set_outcome(self, text: str) -> None:
        """Shows `text` under the reply (none: nothing), in the line made on first use."""
        if self.outcome is not None:
            self.outcome.update(Content(make_safe(text)))
            self.outcome.display = bool(text)
        elif text:
            self.outcome = _outcome_line(text)
            if self.body.parent is self:  # composed already; otherwise `compose` yields it
                self.mount(self.outcome)


def _outcome_line(text: str) -> Static:
    return Static(Content(make_safe(text)), classes="outcome")


def _tool_activity() -> ToolActivity:
    from tui.ui.widgets.tool_activity import ToolActivity  # loaded with the first call

    return ToolActivity()


LONGEST_PROMPT_SHOWN = 10_000
"""Characters of a prompt drawn in the log; the rest is kept, sent and copied (c), but
laying out megabytes of a pasted log in the conversation froze the app."""


def shown_part(text: str) -> str:
    if len(text) <= LONGEST_PROMPT_SHOWN:
        return text
    rest = len(text) - LONGEST_PROMPT_SHOWN
    return f"{text[:LONGEST_PROMPT_SHOWN]}\n… {rest:,} more characters (sent whole; c copies all)"


def outcome_text(message: Message, error: ChatError | None = None) -> str:
    ended = _how_it_ended(message, error)
    if message.skipped_events:
        skipped = f"⚠ {tell_skipped(message.skipped_events)}"
        return f"{ended}\n{skipped}" if ended else skipped
    return ended


def _how_it_ended(message: Message, error: ChatError | None) -> str:
    status = message.status
    if status is MessageStatus.STOPPED:
        return "■ stopped — Ctrl+R regenerates"
    if status is MessageStatus.INTERRUPTED:
        return "■ interrupted (the app closed mid-reply) — Ctrl+R regenerates"
    if status is MessageStatus.ERROR:
        if error is not None:
            told = tell(error, in_app=True)
            return (
                f"✖ {told.title}"
                + (f": {told.detail}" if told.detail else "")
                + (f"\n{told.hint}" if told.hint else "")
            )
        return f"✖ {message.error or 'the reply failed'}\nPress Ctrl+R to try again."
    if status is MessageStatus.DONE and message.finish_reason == "length":
        return "… cut off by the token limit (finish_reason: length)"
    if status is MessageStatus.DONE and message.finish_reason == "content_filter":
        return "⚠ stopped by the server's content filter"
    return ""


def _clicked_code_line(event: events.Click) -> str | None:
    """The stripped text of the line a click landed on (matched back to its code block by
    the caller)."""
    widget = event.widget
    if isinstance(widget, RenderedMarkdown):
        offset = event.get_content_offset(widget)
        return widget.line_text(offset.y).strip() if offset is not None else None
    return None


BRANCH_MARKS = ("\u2039", "\u203a")
"""Single angle quotation marks around "2/3": they read as arrows (Alt+Left, Alt+Right)."""


def branch_label(conversation: Conversation, message: Message) -> str:
    """ "2/3" between angle marks on a message that has alternatives (versions, edits);
    empty otherwise."""
    number, count = conversation.position(message)
    left, right = BRANCH_MARKS
    return f"{left} {number}/{count} {right}" if count > 1 else ""


def message_view(conversation: Conversation, message: Message) -> Widget:
    """The view of a stored or new message, its place among its versions on its border."""
    view: UserMessageView | UserImagesView | AssistantMessageView
    if message.role is not Role.USER:
        view = AssistantMessageView(message)
    elif message.images and (pictures := _thumbnails(message)):
        view = UserImagesView(message, pictures)
    else:
        view = UserMessageView(message)
    view.border_subtitle = branch_label(conversation, message)
    return view


def _thumbnails(message: Message) -> list[Widget]:
    return [picture for image in message.images if (picture := thumbnail(image)) is not None]

"""Sending what the prompt holds, and what comes of it: the prompt given back as typed
when it was not sent (a reply already has one waiting, the conversation it was typed for
could not be read, the user declined to send a prompt too long for the context window),
and the choice offered when a prompt is too long.

A part of `ChatScreen` kept in its own file (a mixin), as `conversation_actions` is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from tui.attachments import Attachment
from tui.chat.images import ImagePart
from tui.chat.message import Message
from tui.chat.session_events import ContextTooLong
from tui.session import ChatSession, SendOutcome
from tui.session_context import Fit
from tui.ui.prompt_commands import PromptCommands, tell

# For mypy the mixin is the screen it is mixed into; at run time it is a plain class.
if TYPE_CHECKING:
    from tui.chat.conversation import Conversation

    _MixedInto = Screen[None]
else:
    _MixedInto = object


class PromptSending(_MixedInto):
    """Needs from the screen: its session, prompt commands and the prompt waiting for a
    reply to end."""

    session: ChatSession
    prompt_commands: PromptCommands
    _waiting: tuple[str, list[Attachment]] | None

    @property
    def conversation(self) -> Conversation:
        raise NotImplementedError

    async def _send(
        self,
        text: str,
        images: list[ImagePart],
        typed: tuple[str, list[Attachment]],
        editing: Message | None,
    ) -> None:
        if editing is not None and editing in self.conversation.messages:
            outcome = await self.session.edit_and_resend(editing, text)
        else:
            outcome = await self.session.send(text, images=images)
        if outcome is SendOutcome.REPLACED:  # typed for a conversation that could not be read
            self._give_back(*typed)
            tell(self, "Not sent: that conversation could not be read. Your prompt is back.")
            return
        if outcome is SendOutcome.TOO_LONG:
            fill = await self.session.context_fill(text)
            if fill is None:  # the window is known, or the send would not have been refused
                return
            from tui.ui.context_full_screen import ContextFullScreen  # rarely needed

            choice = await self.app.push_screen_wait(ContextFullScreen(fill, from_server=False))
            if choice is None:
                self._give_back(*typed)
                return
            outcome = await self.session.send(text, fit=Fit(choice), images=images)
            if outcome in (SendOutcome.NOT_SENT, SendOutcome.REPLACED):
                self._give_back(*typed)
        if outcome is SendOutcome.QUEUED:
            self._waiting = typed  # as typed: Esc gives back the words and the chips apart
        elif outcome is SendOutcome.BUSY:
            self._give_back(*typed)
            self.notify("A prompt is already waiting for this reply; this one stays in the box.")

    def _offer_fitting(self, event: ContextTooLong) -> None:
        """The server refused the last prompt as too long: the same choice as before
        sending, then the prompt goes again."""

        async def offer() -> None:
            from tui.ui.context_full_screen import ContextFullScreen  # rarely needed

            screen = ContextFullScreen(event.fill, from_server=True)
            choice = await self.app.push_screen_wait(screen)
            if choice is not None:
                await self.session.retry_fitting(Fit(choice))

        self.run_worker(offer(), group="send")

    def _give_back(self, typed: str, attachments: list[Attachment]) -> None:
        """A prompt that was not sent goes back as it was typed: its words in the box, its
        files (and a large paste) as chips again, never pasted into the box."""
        self.prompt_commands.give_back(typed)
        self.prompt_commands.show([*attachments, *self.prompt_commands.attachments])

"""What the prompt box sends besides prompts: slash commands, run from the command table,
and attached files, shown as chips until the next prompt carries them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.notifications import SeverityLevel
from textual.widgets import Static

from tui.attachments import (
    IMAGE_MAX_BYTES,
    Attachment,
    AttachmentRefused,
    images_of,
    read_attachment,
    with_attachments,
)
from tui.chat.images import ImagePart
from tui.chat.safe_text import make_safe
from tui.commands import slash_command, slash_names
from tui.ui.slash_commands import SlashCommand

if TYPE_CHECKING:
    from textual.screen import Screen

    from tui.ui.widgets.prompt_input import PromptInput


class PromptCommands:
    def __init__(self, screen: Screen[None], prompt: PromptInput, chips: Static) -> None:
        self.screen = screen
        self.prompt = prompt
        self.chips = chips
        self.attachments: list[Attachment] = []
        self.image_limit = IMAGE_MAX_BYTES

    def run(self, typed: SlashCommand) -> None:
        """Runs a slash command as the screen action the command table names: the action
        itself, not `run_action`, so that asked for by name a command says why it has
        nothing to do ("Nothing to retry yet"), where a key the footer leaves out
        (`check_action`) does nothing."""
        command = slash_command(typed.name)
        if command is None:
            tell(
                self.screen,
                f"Unknown command {typed.name}. Commands: {' '.join(slash_names())}. "
                "Start with // to send a line that begins with /.",
                warning=True,
            )
        elif command.id.startswith("chat.export"):
            kind = "json" if typed.argument.lower() == "json" else "md"
            export = getattr(self.screen, "action_export")  # noqa: B009 (typed as any Screen)
            self.screen.call_later(export, kind)
        elif command.argument:
            getattr(self.screen, f"action_{command.action}")(typed.argument)
        else:
            self.screen.call_later(getattr(self.screen, f"action_{command.action}"))

    def with_attachments(self, text: str) -> tuple[str, list[ImagePart]]:
        """The prompt with the attached text files in it, and the attached images; the
        chips go."""
        text, images = with_attachments(text, self.attachments), images_of(self.attachments)
        self.show([])
        return text, images

    def attach(self, path: str) -> None:
        if not path:
            self.show([])
            self.screen.notify("Attachments removed.", timeout=2)
            return
        try:
            attachment = read_attachment(path, self.image_limit)
        except AttachmentRefused as error:
            tell(self.screen, f"Not attached: {error}", warning=True)
            return
        self.show([*self.attachments, attachment])

    def attach_text(self, name: str, text: str) -> None:
        """A paste too large for the prompt box, attached whole to the next prompt."""
        self.show([*self.attachments, Attachment(name, text)])

    def show(self, attachments: list[Attachment]) -> None:
        self.attachments = attachments
        self.chips.display = bool(attachments)
        chips = "  ".join(
            f"{'📷' if a.image is not None else '📎'} {make_safe(a.name)} ({a.size_label})"
            for a in attachments
        )
        self.chips.update(Content(f"{chips}   — sent with your next message · /file removes"))

    def give_back(self, text: str) -> None:
        """Puts a prompt that was not sent back into the box, never over what is typed."""
        if self.prompt.text.strip():
            text = f"{text}\n\n{self.prompt.text}"
        self.prompt.load_text(text)
        self.prompt.move_cursor(self.prompt.document.end)


def tell(
    screen: Screen[None],
    text: str,
    *,
    warning: bool = False,
    error: bool = False,
    timeout: float = 6,
) -> None:
    """A notification that may quote a server, a file or the user: shown as typed, never
    read as markup, with control characters made visible."""
    severity: SeverityLevel = "error" if error else "warning" if warning else "information"
    screen.notify(make_safe(text), markup=False, severity=severity, timeout=timeout)

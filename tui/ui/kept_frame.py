"""The rows a launch shows first, kept from the last run for the next to paint before
Textual loads (`tui.ui.painted_rows`).

`tui-chat --continue` showed the conversation's end 0.43 s after it was started, in tmux at
120x40; Textual alone (Python, its imports and a frame of one line) takes 0.30 s there, and
the same screen made of Textual's stock widgets 0.34 s (benchmarks/README.md). So the app
keeps the rows a launch reopening the conversation would draw first, as the escape
sequences Textual wrote for them, with the status line and the footer emptied (a launch
has nothing to say yet, and builds its footer's keys after its first frame). The next
launch that reopens that conversation, unchanged, at the same terminal size, look and
code paints them at once; Textual's first frame, drawn over every cell, replaces them a
moment later with the same text. Anything else paints nothing.

The rows are taken when the screen is laid out as a launch lays it out (the log at its end,
the prompt empty and focused, nothing streaming, queued, attached, notified, opened or
failed on it, no pictures drawn): a second after the launch and after each reply, and as
the app quits (not once the terminal has gone: Textual lays the screen out at a size of
its own then). They are kept once the app has ended, and only if the history, the theme
and the settings shown are then as they show them. The file holds conversation text:
private, beside the history, read only when only the user can have written it
(`tui.ui.kept_pickles`); it goes when a message or conversation is deleted. Nothing here
imports Textual as it loads.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from tui.remembered import load_remembered
from tui.store_peek import ConversationState, conversation_state
from tui.ui.kept_pickles import Fingerprint, files_fingerprint, read_kept, write_kept

if TYPE_CHECKING:
    from textual.strip import Strip
    from textual.widget import Widget

    from tui.config import Settings
    from tui.ui.app import ChatApp

FILE_NAME = "first-rows.pickle"

_LOOK_VARIABLES = ("TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM")
"""The environment that decides how Textual writes colours (with every TEXTUAL_*)."""
_OUR_CODE = ("*.py", "chat/*.py", "ui/*.py", "ui/*.tcss", "ui/widgets/*.py")
_THEIR_CODE = ("textual", "rich", "pygments", "markdown_it")

Size = tuple[int, int]
FrameKey = tuple[object, ...]


def settings_shown(settings: Settings) -> tuple[object, ...]:
    """What of the settings the rows show: the header's words and the notices atop the
    log (and the keymap, though the footer's keys are emptied from the rows)."""
    notices = (settings.notices, settings.has_usable_key)
    return (settings.endpoint_label, settings.profile, notices, tuple(settings.keymap.items()))


def frame_key(settings: Settings, state: ConversationState, size: Size) -> FrameKey:
    """What the rows depend on besides the code: the conversation as stored, the terminal's
    size and kind, the settings shown and the theme the app will pick."""
    environment = tuple(
        sorted(
            (name, value)
            for name, value in os.environ.items()
            if name in _LOOK_VARIABLES or name.startswith("TEXTUAL")
        )
    )
    theme = (settings.theme, load_remembered(settings.db_path.parent).get("theme"))
    return (state, size, environment, settings_shown(settings), theme)


def _code_fingerprint() -> Fingerprint:
    """tui-chat's code and styles, and the releases of the packages that draw the rows
    (found, not imported): rows drawn by other code are not painted."""
    ours = Path(__file__).parent.parent
    files = [path for pattern in _OUR_CODE for path in ours.glob(pattern)]
    for package in _THEIR_CODE:
        spec = find_spec(package)
        if spec is not None and spec.origin is not None:
            files.append(Path(spec.origin))
    return files_fingerprint(path for path in files if path.exists())


def kept_rows_for(settings: Settings, conversation_id: int | None, size: Size) -> str | None:
    """The rows kept for conversation `conversation_id` (None: the latest, as `--continue`
    opens) at this size, if they are still what the app will draw; else None."""
    from tui.ui.terminal_graphics import draws_pictures

    if settings.starts_on_the_welcome_screen or draws_pictures():
        return None  # (drawn over the conversation at once; pictures drawn in the log)
    state = conversation_state(settings.db_path, conversation_id)
    if state is None:
        return None
    kept = read_kept(settings.db_path.parent, FILE_NAME, _code_fingerprint())
    if not (isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[1], str)):
        return None
    return kept[1] if kept[0] == frame_key(settings, state, size) else None


@dataclass(frozen=True, slots=True)
class LaunchRows:
    """The rows a launch reopening a conversation draws first, and what they show: the
    conversation (its id; where its path ends, its length and its model), the size, the
    theme and the settings shown as they were when the rows were taken."""

    conversation_id: int
    shows: tuple[object, ...]
    size: Size
    theme: str
    settings: tuple[object, ...]
    rows: str


def rows_as_launched(app: ChatApp) -> LaunchRows | None:
    """The screen's rows as the app draws them now (escape sequences), if the next launch
    of this conversation at this size would draw the same; else None."""
    from tui.chat.message import MessageStatus
    from tui.ui.terminal_graphics import draws_pictures
    from tui.ui.widgets.key_footer import KeyFooter
    from tui.ui.widgets.message_views import NoticeView
    from tui.ui.widgets.thinking_block import ThinkingBlock

    try:
        chat = app.chat
    except LookupError:
        return None
    log, prompt, conversation = chat.log_view, chat.prompt, chat.conversation
    path = conversation.messages
    laid_out_as_launched = (
        app.screen is chat
        and conversation.id is not None
        and path
        and path[-1].id is not None
        and not chat.is_streaming
        and app.focused is prompt
        and not prompt.text
        and not chat.query_one("#queued").size.height
        and not chat.query_one("#attachments").size.height
        and not app.screen.query("Toast")
        and log.end_shown is None
        and (log.scroll_y >= log.max_scroll_y or not log.max_scroll_y)  # (short: below 0)
        # A failed reply is worded otherwise once reopened (a stream's unread events are
        # not told again); opened blocks come closed.
        and not any(
            m.status is MessageStatus.ERROR or m.skipped_events for m in path[log.first_shown :]
        )
        and not log.query(NoticeView).filter(".warning")  # (this launch's, maybe not the next's)
        and not any(not block.collapsed for block in log.query(ThinkingBlock))
        and not any(details.display for details in log.query(".tool-details"))
        and not draws_pictures()
    )
    if not laid_out_as_launched or conversation.id is None:
        return None
    strips = chat._compositor.render_strips()
    for widget in (chat.status, chat.query_one(KeyFooter)):
        _empty(strips, widget)
    rows = "".join(
        f"\x1b[{row};1H{strip.render(app.console)}" for row, strip in enumerate(strips, 1)
    )
    size = chat._compositor.size  # (the rows', should the app's have changed meanwhile)
    shows = (path[-1].id, len(path) + chat.session.unread_earlier, conversation.model)
    shown = settings_shown(chat.session.settings)
    return LaunchRows(conversation.id, shows, (size.width, size.height), app.theme, shown, rows)


def _empty(strips: list[Strip], widget: Widget) -> None:
    """The widget's rows with their words gone: its last cell's background (padding)
    across each, as a launch's first frame draws the status line and the footer."""
    from rich.segment import Segment
    from textual.strip import Strip

    region = widget.region
    for row in range(region.y, min(region.bottom, len(strips))):
        strip = strips[row]
        last_cell = strip.crop(strip.cell_length - 1)
        style = next(iter(last_cell), Segment("")).style
        strips[row] = Strip([Segment(" " * strip.cell_length, style)], strip.cell_length)


def keep_rows(settings: Settings, kept: LaunchRows, theme: str) -> None:
    """Keeps the rows for the next launch, if they still show what it will show: the
    conversation as the history holds it, `theme` (the app's as it ended) and the
    settings (the next launch's). Call once the app has ended, with everything saved,
    so that the state the next launch compares with is final."""
    state = conversation_state(settings.db_path, kept.conversation_id)
    if (
        state is not None
        and state.shown == kept.shows
        and kept.theme == theme
        and kept.settings == settings_shown(settings)
    ):
        key = frame_key(settings, state, kept.size)
        write_kept(settings.db_path.parent, FILE_NAME, _code_fingerprint(), (key, kept.rows))


def forget_kept_rows(folder: Path) -> None:
    """Removes the kept rows (a conversation or message they may show was deleted), and
    any a process ended halfway through writing."""
    for path in (folder / FILE_NAME, *folder.glob(f".{FILE_NAME}-*")):
        with contextlib.suppress(OSError):
            path.unlink()

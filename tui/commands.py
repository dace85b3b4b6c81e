"""Every command of the app, declared once: id, default keys, title, slash name, help.

Key bindings, the command palette, slash commands, the F1 help and the config file's
`[keymap]` check are all generated from this one table, so they cannot drift apart. The
ids are a public contract (users remap them in `[keymap]`): never rename one.
No Textual here: the config file is checked against this table before the UI loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from tui.frozen import frozen


class Scope(StrEnum):
    """Where a command's keys work; keys may repeat across scopes, never within one."""

    CHAT = "chat"
    """Anywhere on the chat screen."""
    MESSAGE = "message"
    """On a message selected in the log (Ctrl+Up)."""
    PROMPT = "prompt"
    """On the user's own prompts (a kind of selected message)."""
    REPLY = "reply"
    """On the model's replies (a kind of selected message)."""


@frozen(slots=True)
class Command:
    id: str
    action: str
    """The screen's (or widget's) action, in Textual's syntax: `retry`, `export('json')`."""
    keys: str
    """Default keys, comma-separated in Textual's names; empty: no key unless remapped."""
    title: str
    help: str
    scope: Scope = Scope.CHAT
    slash: tuple[str, ...] = ()
    """Slash names, the first one shown in help."""
    argument: str = ""
    """What the slash command takes after its name, for help ("NAME"); empty: nothing."""
    footer: bool = True
    palette: bool = True


COMMANDS: tuple[Command, ...] = (
    Command("chat.cancel", "cancel", "escape", "Stop reply",
            "Stop the reply in progress (the text so far stays), or cancel an edit"),
    Command("chat.retry", "retry", "ctrl+r", "Retry",
            "Regenerate the last reply; the old one stays a version (Alt+Left)",
            slash=("/retry",)),
    Command("chat.new", "new_conversation", "ctrl+n", "New chat",
            "Start an empty conversation (the old one stays in history)",
            slash=("/new", "/clear")),
    Command("chat.version.previous", "previous_version", "alt+left", "Previous branch",
            "Show the previous version of a reply or edit of a prompt (the selected "
            "message, else the last one that has others)", footer=False),
    Command("chat.version.next", "next_version", "alt+right", "Next branch",
            "Show the next version of a reply or edit of a prompt", footer=False),
    Command("chat.conversations", "conversations", "ctrl+b", "History",
            "Browse stored conversations: open, rename, delete"),
    Command("chat.search", "search", "ctrl+f", "Search", "Search every stored message"),
    Command("chat.messages", "select_messages", "ctrl+up,alt+up", "Messages",
            "Move into the log: Up/Down pick a message, then act on it"),
    Command("chat.model", "pick_model", "f2", "Model",
            "Choose this conversation's model from the server", slash=("/model",),
            argument="[NAME]"),
    Command("chat.system", "edit_system_prompt", "f3", "System",
            "Set, edit or pick a preset system prompt", slash=("/system",), argument="[TEXT]"),
    Command("chat.copy", "copy_last_reply", "", "Copy last reply",
            "Copy the last reply's Markdown", slash=("/copy",)),
    Command("chat.export.md", "export('md')", "", "Export as Markdown",
            "Write this conversation to a .md file", slash=("/export",), argument="[md|json]"),
    Command("chat.export.json", "export('json')", "", "Export as JSON",
            "Write this conversation to a .json file"),
    Command("chat.title", "rename", "", "Rename",
            "Rename this conversation", slash=("/title",), argument="TITLE", palette=False),
    Command("chat.file", "attach", "", "Attach a file",
            "Attach a text file to the next prompt (alone: remove attachments)",
            slash=("/file",), argument="[PATH]", palette=False),
    Command("chat.image", "pick_image", "f8", "Attach image",
            "Pick an image file to attach to the next prompt (or /file PATH, or paste its path)",
            footer=False),
    Command("chat.tools", "tools", "f4", "Tools",
            "MCP tool servers and their tools: switch tools on or off for this conversation",
            slash=("/tools",), footer=False),
    Command("chat.help", "help", "f1", "Help", "Show every key and command", slash=("/help",)),
    Command("message.previous", "select(-1)", "up", "Previous message",
            "Select the message above", scope=Scope.MESSAGE, footer=False, palette=False),
    Command("message.next", "select(1)", "down", "Next message",
            "Select the message below", scope=Scope.MESSAGE, footer=False, palette=False),
    Command("message.first", "request('first')", "home", "First message",
            "Select the conversation's first message, however far back",
            scope=Scope.MESSAGE, footer=False, palette=False),
    Command("message.last", "request('last')", "end", "Last message",
            "Select the conversation's last message", scope=Scope.MESSAGE, footer=False,
            palette=False),
    Command("message.copy", "request('copy')", "c", "Copy", "Copy the message's text",
            scope=Scope.MESSAGE, palette=False),
    Command("message.delete", "request('delete')", "d", "Delete",
            "Delete this message (press twice); what followed it stays",
            scope=Scope.MESSAGE, palette=False),
    Command("message.leave", "request('leave')", "escape", "Back to prompt",
            "Back to the prompt", scope=Scope.MESSAGE, palette=False),
    Command("message.edit", "request('edit')", "e", "Edit & resend",
            "Edit this prompt and send it as a new branch from here",
            scope=Scope.PROMPT, palette=False),
    Command("message.regenerate", "request('regenerate')", "r", "Regenerate",
            "Generate this reply again as a new version", scope=Scope.REPLY, palette=False),
    Command("message.tools", "open_tool_calls", "t", "Tool calls",
            "Show or hide the arguments and results of this reply's tool calls",
            scope=Scope.REPLY, palette=False),
    Command("message.code", "request('copy_code', 1)", "1", "Copy code 1-9",
            "Copy code block 1 (2-9 for the others)", scope=Scope.REPLY, palette=False),
)  # fmt: skip

PROMPT_KEYS = frozenset(
    "alt+backspace alt+delete backspace ctrl+a ctrl+backspace ctrl+c ctrl+d ctrl+e ctrl+k "
    "ctrl+left ctrl+right ctrl+shift+k ctrl+shift+left ctrl+shift+right ctrl+u ctrl+v ctrl+w "
    "ctrl+x ctrl+y ctrl+z delete down end f6 f7 home left pagedown pageup right shift+down "
    "shift+end shift+home shift+left shift+right shift+up up enter ctrl+j shift+enter "
    "alt+enter tab".split()
)
"""The prompt box's own editing keys (Textual's TextArea and ours): the prompt has focus
most of the time, so a chat command on one of these would never run. A test keeps this
list equal to TextArea's bindings."""
FIXED_KEYS: dict[Scope, frozenset[str]] = {Scope.CHAT: PROMPT_KEYS | {"ctrl+q", "ctrl+p"}}
"""Keys the app keeps for itself in a scope: quitting, the palette, the prompt's own."""

OVERLAPPING_SCOPES: dict[Scope, tuple[Scope, ...]] = {
    Scope.CHAT: (Scope.CHAT,),
    Scope.MESSAGE: (Scope.MESSAGE, Scope.PROMPT, Scope.REPLY),
    Scope.PROMPT: (Scope.MESSAGE, Scope.PROMPT),
    Scope.REPLY: (Scope.MESSAGE, Scope.REPLY),
}

BY_ID = {command.id: command for command in COMMANDS}


def in_scope(scope: Scope) -> list[Command]:
    return [command for command in COMMANDS if command.scope is scope]


def slash_command(name: str) -> Command | None:
    name = name.lower()
    return next((command for command in COMMANDS if name in command.slash), None)


def slash_names() -> list[str]:
    return [name for command in COMMANDS for name in command.slash]


def keys_of(command: Command, keymap: Mapping[str, str]) -> list[str]:
    """The keys that run `command` once `keymap` (id -> keys) is applied."""
    keys = keymap.get(command.id, command.keys)
    return [_normal(key) for key in keys.split(",") if key.strip()]


def keymap_problems(keymap: Mapping[str, str]) -> list[tuple[str, str]]:
    """What is wrong with a user's keymap, as (id, problem): ids that name no command, and
    keys that two commands of overlapping scopes would share."""
    problems: list[tuple[str, str]] = []
    for command_id, keys in keymap.items():
        if command_id not in BY_ID:
            problems.append((command_id, "no command has this id (the README lists them)"))
        elif not isinstance(keys, str):
            problems.append((command_id, 'keys must be a string, such as "ctrl+k"'))
    if problems:
        return problems
    owners: dict[tuple[Scope, str], Command] = {}
    for command in COMMANDS:
        for key in keys_of(command, keymap):
            for scope in OVERLAPPING_SCOPES[command.scope]:
                if key in FIXED_KEYS.get(scope, frozenset()) and command.id in keymap:
                    problems.append((command.id, f"{key} is the app's own key"))
                other = owners.get((scope, key))
                if (
                    other is not None
                    and other is not command
                    and (command.id in keymap or other.id in keymap)
                ):
                    mapped, kept = (command, other) if command.id in keymap else (other, command)
                    problems.append(
                        (mapped.id, f"{key} is also the key of {kept.id} ({kept.title})")
                    )
            owners[(command.scope, key)] = command
    return problems


def _normal(key: str) -> str:
    return key.strip().lower()

"""Command line: parses flags, builds the settings, and starts the app or the pipe mode."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tui import __version__
from tui.chat.safe_text import make_safe
from tui.config import Settings, apply_flags, default_config_path, settings_from_environment
from tui.exit_status import EXIT_INTERRUPTED, EXIT_USAGE
from tui.gc_tuning import collect_again_after_start_up, collect_nothing_until_started

if TYPE_CHECKING:
    from tui.store import Store
    from tui.ui.painted_rows import PaintedRows

HISTORY_COMMANDS = ("list", "export", "import")
LIST_BUSY_TIMEOUT = 1.0
"""Seconds `list`/`export` wait for another process's lock (only a pending migration
needs one) before saying so."""
CONFIG_COMMAND = "config"
SERVE_COMMAND = "serve"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-chat",
        description="A fast, keyboard-first terminal chat client for OpenAI-compatible servers.",
        epilog="History: tui-chat list | tui-chat export ID --format md|json. "
        "Config: tui-chat config path | tui-chat config init. "
        "Environment: OPENAI_API_KEY, OPENAI_BASE_URL, TUI_CHAT_PROFILE. "
        "Press F1 in the app for keys.",
    )
    parser.add_argument("prompt", nargs="?", help="send this prompt at once")
    parser.add_argument(
        "-p",
        "--print",
        dest="print_mode",
        action="store_true",
        help="print one answer to stdout and exit (reads the prompt from stdin if not given)",
    )
    parser.add_argument(
        "--tools",
        action="store_true",
        help="with -p: offer the tools of the config's [mcp_servers] (they run only with "
        "--yes, or when allowed in the config)",
    )
    parser.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="with -p --tools: run every tool call the model asks for",
    )
    parser.add_argument("-m", "--model", help="model name (default: gpt-4o-mini)")
    parser.add_argument("--base-url", help="API base URL, e.g. http://127.0.0.1:11434/v1")
    parser.add_argument("-s", "--system", help="system prompt")
    parser.add_argument(
        "-i",
        "--inline",
        action="store_true",
        help="run under the shell prompt instead of the full screen; the conversation "
        "stays in the scrollback on exit",
    )
    parser.add_argument(
        "-c",
        "--continue",
        dest="continue_last",
        action="store_true",
        help="reopen the most recent conversation",
    )
    parser.add_argument("--resume", type=int, metavar="ID", help="reopen conversation ID")
    parser.add_argument("--db", metavar="PATH", help="history database file")
    parser.add_argument("--config", metavar="PATH", help="config file (default: see `config path`)")
    parser.add_argument("--profile", metavar="NAME", help="use this profile from the config file")
    parser.add_argument("--version", action="version", version=f"tui-chat {__version__}")
    return parser


def config_command(argv: Sequence[str]) -> int:
    """`tui-chat config path` prints where the file is read from; `config init` writes a
    commented example there."""
    from tui.config_file import write_example_config

    parser = argparse.ArgumentParser(prog="tui-chat config", description="The config file.")
    parser.add_argument("action", choices=("path", "init"))
    parser.add_argument("--config", metavar="PATH")
    args = parser.parse_args(argv)
    path = Path(args.config) if args.config else default_config_path()
    if args.action == "path":
        print(path)
        return 0
    if write_example_config(path):
        print(f"wrote an example config to {path}")
        return 0
    print(f"tui-chat: {path} already exists; not overwritten", file=sys.stderr)
    return 1


def load_cli_settings(args: argparse.Namespace) -> Settings:
    from tui.config_file import load_settings

    return load_settings(
        Path(args.config) if args.config else default_config_path(),
        explicit_path=bool(args.config),
        profile=args.profile,
        model=args.model,
        base_url=args.base_url,
        system_prompt=args.system,
        db_path=args.db,
    )


def build_history_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tui-chat", description="Read the chat history.")
    parser.add_argument("--db", metavar="PATH", help="history database file")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print the conversations, newest first")
    export = commands.add_parser("export", help="print one conversation")
    export.add_argument("id", type=int)
    export.add_argument("--format", choices=("md", "json"), default="md")
    source = commands.add_parser(
        "import", help="import conversations from another client (read, never modified)"
    )
    source.add_argument(
        "source",
        help="ChatGPT's conversations.json (or its zip), llm's logs.db, elia.sqlite or "
        "oterm's store.db",
    )
    return parser


def history_command(argv: Sequence[str]) -> int:
    """`tui-chat list` and `tui-chat export ID --format md|json`."""
    from tui.export import to_json, to_markdown
    from tui.store import Store, StoreUnavailable

    args = build_history_parser().parse_args(argv)
    settings = apply_flags(settings_from_environment(), db_path=args.db)
    try:
        store = Store.open(settings.db_path, busy_timeout=LIST_BUSY_TIMEOUT)
    except StoreUnavailable as error:
        print(f"tui-chat: the history at {error.path} cannot be read now: {error.reason}",
              file=sys.stderr)  # fmt: skip
        return 1
    if store.notice:
        print(f"tui-chat: {store.notice}", file=sys.stderr)
    try:
        if args.command == "import":
            return _import(store, args.source)
        if args.command == "list":
            for item in store.list_conversations():
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.updated_at))
                print(
                    f"{item.id:>5}  {when}  {item.message_count:>4} msgs  {make_safe(item.title)}"
                )
            return 0
        conversation = store.load_conversation(args.id)
        if conversation is None:
            print(f"tui-chat: there is no conversation {args.id}", file=sys.stderr)
            return 1
        sys.stdout.write(
            to_json(conversation) if args.format == "json" else to_markdown(conversation)
        )
        return 0
    finally:
        store.close()


def _import(store: Store, source: str) -> int:
    from tui.imports.found import ImportFailed
    from tui.imports.run import import_into

    try:
        print(make_safe(import_into(store, Path(source).expanduser())))
    except ImportFailed as error:
        print(f"tui-chat: {make_safe(str(error))}", file=sys.stderr)
        return 1
    return 0


OPTIONS_WITH_VALUES = frozenset(
    {"--db", "--config", "--profile", "-m", "--model", "--base-url", "-s", "--system", "--resume"}
)


def first_word(argv: Sequence[str]) -> tuple[int, str | None]:
    """The first word that is not an option or an option's value, and where it is."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in OPTIONS_WITH_VALUES:
            index += 2
        elif word.startswith("-") and word != "-":
            index += 1
        else:
            return index, word
    return index, None


def _history_argv(argv: Sequence[str]) -> list[str]:
    """The words the history parser knows: `--db PATH`, then the command and its own
    arguments (options meant for the chat, such as --config, are dropped)."""
    index, _ = first_word(argv)
    kept: list[str] = []
    options = list(argv[:index])
    for position, word in enumerate(options):
        if word == "--db" and position + 1 < len(options):
            kept += ["--db", options[position + 1]]
    return [*kept, *argv[index:]]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A descriptor closed at launch (`2>&-`, as cron and daemons may start it) leaves
    # Python no stream: what would go there goes nowhere, instead of the answer being lost
    # to the error of writing a note.
    stdout_closed = sys.stdout is None
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for good)
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for good)
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe that cannot show a character (PYTHONIOENCODING=ascii) gets an
        # escape for it, not a crash halfway through an answer.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    index, word = first_word(argv)
    if word in (*HISTORY_COMMANDS, CONFIG_COMMAND, SERVE_COMMAND):
        collect_again_after_start_up()  # off for the app's start-up, and this is not it
    if word in HISTORY_COMMANDS:  # the first word after any options: `tui-chat "list it"` chats
        return history_command(_history_argv(argv))
    if word == CONFIG_COMMAND:
        return config_command([*argv[:index], *argv[index + 1 :]])
    if word == SERVE_COMMAND:
        from tui.serve import serve_command

        return serve_command([*argv[:index], *argv[index + 1 :]])
    args = build_parser().parse_args(argv)
    from tui.config_file import ConfigError

    try:
        settings = load_cli_settings(args)
    except ConfigError as error:
        print(f"tui-chat: {make_safe(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    if args.print_mode:
        if stdout_closed:  # (not asked: the answer would be paid for and thrown away)
            print(
                "tui-chat: -p: stdout is closed, so the answer has nowhere to go", file=sys.stderr
            )
            return EXIT_USAGE
        prompt = args.prompt
        if prompt is None:
            if sys.stdin.isatty():
                print("tui-chat: -p needs a prompt (an argument or stdin)", file=sys.stderr)
                return EXIT_USAGE
            prompt = sys.stdin.read()
        if not prompt.strip():
            print("tui-chat: the prompt is empty", file=sys.stderr)
            return EXIT_USAGE
        for notice in settings.notices:
            print(f"tui-chat: {notice}", file=sys.stderr)
        import asyncio

        from tui.pipe import answer_once

        try:
            return asyncio.run(answer_once(settings, prompt, tools=args.tools, run_tools=args.yes))
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            return 0

    collect_nothing_until_started()
    from tui.ui.terminal_graphics import prepare

    # Before Textual owns the terminal. Not inline: pictures are placed by absolute screen
    # position, and inline the app is not at the top of the screen.
    try:
        graphics_notice = prepare("off" if args.inline else settings.thumbnails)
    except KeyboardInterrupt:  # Ctrl+C while the terminal is asked: a quiet exit
        return EXIT_INTERRUPTED
    if graphics_notice:
        settings = replace(settings, notices=(*settings.notices, graphics_notice))
    painted: PaintedRows | None = None
    try:
        painted = _paint_kept_rows(args, settings)
        return _run_app(args, settings, painted)
    except KeyboardInterrupt:  # Ctrl+C while the app loads (in it, Ctrl+C is a key)
        return EXIT_INTERRUPTED
    finally:
        if painted is not None:
            painted.take_back()  # (if Textual never took over: after it, its end did)


def _paint_kept_rows(args: argparse.Namespace, settings: Settings) -> PaintedRows | None:
    """The reopened conversation's first rows, as the last run kept them, on screen
    before Textual has loaded (`tui.ui.kept_frame`)."""
    if args.inline or args.prompt is not None or not (args.continue_last or args.resume):
        return None
    from tui.ui.painted_rows import paint_kept_rows

    return paint_kept_rows(settings, args.resume)


def _run_app(args: argparse.Namespace, settings: Settings, painted: PaintedRows | None) -> int:
    from tui.ui.app import ChatApp  # Textual only loads for the interactive app.

    app = ChatApp(
        settings,
        initial_prompt=args.prompt,
        resume_id=args.resume,
        continue_last=args.continue_last,
    )
    if painted is not None:
        from tui.ui.painted_driver import over_painted_rows

        driver_class = over_painted_rows(app.driver_class, painted)
        if driver_class is None:
            painted.hand_over()
        else:
            app.driver_class = driver_class
    app.run(inline=args.inline)
    if app.rows_for_next_launch is not None:
        from tui.ui.kept_frame import keep_rows

        with contextlib.suppress(Exception):  # a cache: the quit is not the worse for it
            keep_rows(settings, app.rows_for_next_launch, app.theme)
    if args.inline and app.session is not None:
        # Inline, the conversation stays in the terminal's scrollback after the app.
        from tui.transcript import transcript

        sys.stdout.write(transcript(app.session.conversation))
        sys.stdout.flush()
    return 0

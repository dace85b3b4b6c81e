"""Command line: parses flags, builds the settings, and starts the app or the pipe mode."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from tui import __version__
from tui.config import apply_flags, settings_from_environment
from tui.pipe import EXIT_INTERRUPTED, EXIT_USAGE, answer_once


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-chat",
        description="A fast, keyboard-first terminal chat client for OpenAI-compatible servers.",
        epilog="Environment: OPENAI_API_KEY, OPENAI_BASE_URL. Press F1 in the app for keys.",
    )
    parser.add_argument("prompt", nargs="?", help="send this prompt at once")
    parser.add_argument(
        "-p",
        "--print",
        dest="print_mode",
        action="store_true",
        help="print one answer to stdout and exit (reads the prompt from stdin if not given)",
    )
    parser.add_argument("-m", "--model", help="model name (default: gpt-4o-mini)")
    parser.add_argument("--base-url", help="API base URL, e.g. http://127.0.0.1:11434/v1")
    parser.add_argument("-s", "--system", help="system prompt")
    parser.add_argument(
        "-c",
        "--continue",
        dest="continue_last",
        action="store_true",
        help="reopen the most recent conversation",
    )
    parser.add_argument("--resume", type=int, metavar="ID", help="reopen conversation ID")
    parser.add_argument("--db", metavar="PATH", help="history database file")
    parser.add_argument("--version", action="version", version=f"tui-chat {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = apply_flags(
        settings_from_environment(),
        model=args.model,
        base_url=args.base_url,
        system_prompt=args.system,
        db_path=args.db,
    )
    if args.print_mode:
        prompt = args.prompt
        if prompt is None:
            if sys.stdin.isatty():
                print("tui-chat: -p needs a prompt (an argument or stdin)", file=sys.stderr)
                return EXIT_USAGE
            prompt = sys.stdin.read()
        if not prompt.strip():
            print("tui-chat: the prompt is empty", file=sys.stderr)
            return EXIT_USAGE
        try:
            return asyncio.run(answer_once(settings, prompt))
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            return 0

    from tui.ui.app import ChatApp  # Textual only loads for the interactive app.

    ChatApp(
        settings,
        initial_prompt=args.prompt,
        resume_id=args.resume,
        continue_last=args.continue_last,
    ).run()
    return 0

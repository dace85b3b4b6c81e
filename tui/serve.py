"""`tui-chat serve`: the app in a browser, through textual-serve (the optional extra
`serve`). Each browser tab runs its own `tui-chat` process on this machine, as you.

It listens on 127.0.0.1 unless told otherwise; any other address needs `--public`, because
whoever reaches the port reads your conversations and sends with your API key.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from collections.abc import Sequence

from tui.exit_status import EXIT_USAGE

PASSED_ON = ("--config", "--profile", "--db", "--model", "--base-url")


def build_serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-chat serve", description="Serve tui-chat to a web browser (textual-serve)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--public",
        action="store_true",
        help="allow an address other than this machine's own (anyone who reaches the port "
        "can read and send as you)",
    )
    for option in PASSED_ON:
        names = ("-m", option) if option == "--model" else (option,)
        parser.add_argument(*names, metavar="VALUE", help="passed on to each app")
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(argv: Sequence[str]) -> int:
    args = build_serve_parser().parse_args(argv)
    if not is_loopback(args.host):
        if not args.public:
            print(
                f"tui-chat: serving on {args.host} lets anyone who can reach port {args.port} "
                "read your conversations and send as you (with your API key); add --public "
                "to do it anyway",
                file=sys.stderr,
            )
            return EXIT_USAGE
        print(
            f"tui-chat: WARNING: serving on {args.host}:{args.port} with no password: anyone "
            "who can reach it can read your conversations and send as you.",
            file=sys.stderr,
        )
    try:
        from textual_serve.server import Server
    except ImportError:
        print(
            "tui-chat: serve needs the serve extra: pip install 'tui-chat[serve]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    command = [sys.executable, "-m", "tui"]
    for option in PASSED_ON:
        value = getattr(args, option.removeprefix("--").replace("-", "_"))
        if value is not None:
            command += [option, value]
    print(f"tui-chat: serving on http://{args.host}:{args.port} (Ctrl+C stops)", file=sys.stderr)
    Server(shlex.join(command), host=args.host, port=args.port, title="tui-chat").serve()
    return 0

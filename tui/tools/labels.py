"""How a tool call reads to a person: its name and its arguments."""

from __future__ import annotations

import json


def call_label(name: str) -> str:
    """`server__tool` (the API name) as the user reads it: `server · tool`."""
    server, separator, tool = name.partition("__")
    return f"{server} · {tool}" if separator else name


def pretty_arguments(arguments: str) -> str:
    """A call's JSON arguments indented for reading; as they are when not JSON."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return arguments

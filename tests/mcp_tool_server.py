"""A real MCP server for the tests, written with the `mcp` SDK and run over stdio:
    python tests/mcp_tool_server.py
or over streamable HTTP at http://127.0.0.1:PORT/mcp (requests must carry the header
`Authorization: Bearer TOKEN` when TOKEN is given):
    python tests/mcp_tool_server.py --http PORT [TOKEN]
It has a quick tool, a slow one, one that fails, one with a huge answer and one that
kills its own server; `env_value` tells what a variable holds in the server's process."""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("test-tools")


@server.tool(description="Adds two whole numbers.")
def add(a: int, b: int) -> str:
    return str(a + b)


@server.tool(description="Waits, then says so.")
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"waited {seconds} s"


@server.tool(description="Always fails.")
def fail(reason: str = "it broke") -> str:
    raise ValueError(reason)


@server.tool(description="A long text of n characters.")
def big(n: int) -> str:
    return ("0123456789" * (n // 10 + 1))[:n]


@server.tool(description="Kills this server mid-call.")
def crash() -> str:
    os._exit(3)


@server.tool(description="What an environment variable holds here.")
def env_value(name: str) -> str:
    return os.environ.get(name, "(not set)")


@server.tool(description="Creates a file: proof that a call ran.")
def touch(path: str) -> str:
    with open(path, "w") as file:
        file.write("ran")
    return f"created {path}"


@server.tool(description="Counts the lines and words of a text file.")
def word_count(path: str) -> str:
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return f"{len(text.splitlines())} lines, {len(text.split())} words"


@server.tool(description="Text with terminal control sequences in it.")
def hostile() -> str:
    return "before \x1b]0;pwned\x07\x1b[2J after"


def serve_http(port: int, token: str | None) -> None:
    import uvicorn

    app = server.streamable_http_app()

    async def guarded(scope, receive, send):  # type: ignore[no-untyped-def]
        headers = dict(scope.get("headers", []))
        if (
            scope["type"] == "http"
            and token
            and headers.get(b"authorization") != f"Bearer {token}".encode()
        ):
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"no"})
            return
        await app(scope, receive, send)

    uvicorn.run(guarded, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        serve_http(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        server.run()

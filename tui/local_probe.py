"""Finds OpenAI-compatible servers already running on this machine, for the welcome screen.

Only 127.0.0.1 is asked, each port once with a short timeout, over a plain stdlib socket:
this runs at start-up, where importing an HTTP library would cost more than the probe.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from tui.frozen import frozen

PROBE_TIMEOUT = 0.6


@frozen
class LocalServer:
    name: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def profile_name(self) -> str:
        return "".join(c for c in self.name.lower() if c.isalnum()) or "local"


USUAL_LOCAL_SERVERS = (
    LocalServer("Ollama", 11434),
    LocalServer("LM Studio", 1234),
    LocalServer("llama.cpp server", 8080),
    LocalServer("vLLM", 8000),
)


@frozen
class FoundServer:
    server: LocalServer
    models: tuple[str, ...]


async def probe_local_servers(
    candidates: Sequence[LocalServer] = USUAL_LOCAL_SERVERS, timeout: float = PROBE_TIMEOUT
) -> list[FoundServer]:
    """The candidates that answer `GET /v1/models` with a model list, in the given order."""
    results = await asyncio.gather(*(_probe(server, timeout) for server in candidates))
    return [found for found in results if found is not None]


async def _probe(server: LocalServer, timeout: float) -> FoundServer | None:
    try:
        return await asyncio.wait_for(_ask_for_models(server), timeout)
    except (OSError, TimeoutError, ValueError, UnicodeDecodeError):
        return None


async def _ask_for_models(server: LocalServer) -> FoundServer | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            f"GET /v1/models HTTP/1.0\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Accept: application/json\r\n\r\n".encode()
        )
        await writer.drain()
        response = await reader.read(1_000_000)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or status_line[1] != b"200":
        return None
    if b"chunked" in head.lower():
        body = _unchunk(body)
    payload = json.loads(body)
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return None
    models = tuple(str(m["id"]) for m in data if isinstance(m, dict) and m.get("id"))
    return FoundServer(server, models)


def _unchunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)

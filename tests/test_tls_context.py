"""Every HTTP client the app builds verifies certificates with one shared context,
built once, so the first message does not read the certificate store on the event loop."""

from __future__ import annotations

import ast
import contextlib
import http.server
import os
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.openai_server import OpenAIStyleServer, StreamReply
from tui.backend import ChatBackend, load_client_library
from tui.config import Settings
from tui.tls_context import verified_tls_context


def context_of(backend: ChatBackend) -> ssl.SSLContext:
    client = backend._get_client()
    return client._client._transport._pool._ssl_context  # type: ignore[attr-defined,no-any-return]


def test_clients_share_one_verifying_context_built_by_the_start_up_work(tmp_path: Path) -> None:
    load_client_library()  # what the app's start-up thread does
    built = verified_tls_context()
    first = ChatBackend(Settings(api_key="sk-x", db_path=tmp_path / "a.db"))
    second = ChatBackend(
        Settings(api_key="sk-y", base_url="https://example.invalid/v1", db_path=tmp_path / "b.db")
    )
    assert context_of(first) is built and context_of(second) is built
    assert built.verify_mode is ssl.CERT_REQUIRED and built.check_hostname


def ask_in_a_fresh_process(server: OpenAIStyleServer, before: str, after: str) -> list[str]:
    """One reply from `server` through a `ChatBackend`, in a new interpreter, with `before`
    and `after` (lines of Python) around it: the lines it printed, the events' names first."""
    probe = (
        "import asyncio, ssl, sys\n"
        "from tui.backend import ChatBackend, load_client_library\n"
        "from tui.config import Settings\n"
        "from tui.tls_context import TlsContextOnFirstUse, verified_tls_context\n"
        f"{before}"
        "async def ask():\n"
        f"    backend = ChatBackend(Settings(base_url={server.base_url!r}, api_key='k'))\n"
        "    async for event in backend.stream_reply([{'role': 'user', 'content': 'Hi'}], 'm'):\n"
        "        print(type(event).__name__)\n"
        "asyncio.run(ask())\n"
        f"{after}"
    )
    server.queue(StreamReply(deltas=["Hello"]))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    lines = done.stdout.splitlines()
    assert "ContentDelta" in lines and "Finished" in lines, done.stderr
    return lines


def test_the_first_request_imports_nothing_the_start_up_work_did_not(
    server: OpenAIStyleServer,
) -> None:
    """The first message's request used to import openai's chat resources and anyio's
    backend (about 70 ms, on the event loop, between Enter and the request): the request
    goes through the client's own `post`, and the start-up thread loads the rest."""
    lines = ask_in_a_fresh_process(
        server,
        before="load_client_library()\nbefore = set(sys.modules)\n",
        after="print(sorted(set(sys.modules) - before))\n",
    )
    families = ("openai", "httpx2", "httpcore2", "h11", "anyio", "pydantic", "tui")
    imported = [name for name in ast.literal_eval(lines[-1]) if name.split(".")[0] in families]
    assert imported == []


def test_a_client_of_a_plain_http_server_reads_no_certificates(server: OpenAIStyleServer) -> None:
    """Reading the certificate store took 55-65 ms before `tui-chat -p` could send its
    request, for a server it talks to without TLS; the context is built if a connection
    needs it (a redirect to https), and then it is the shared, verifying one."""
    lines = ask_in_a_fresh_process(
        server,
        before="",
        after="print('built', verified_tls_context.cache_info().currsize)\n"
        "standing_in = TlsContextOnFirstUse()\n"
        "print(standing_in.verify_mode is ssl.CERT_REQUIRED and standing_in.check_hostname)\n"
        "print('built', verified_tls_context.cache_info().currsize)\n",
    )
    assert lines[-3:] == ["built 0", "True", "built 1"]


class _SendsOnTo(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP server that sends every request on to `https://127.0.0.1:<port>`."""

    https_port = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(307)
        self.send_header("Location", f"https://127.0.0.1:{self.https_port}/v1/chat/completions")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("certificates", ["readable", "unreadable"])
def test_a_plain_http_server_that_sends_the_request_on_to_https_gets_it_verified(
    certificates: str,
) -> None:
    """The context stood in for is built when the redirect needs it: TLS starts (a
    ClientHello reaches the https side), or, with no readable certificates, the reply
    fails in words, not with a traceback."""
    tls_side = socket.socket()
    tls_side.bind(("127.0.0.1", 0))
    tls_side.listen()
    tls_side.settimeout(10)
    _SendsOnTo.https_port = tls_side.getsockname()[1]
    redirecting = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SendsOnTo)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    hello: list[bytes] = []

    def first_bytes() -> None:
        with contextlib.suppress(OSError):
            connection, _ = tls_side.accept()
            with connection:
                hello.append(connection.recv(1))

    watching = threading.Thread(target=first_bytes, daemon=True)
    watching.start()
    env = {**os.environ}
    if certificates == "unreadable":
        env["SSL_CERT_FILE"] = "/nonexistent/ca-bundle.pem"
    probe = (
        "import asyncio\n"
        "from tui.backend import ChatBackend\n"
        "from tui.config import Settings\n"
        "async def ask():\n"
        f"    url = 'http://127.0.0.1:{redirecting.server_address[1]}/v1'\n"
        "    backend = ChatBackend(Settings(base_url=url, api_key='k', max_retries=0))\n"
        "    async for event in backend.stream_reply([{'role': 'user', 'content': 'Hi'}], 'm'):\n"
        "        print(type(event).__name__, getattr(event, 'error', ''))\n"
        "asyncio.run(ask())\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
        )
    finally:
        redirecting.shutdown()
        tls_side.close()
        watching.join(5)
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("Failed"), done.stdout
    if certificates == "unreadable":
        assert "certificates to verify servers cannot be read" in last
        assert b"\x16" not in hello, "no handshake began without a way to verify"
    else:
        assert hello == [b"\x16"], "a TLS handshake began"

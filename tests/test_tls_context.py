"""Every HTTP client the app builds verifies certificates with one shared context,
built once, so the first message does not read the certificate store on the event loop."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

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


def test_the_start_up_work_loads_what_the_first_request_would_import() -> None:
    """`client.chat` and `client.responses` import openai's resources lazily (about 50 ms
    each, on the event loop, between Enter and the request); the start-up thread loads
    them first."""
    probe = (
        "import sys; from tui.backend import load_client_library; load_client_library(); "
        "print('openai.resources.chat.completions.completions' in sys.modules"
        " and 'openai.resources.responses.responses' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr

"""One verified TLS context for every HTTP client the app makes.

httpx2 builds a new context for each client it creates, reading the system's certificate
store each time (about 20 ms here, more on a busy machine): the first message paid it on
the event loop before its request left, and so did the context-window question beside it.
Built once (in the start-up thread when the app runs, see `tui.backend.load_client_library`)
and shared: an `SSLContext` is safe to share between clients. It is httpx2's own default
context (`create_ssl_context()`: the system's store, `SSL_CERT_FILE`/`SSL_CERT_DIR`
honoured), so verification is exactly what each client would have done itself.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


@functools.cache
def verified_tls_context() -> ssl.SSLContext:
    """httpx2's default verifying context, built on first use and kept."""
    import httpx2

    return httpx2.create_ssl_context()

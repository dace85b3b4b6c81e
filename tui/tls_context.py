"""One verified TLS context for every HTTP client the app makes.

httpx2 builds a new context for each client it creates, reading the system's certificate
store each time (about 20 ms here, more on a busy machine): the first message paid it on
the event loop before its request left, and so did the context-window question beside it.
Built once (in the start-up thread when the app runs, see `tui.backend.load_client_library`)
and shared between clients, which is safe while they all speak HTTP/1.1, as every client
here does (httpcore sets the context's ALPN protocols at each connection: one client asking
for HTTP/2 would change them for all; then it needs a context of its own). It is httpx2's
own default context (`create_ssl_context()`: the system's store, `SSL_CERT_FILE` and
`SSL_CERT_DIR` honoured), so verification is exactly what each client would have done.
A store that cannot be read raises `OSError` here (`CertificatesUnreadable` when a
connection of a plain-HTTP client needed it), which the callers say in words.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl


@functools.cache
def verified_tls_context() -> ssl.SSLContext:
    """httpx2's default verifying context, built on first use and kept."""
    import httpx2

    return httpx2.create_ssl_context()


class CertificatesUnreadable(OSError):
    """The store of certificates that verify servers could not be read when a connection
    needed it (the client library lets an `OSError` from there out as it is)."""


class TlsContextOnFirstUse:
    """Stands for `verified_tls_context()` and builds it when a connection first uses it:
    for a client of an `http://` server, which needs one only if sent on to an `https://`
    address. Building it reads the certificate store (55-65 ms here, on a busy machine
    more), and `tui-chat -p` paid that before its request could leave. Not an
    `ssl.SSLContext`: anyio then starts TLS in a worker thread, for a redirect only."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_built(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(_built(), name, value)


def _built() -> ssl.SSLContext:
    try:
        return verified_tls_context()
    except OSError as error:
        raise CertificatesUnreadable(str(error)) from error

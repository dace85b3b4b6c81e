"""One scrubbing for every text that comes from outside, before it is shown or kept.

A server may quote the API key back: whole, as a prefix, base64-encoded (a Basic auth
header echoed in a 401 body), or URL-encoded. Each of these forms is replaced with a
marker, and so are the credentials of a base URL (`http://user:secret@host`), before the
text reaches the screen, the store, an export or stderr.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Iterable

MARK = "[redacted]"
SHORTEST_PREFIX = 8
"""A run of this many of a secret's first characters is taken to be the secret."""
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<credentials>[^/@\s]+)@")


def without_credentials(url: str) -> str:
    """`http://user:secret@host/v1` as `http://host/v1`: for showing and storing."""
    return _URL_CREDENTIALS.sub(lambda match: match.group("scheme"), url)


def url_secrets(url: str | None) -> list[str]:
    """The user name and password inside a URL, if any."""
    if not url:
        return []
    parts = urllib.parse.urlsplit(url)
    found = [parts.password or ""]
    if parts.password:
        found.append(parts.username or "")
    return [urllib.parse.unquote(secret) for secret in found if secret]


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = [secret for secret in secrets if secret and len(secret) >= 4]
        forms: set[str] = set()
        for secret in self._secrets:
            forms.update(_encoded_forms(secret))
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        text = without_credentials(text)
        for form in self._forms:
            if form in text:
                text = text.replace(form, MARK)
        for secret in self._secrets:
            text = _scrub_prefixes(text, secret)
        return text


def _encoded_forms(secret: str) -> set[str]:
    """The secret, URL-encoded, and the base64 runs it leaves inside any longer base64
    text (at each of the three alignments, standard and URL-safe alphabets)."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    raw = secret.encode()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        start = 4 if offset else 0  # the first group also carries the bytes before it
        core = encoded[start:-4]  # the last group may carry the bytes after it
        core = core.rstrip("=")
        if len(core) >= SHORTEST_PREFIX:
            forms.add(core)
            forms.add(core.replace("+", "-").replace("/", "_"))
    return forms


def _scrub_prefixes(text: str, secret: str) -> str:
    """Replaces every run of at least `SHORTEST_PREFIX` leading characters of `secret`."""
    head = secret[:SHORTEST_PREFIX]
    if len(secret) < SHORTEST_PREFIX or head not in text:
        return text
    pieces: list[str] = []
    at = 0
    while (found := text.find(head, at)) != -1:
        end = found + SHORTEST_PREFIX
        while end < len(text) and end - found < len(secret) and text[end] == secret[end - found]:
            end += 1
        pieces.append(text[at:found])
        pieces.append(MARK)
        at = end
    pieces.append(text[at:])
    return "".join(pieces)

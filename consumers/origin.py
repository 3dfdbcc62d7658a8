"""Which pages may open a WebSocket: this site's own, no other.

A browser sends the session cookie with a WebSocket opened by any page, so the
``Origin`` header is what stops another site (or another program on the same
host, on another port: cookies ignore ports) from opening the console's socket
as the logged-in agent. The rules are Django's for form posts: the Origin must
name the host and port the socket was opened on (its ``Host`` header), that
host must be in ALLOWED_HOSTS, or the Origin must be one of
CSRF_TRUSTED_ORIGINS (which PUBLIC_BASE_URL's origin is by default, for a
proxy that rewrites ``Host``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def header(scope, name: bytes) -> str | None:
    """One request header of an ASGI scope ("" when sent empty)."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def allowed_hosts() -> list[str]:
    """ALLOWED_HOSTS as Django applies it (local names in DEBUG when empty)."""
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def trusted(origin: str) -> bool:
    """Whether an Origin is listed in CSRF_TRUSTED_ORIGINS (``*.`` wildcards
    stand for any subdomain, as in Django)."""
    scheme, _, netloc = origin.partition("://")
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        entry = entry.rstrip("/").lower()
        if entry == origin:
            return True
        entry_scheme, _, entry_netloc = entry.partition("://")
        if entry_netloc.startswith("*.") and entry_scheme == scheme:
            suffix = entry_netloc[1:]
            if netloc.endswith(suffix) and len(netloc) > len(suffix):
                return True
    return False


def origin_allowed(scope) -> bool:
    """Whether the socket was opened by one of this site's pages."""
    origin = header(scope, b"origin")
    if not origin:
        return False
    origin = origin.strip().rstrip("/").lower()
    if trusted(origin):
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    host = (header(scope, b"host") or "").strip().lower()
    if parts.netloc != host:
        return False
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed_hosts())


class SameOriginValidator:
    """ASGI middleware: refuse the handshake of a WebSocket from another origin
    (the browser sees a failed connection; nothing is sent)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)

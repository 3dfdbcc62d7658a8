"""Refusing a signed webhook replayed by someone who captured it.

Gateways whose signatures cover a timestamp or a nonce (Telnyx, Plivo,
Vonage, the simulator) let us refuse a request twice: once it is older than
the gateway's window, and, within the window, when its nonce (or signature)
was already seen. Seen values live in Django's cache (Redis in production,
so every web process shares them) for the length of the window; after it,
the timestamp check refuses the request anyway.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

from carriers.base import Forbidden

# Gateways' own windows: requests older (or this far in the future, a clock
# that drifted) are refused.
DEFAULT_WINDOW = 5 * 60


def check_timestamp(timestamp: float, window: float = DEFAULT_WINDOW) -> None:
    """Forbidden unless ``timestamp`` (Unix seconds) is within the window."""
    if abs(time.time() - timestamp) > window:
        raise Forbidden("the request's timestamp is outside the window")


def check_first_use(carrier: str, token: str, window: float = DEFAULT_WINDOW) -> None:
    """Forbidden when ``token`` (a nonce, or the signature itself) was seen
    in the last ``window`` seconds: a replay. ``cache.add`` is atomic, so two
    copies of one request arriving at once cannot both pass."""
    digest = hashlib.sha256(f"{carrier}\x00{token}".encode()).hexdigest()
    if not cache.add(f"webhook-replay:{digest}", 1, int(window) + 60):
        raise Forbidden("the request was replayed")

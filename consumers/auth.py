"""Who opens a socket: Channels' session and login lookup, made by the
consumer once it has accepted the handshake, in its pool of database threads.

Channels' AuthMiddleware reads the session and user before the application
sees the connection, in the one database thread every socket of the process
shares. When 2,000 consoles reconnect at once (a deploy), each waited for
every lookup before its own, and Daphne dropped each handshake not accepted
within 5 s; the retries made the storm worse (docs/performance.md).
"""

from channels.auth import AuthMiddleware, UserLazyObject, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.utils.functional import empty

from consumers.db import database_sync_to_async

# The plain function under Channels' own (single-thread) wrapper.
_read_user = database_sync_to_async(get_user.func)


class DeferredAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware, except that ``scope["user"]`` is filled in
    when the consumer asks (``resolve_user``), not before the handshake."""

    async def resolve_scope(self, scope):
        pass


async def resolve_user(scope):
    """The scope's user (AnonymousUser without a valid session), read now
    unless it already was (or was given, as tests give one)."""
    user = scope["user"]
    if isinstance(user, UserLazyObject) and user._wrapped is empty:
        user._wrapped = await _read_user(scope)
        return user._wrapped
    return user


def DeferredAuthMiddlewareStack(inner):  # noqa: N802 (named as Channels names its own)
    return CookieMiddleware(SessionMiddleware(DeferredAuthMiddleware(inner)))

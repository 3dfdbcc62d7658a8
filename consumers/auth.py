"""Who opens a socket: Channels' session and login lookup, made by the
consumer once it has accepted the handshake, in its pool of database threads;
the agent seat it finds; and the session's sockets closed on logout.

Channels' AuthMiddleware reads the session and user before the application
sees the connection, in the one database thread every socket of the process
shares. When 2,000 consoles reconnect at once (a deploy), each waited for
every lookup before its own, and Daphne dropped each handshake not accepted
within 5 s; the retries made the storm worse (docs/performance.md).
"""

import hashlib

from channels.auth import AuthMiddleware, UserLazyObject, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.utils.functional import empty

from chatserver import events
from chatserver.models import Agent
from chatserver.models.prepared import Prepared
from chatserver.publish import publish
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


# Compiled once: every greeting and every action of every socket reads it.
_AGENT = Prepared(
    lambda user_id: Agent.objects.select_related("organisation", "user")
    .filter(user_id=user_id, user__is_active=True)
    .order_by("pk")[:1],
    int,
)


def load_agent(user_id: int) -> Agent | None:
    """The user's agent seat as it is now (None: deactivated, or no seat)."""
    found = _AGENT(user_id)
    return found[0] if found else None


def session_tag(session_key: str | None) -> str | None:
    """A session's name on the channel layer (never the key itself)."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs):
    """Logging out closes the sockets of that session, in every process."""
    agent = getattr(user, "agent", None) if user is not None else None
    session = getattr(request, "session", None)
    tag = session_tag(session.session_key if session is not None else None)
    if agent is not None and tag:
        publish(
            [events.agent_group(agent.id)], {"type": "session.ended", "session": tag}
        )

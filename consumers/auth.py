"""Who opens a socket: its session and login, read by the consumer once it
has accepted the handshake, in its pool of database threads, with the agent
seat they give; and the session's sockets closed on logout.

Channels' AuthMiddleware reads the session and user before the application
sees the connection, in the one database thread every socket of the process
shares. When 2,000 consoles reconnect at once (a deploy), each waited for
every lookup before its own, and Daphne dropped each handshake not accepted
within 5 s; the retries made the storm worse (docs/performance.md).
"""

import hashlib
from importlib import import_module

from channels.auth import UserLazyObject, get_user
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import parse_cookie
from django.utils.crypto import constant_time_compare
from django.utils.functional import empty

from chatserver import events
from chatserver.models import Agent
from chatserver.models.prepared import Prepared
from chatserver.publish import publish

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SocketLogin:
    """What a socket's handshake carries of its login: ``scope["session"]``,
    the session its cookie names (not read yet), and ``scope["user"]``, filled
    in by ``read_seat`` once the consumer has accepted the handshake.

    In place of Channels' Cookie-, Session- and AuthMiddleware: those read
    the login before the handshake was accepted (the docstring above), and
    wrapped every frame a socket sends to save a session that a socket never
    writes."""

    def __init__(self, inner):
        self.inner = inner
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        key = None
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                key = parse_cookie(value.decode("latin1")).get(
                    settings.SESSION_COOKIE_NAME
                )
                break
        scope = dict(scope, session=self.store(key), user=UserLazyObject())
        return await self.inner(scope, receive, send)


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


def read_seat(scope) -> tuple:
    """Who opened the socket, in a database thread: the scope's user
    (AnonymousUser without a valid login) and their agent seat (None without
    one). Fills in ``scope["user"]``.

    A login by Django's ModelBackend is read with its seat in one query, the
    seat's (the user with it): 2,000 consoles greet at once after a restart.
    Any other session goes through Channels' ``get_user``, which also flushes
    a session whose password hash is no longer the user's."""
    user = scope["user"]
    if isinstance(user, UserLazyObject) and user._wrapped is empty:
        agent = _seat_of_login(scope["session"])
        if agent is not None:
            user._wrapped = agent.user
            return agent.user, agent
        user._wrapped = get_user.func(scope)
    if not user.is_authenticated:
        return user, None
    return user, load_agent(user.pk)


def _seat_of_login(session) -> Agent | None:
    """The seat of the session's login when it is one Channels' ``get_user``
    would accept as it is (a ModelBackend login of an active user whose
    password hash is the session's); None leaves the session to it."""
    if session.get(BACKEND_SESSION_KEY) != MODEL_BACKEND:
        return None
    if MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user_id = int(session[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None
    agent = load_agent(user_id)  # active users only, as ModelBackend.get_user
    hashed = session.get(HASH_SESSION_KEY)
    if agent is None or not hashed:
        return None
    if not constant_time_compare(hashed, agent.user.get_session_auth_hash()):
        return None
    return agent


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

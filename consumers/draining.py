"""A process that is asked to stop (SIGTERM, a deploy) lets its consoles go
first, so that agents notice nothing.

Daphne's own SIGTERM stops the reactor at once: every socket is cut without
a close frame (the browser sees 1006) and the requests in flight are
abandoned. Instead, ``consumers.server.GracefulServer`` (the
server class of the ``daphne`` command line, installed by ``chatserver.asgi``,
so the Procfile's ``web`` command is unchanged):

1. stops listening: new connections go to the other processes (a load
   balancer's health check fails at once too);
2. closes every console socket with 1012 ("service restart"); each console
   waits a random 0.5 to 5 s, reconnects (to another process, through the
   balancer) and resumes from its cursor, so nothing is lost and the other
   processes are not all met at the same instant (static/console/js/socket.js);
3. waits until every socket has closed and every request in flight has been
   answered, for at most ``SHUTDOWN_DRAIN_SECONDS``, then stops as Daphne
   does. A second SIGTERM stops at once.

A socket still saying hello when the drain starts is closed with 1012 as
soon as it has (``close_if_draining``).
"""

from __future__ import annotations

import logging
import weakref
from typing import Protocol

from chatserver import metrics

log = logging.getLogger(__name__)

# "Service restart" (RFC 6455 registry): reconnect, elsewhere, after a while.
CLOSE_RESTART = 1012


class Closable(Protocol):
    async def close(self, code=None, reason=None): ...


_open: weakref.WeakSet[Closable] = weakref.WeakSet()
_state = {"draining": False}


def register(socket: Closable) -> None:
    """A console socket has had its hello: the drain closes it."""
    _open.add(socket)


def unregister(socket: Closable) -> None:
    _open.discard(socket)


def draining() -> bool:
    return _state["draining"]


async def close_if_draining(socket: Closable) -> bool:
    """Close a socket that finished its hello after the drain began."""
    if not draining():
        return False
    await close_for_restart(socket)
    return True


async def close_for_restart(socket: Closable) -> None:
    unregister(socket)
    metrics.SOCKETS_CLOSED.labels("restart").inc()
    await socket.close(code=CLOSE_RESTART)


async def close_all() -> int:
    """Start draining: close every open console with 1012; returns how many."""
    _state["draining"] = True
    sockets = list(_open)
    for socket in sockets:
        try:
            await close_for_restart(socket)
        except Exception:  # one socket's failure must not keep the others open
            log.exception("could not close a socket for the restart")
    return len(sockets)


def settled(connections: dict) -> bool:
    """Whether Daphne has nothing left open: every socket closed, every
    request answered (its ``connections``: one entry per socket or request,
    marked ``disconnected`` once done)."""
    return all("disconnected" in details for details in connections.values())

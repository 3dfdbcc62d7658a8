"""A process that is asked to stop (SIGTERM, a deploy) lets its consoles go
first, so that agents notice nothing.

Daphne's own SIGTERM stops the reactor at once: every socket is cut without
a close frame (the browser sees 1006) and the requests in flight are
abandoned. Instead, ``GracefulServer`` (installed as the server class of the
``daphne`` command line by ``chatserver.asgi``, so the Procfile's ``web``
command is unchanged):

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

import asyncio
import logging
import os
import sys
import time
import weakref
from typing import Protocol

from django.conf import settings

from chatserver import metrics

log = logging.getLogger(__name__)

# "Service restart" (RFC 6455 registry): reconnect, elsewhere, after a while.
CLOSE_RESTART = 1012
# How often the drain looks whether everything has closed.
DRAIN_POLL = 0.1
# Daphne's own default for --websocket_connect_timeout: a command line that
# kept it leaves the handshake timeout to WEBSOCKET_HANDSHAKE_SECONDS.
DAPHNE_DEFAULT_HANDSHAKE = 5


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


def install_with_daphne() -> None:
    """Make the ``daphne`` command line run a ``GracefulServer``.

    ``chatserver.asgi`` calls this when Daphne's command line imports it:
    Daphne builds its server after loading the application, from the class
    its command line names. Under any other server nothing happens here.
    """
    if "daphne.server" not in sys.modules:
        return
    from daphne import cli
    from twisted.internet import reactor

    base = cli.CommandLineInterface.server_class
    if getattr(base, "drains", False):
        return

    class GracefulServer(base):
        """Daphne's server, which drains on SIGTERM (see the module)."""

        drains = True

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.websocket_connect_timeout == DAPHNE_DEFAULT_HANDSHAKE:
                seconds = settings.WEBSOCKET_HANDSHAKE_SECONDS
                self.websocket_connect_timeout = seconds
                self.websocket_handshake_timeout = seconds
            self.ports = []
            self.drain_started: float | None = None
            self.closing: asyncio.Future | None = None

        def run(self):
            metrics.forget_dead_processes()
            reactor.addSystemEventTrigger(
                "after", "shutdown", metrics.forget, os.getpid()
            )
            if self.signal_handlers:
                # Twisted binds its SIGTERM handler when the reactor starts.
                reactor.sigTerm = self.on_sigterm
            super().run()

        def listen_success(self, port):
            self.ports.append(port)
            super().listen_success(port)

        def on_sigterm(self, number, frame=None):
            reactor.callFromThread(self.drain)

        def drain(self):
            if self.drain_started is not None:
                log.warning("second SIGTERM: stopping now")
                self.stop()
                return
            self.drain_started = time.monotonic()
            log.warning(
                "SIGTERM: draining (at most %s s)", settings.SHUTDOWN_DRAIN_SECONDS
            )
            for port in self.ports:
                port.stopListening()
            self.closing = asyncio.ensure_future(
                close_all(), loop=reactor._asyncioEventloop
            )
            reactor.callLater(DRAIN_POLL, self.stop_when_drained)

        def stop_when_drained(self):
            waited = time.monotonic() - self.drain_started
            if self.closing.done() and settled(self.connections):
                log.warning("drained in %.1f s: stopping", waited)
                self.stop()
            elif waited >= settings.SHUTDOWN_DRAIN_SECONDS:
                log.warning("drain took over %.0f s: stopping anyway", waited)
                self.stop()
            else:
                reactor.callLater(DRAIN_POLL, self.stop_when_drained)

    cli.CommandLineInterface.server_class = GracefulServer

"""Daphne's server as this product runs it (the Procfile's ``web`` command
unchanged): it drains on SIGTERM (``consumers.draining``), takes its
handshake timeout from ``WEBSOCKET_HANDSHAKE_SECONDS``, and answers a
handshake it had no time for with 503, never 403.

Daphne builds its server after loading the application, from the class its
command line names, so ``chatserver.asgi`` calls ``install_with_daphne``
when Daphne's command line imports it. Under any other server (the tests'
in-process ones) nothing here is used. Daphne and Twisted are imported only
then: importing ``daphne.server`` installs Twisted's reactor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pprint
import sys
import time

from django.conf import settings

from chatserver import metrics
from consumers import draining

log = logging.getLogger(__name__)

# How often the drain looks whether everything has closed.
DRAIN_POLL = 0.1
# Daphne's own default for --websocket_connect_timeout: a command line that
# leaves it there leaves the handshake timeout to WEBSOCKET_HANDSHAKE_SECONDS.
DAPHNE_DEFAULT_HANDSHAKE = 5


def install_with_daphne() -> None:
    """Make the ``daphne`` command line run ``GracefulServer``, whose sockets
    are ``console_protocol``'s."""
    if "daphne.server" not in sys.modules:
        return
    from daphne import cli

    if not getattr(cli.CommandLineInterface.server_class, "drains", False):
        cli.CommandLineInterface.server_class = graceful_server(
            cli.CommandLineInterface.server_class
        )


class Lazy:
    """``func(*args)``, called only when the result is written out."""

    __slots__ = ("func", "args")

    def __init__(self, func, *args):
        self.func = func
        self.args = args

    def __str__(self) -> str:
        return str(self.func(*self.args))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def lazily(func):
    """``func`` made lazy: it returns a ``Lazy`` of its call."""
    return lambda *args: Lazy(func, *args)


def lazy_autobahn_debug() -> None:
    """autobahn formats what its debug lines carry whether a line is logged or
    not: its whole configuration with ``pprint.pformat`` on every connection
    (in a reconnect storm, 2 to 16% of the event loop), and three colour
    highlights with click on every frame sent (2.4% of the web process's CPU
    for a text fanned out to 100 sockets; docs/performance.md). Its protocol
    module's ``pformat``, ``hltype`` and ``hlval`` are made lazy; the one
    place that needs a string from them (``Timings.__str__``) gets pprint's
    own."""
    from autobahn.websocket import protocol

    protocol.pformat = lazily(pprint.pformat)
    protocol.hltype = lazily(protocol.hltype)
    protocol.hlval = lazily(protocol.hlval)
    protocol.Timings.__str__ = lambda timings: pprint.pformat(timings._timings)


# Close codes from the IANA registry that autobahn's ``sendClose`` refuses
# (it takes 1000 and 3000-4999 only), and the reasons sent with them.
REGISTERED_CLOSES = {1012: b"service restart", 1013: b"try again later"}


def console_protocol(base):
    """Daphne's WebSocket protocol, except that:

    - a handshake the application has not accepted in time is answered 503
      ("busy, try again") where Daphne answers 403 "Access denied": under a
      reconnect storm, consoles with a valid login and Origin were told they
      were refused;
    - it can close with 1012 and 1013 (``REGISTERED_CLOSES``).
    """
    from autobahn.websocket.types import ConnectionDeny

    class ConsoleProtocol(base):
        def serverClose(self, code=None):  # noqa: N802 (Daphne's name)
            if code in REGISTERED_CLOSES:
                self.sendCloseFrame(
                    code=code, reasonUtf8=REGISTERED_CLOSES[code], isReply=False
                )
            else:
                super().serverClose(code)

        def check_timeouts(self):
            timeout = self.server.websocket_connect_timeout
            if (
                self.state == self.STATE_CONNECTING
                and timeout >= 0
                and self.duration() > timeout
                and hasattr(self, "handshake_deferred")
            ):
                metrics.SOCKETS_CLOSED.labels("handshake_timeout").inc()
                self.handshake_deferred.errback(
                    ConnectionDeny(code=503, reason="Busy, try again")
                )
                del self.handshake_deferred
                self.server.protocol_disconnected(self)
                return
            super().check_timeouts()

    return ConsoleProtocol


def graceful_server(base):
    from twisted.internet import reactor

    class GracefulServer(base):
        """Daphne's server, which drains on SIGTERM (``consumers.draining``)."""

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
            reactor.callWhenRunning(self.use_console_protocol)
            super().run()

        def use_console_protocol(self):
            lazy_autobahn_debug()
            factory = self.ws_factory
            factory.protocol = console_protocol(factory.protocol)

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
                "SIGTERM: draining, for at most %s s", settings.SHUTDOWN_DRAIN_SECONDS
            )
            for port in self.ports:
                port.stopListening()
            self.wait_for_close_replies()
            self.closing = asyncio.ensure_future(
                draining.close_all(), loop=reactor._asyncioEventloop
            )
            reactor.callLater(DRAIN_POLL, self.stop_when_drained)

        def wait_for_close_replies(self):
            """autobahn cuts a socket whose client has not answered its close
            frame within 1 s, and a console still reading a backlog of frames
            (or busy) then loses the 1012 queued behind them: it comes back at
            once, without its jitter (in a storm, 943 of 2,000 did). During
            the drain a reply is waited for as long as the drain itself."""
            for protocol in self.connections:
                if hasattr(protocol, "closeHandshakeTimeout"):
                    protocol.closeHandshakeTimeout = settings.SHUTDOWN_DRAIN_SECONDS

        def stop_when_drained(self):
            waited = time.monotonic() - self.drain_started
            if self.closing.done() and draining.settled(self.connections):
                log.warning("drained in %.1f s: stopping", waited)
                self.stop()
            elif waited >= settings.SHUTDOWN_DRAIN_SECONDS:
                log.warning("drain took over %.0f s: stopping anyway", waited)
                self.stop()
            else:
                reactor.callLater(DRAIN_POLL, self.stop_when_drained)

    return GracefulServer

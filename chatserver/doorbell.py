"""The worker's doorbell: telling the loops of every process that there is
work (a text queued, an image to fetch, a webhook stored).

PostgreSQL's NOTIFY reaches loops in other processes at once, instead of at
their next poll up to a second later (docs/performance.md); each kind of work
has a channel of its own, so each of the worker's loops hears only of its
own. Within a process, ``wake`` sets the loops' events directly.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from django.db import transaction

log = logging.getLogger(__name__)

# The two kinds of work, each with a PostgreSQL NOTIFY channel of its own:
# loops in other processes (the Procfile's worker) hear of work at once,
# instead of at their next poll up to POLL_SECONDS later (docs/performance.md),
# and each of the worker's two loops hears only of its own work.
# The two kinds of work (NOTIFY channel names: processes of the old and the
# new code share them during a deploy).
WEBHOOKS = "chatserver_webhooks"  # webhooks stored, to be applied


SENDS = "chatserver_outbox"  # texts queued to send, images to fetch

# Wakes this process's loops as soon as work is announced here: the worker's
# threads (one event each), or the web process's single loop.


def wake(channel: str | None = None) -> None:
    """Tell this process's loops that there is work (thread-safe): the loop
    for ``channel``'s work, or every loop."""
    for name, event in _thread_wakeups.items():
        if channel is None or name == channel:
            event.set()
    if _loop is not None and _async_wakeup is not None:
        _loop.call_soon_threadsafe(_async_wakeup.set)


def announce(channel: str = SENDS) -> None:
    """Tell the loops of every process that there is work (``SENDS``: a
    message queued, an image to fetch; ``WEBHOOKS``: a webhook stored), once
    the current transaction commits: other processes by a NOTIFY (PostgreSQL
    only; others poll), this one by ``wake``."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {channel}")
    transaction.on_commit(lambda: wake(channel))


class Listener:
    """Waits for an ``announce`` of ``channel``'s work from any process on
    PostgreSQL (on a connection of its own), else for this process's ``wake``."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.wakeup = _thread_wakeups[channel]
        self.connection = None

    def wait(self, timeout: float) -> None:
        import psycopg
        from django.db import connection as django_connection

        if django_connection.vendor != "postgresql":
            self.wait_here(timeout)
            return
        try:
            if self.connection is None or self.connection.closed:
                params = django_connection.get_connection_params()
                self.connection = psycopg.connect(**params, autocommit=True)
                self.connection.execute(f"LISTEN {self.channel}")
            # In slices, so that this process's own ``wake`` is heard too.
            deadline = time.monotonic() + timeout
            while not self.wakeup.is_set() and time.monotonic() < deadline:
                if any(self.connection.notifies(timeout=0.1, stop_after=1)):
                    break
            # Announces already here (several at once, or one heard both as
            # this process's wake and as its NOTIFY) are all for work that the
            # coming pass takes: left unread, each would wake a pass that
            # finds nothing.
            for _announce in self.connection.notifies(timeout=0):
                pass
            self.wakeup.clear()
        except psycopg.Error:
            log.warning("outbox cannot listen for %s: polling", self.channel)
            self.close()
            self.wait_here(timeout)

    def wait_here(self, timeout: float) -> None:
        self.wakeup.wait(timeout)
        self.wakeup.clear()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# Wakes this process's loops as soon as work is announced here: the worker's
# threads (one event each), or the web process's single loop.
_thread_wakeups = {WEBHOOKS: threading.Event(), SENDS: threading.Event()}
_loop: asyncio.AbstractEventLoop | None = None
_async_wakeup: asyncio.Event | None = None


def attach_loop(loop: asyncio.AbstractEventLoop, wakeup: asyncio.Event) -> None:
    """The web process's in-process outbox runs on its event loop: ``wake``
    wakes it there too."""
    global _loop, _async_wakeup
    _loop, _async_wakeup = loop, wakeup

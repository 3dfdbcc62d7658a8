"""The outbox: sends queued messages through their carrier, off the request path.

It also applies the webhooks that the web process stored to answer carriers
at once (``WEBHOOKS_QUEUED``; chatserver/actions/inbox.py).

`make run` runs it as a task on the web process's event loop; the Procfile's
``worker`` runs the same loop as its own process (``chatserver run_outbox``).
Both may run at once: every message is claimed by exactly one sender
(``chatserver.actions.delivery.claim``). The same loop fetches the images leads
send (``chatserver.worker.media``), each claimed by exactly one fetcher.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, transaction

from carriers import get_adapter
from carriers.base import CarrierError, ErrorKind, OutboundMessage
from chatserver.actions import delivery as sending
from chatserver.models import Message

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0

# The two kinds of work, each with a PostgreSQL NOTIFY channel of its own:
# loops in other processes (the Procfile's worker) hear of work at once,
# instead of at their next poll up to POLL_SECONDS later (docs/performance.md),
# and each of the worker's two loops hears only of its own work.
WEBHOOKS = "chatserver_webhooks"  # webhooks stored, to be applied
SENDS = "chatserver_outbox"  # texts queued to send, images to fetch

# Wakes this process's loops as soon as work is announced here: the worker's
# threads (one event each), or the web process's single loop.
_thread_wakeups = {WEBHOOKS: threading.Event(), SENDS: threading.Event()}
_loop: asyncio.AbstractEventLoop | None = None
_async_wakeup: asyncio.Event | None = None


# The address this process's own server answers on, learnt from the first
# request it serves (see ``learn_local_base``).
_local_base: str | None = None


def public_url(path: str) -> str:
    """An absolute URL of ours that a carrier can call.

    PUBLIC_BASE_URL when it is set (production must set it); otherwise this
    server's own address, which is what the simulator needs for `make run`.
    """
    base = (
        settings.PUBLIC_BASE_URL
        or _local_base
        or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"
    )
    return f"{base}{path}"


def learn_local_base(scope: dict) -> None:
    """Remember the address an ASGI request reached this server on."""
    global _local_base
    server = scope.get("server")
    if _local_base is None and server and server[1]:
        host, port = server
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        _local_base = f"{scheme}://{host}:{port}"


def status_callback_url(message: Message) -> str:
    """Where the carrier reports this message's delivery status."""
    return public_url(f"/carriers/{message.carrier}/status?ref={message.id}")


def send_one(message: Message) -> None:
    """Hand one claimed message to its carrier and record the answer."""
    conversation = message.conversation
    from chatserver.rules import images as media

    outbound = OutboundMessage(
        from_number=conversation.sender.number,
        to_number=conversation.contact_number.number,
        body=message.body,
        # Signed now, so the carrier's URL is valid for MMS_URL_MAX_AGE from
        # the moment it gets it, retries included.
        media_urls=media.outbound_urls(message),
        reference=str(message.id),
    )
    try:
        adapter = get_adapter(message.carrier)
    except LookupError:
        # Nothing was sent: a sender number on a carrier this server lacks.
        sending.record_failure(
            message,
            CarrierError(
                ErrorKind.PERMANENT, "", f"No carrier named {message.carrier!r}."
            ),
        )
        return
    try:
        result = adapter.send(outbound, status_callback_url(message))
    except CarrierError as error:
        log.info("send of message %s failed: %s", message.id, error)
        sending.record_failure(message, error)
        return
    except Exception as exc:  # a bug or an unexpected answer: don't resend blindly
        log.exception("send of message %s raised", message.id)
        sending.record_failure(
            message, CarrierError(ErrorKind.UNCERTAIN, "", f"Unexpected error: {exc}")
        )
        return
    sending.record_sent(message, result)


def release_connections() -> None:
    """Drop database connections that broke or aged between passes, as Django
    does between requests; never inside a caller's transaction (a test's)."""
    if not transaction.get_connection().in_atomic_block:
        close_old_connections()


def apply_webhooks() -> int:
    """Apply the webhooks waiting (chatserver/actions/inbox.py); returns how
    many were handled."""
    from chatserver.actions import webhooks as inbox

    return inbox.process_pending()


def send_due(
    limit: int = 20,
    stop: threading.Event | None = None,
    maintain: bool = True,
    between: Callable[[], int] | None = None,
) -> int:
    """Send what is due now, and fetch one lead's image; returns how many
    messages and images were handled.

    With ``maintain``, it also does the work that waits on the clock, not on
    a wake-up: flagging sends whose sender died, releasing scheduled texts.
    ``between`` runs before each send (``run_once`` applies webhooks there).
    With ``stop`` set, it returns after the message being sent: a worker
    asked to stop never abandons a send halfway.
    """
    handled = 0
    if maintain:
        from chatserver.actions import compliance

        sending.recover_interrupted()
        compliance.release_scheduled()
    for message_id in sending.due_message_ids(limit):
        if stop is not None and stop.is_set():
            break
        if between is not None:
            handled += between()
        message = sending.claim(message_id)
        if message is not None:
            send_one(message)
            handled += 1
    if stop is None or not stop.is_set():
        from chatserver.worker import media as inbound_media

        # Leads' images, one per pass: texts due meanwhile never wait
        # behind a slow media host for more than one fetch.
        handled += inbound_media.run_once(limit=1)
    return handled


def run_once(
    limit: int = 20, stop: threading.Event | None = None, maintain: bool = True
) -> int:
    """One pass of all the outbox's work, in one thread (the web process's
    loop; tests): webhooks first, since an agent is waiting to see a lead's
    text, and again before each send, so one waits for one send at most.
    Returns how many webhooks, messages and images were handled."""
    release_connections()
    try:
        handled = apply_webhooks()
        return handled + send_due(limit, stop, maintain, between=apply_webhooks)
    finally:
        release_connections()


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


class Maintenance:
    """When a pass should also do the clock's work (``run_once(maintain=)``):
    at most once every POLL_SECONDS. Under load passes follow each other every
    few milliseconds, and the two queries each cost a round trip that a
    lead's text waits behind; a scheduled text is released at most that much
    later than it would be anyway."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.last: float | None = None

    def due(self) -> bool:
        now = self.clock()
        if self.last is not None and now - self.last < POLL_SECONDS:
            return False
        self.last = now
        return True


def repeat(name: str, channel: str, step, stop: threading.Event) -> None:
    """Run ``step`` until ``stop``; when it found nothing to do, wait for an
    announce of ``channel``'s work (or POLL_SECONDS)."""
    listener = Listener(channel)
    try:
        while not stop.is_set():
            release_connections()
            try:
                handled = step()
            except Exception:
                log.exception("outbox %s pass failed; trying again", name)
                handled = 0
                stop.wait(POLL_SECONDS)
            finally:
                release_connections()
            if not handled and not stop.is_set():
                listener.wait(POLL_SECONDS)
    finally:
        listener.close()
        from django.db import connection

        connection.close()  # this thread's own


def run_forever(stop: threading.Event | None = None) -> None:
    """The worker process's loops (``chatserver run_outbox``).

    Two threads, each with a database connection of its own: one applies the
    webhooks the web processes stored, one sends and fetches. So a lead's
    text never waits behind a carrier's answer to a send (Twilio's takes a
    tenth of a second or more) or a slow media host; both mostly wait on the
    network, so they share the GIL well. Stopping ends the send in progress
    and the batch of webhooks in progress, then returns.
    """
    stop = stop or threading.Event()
    maintenance = Maintenance()
    webhooks = threading.Thread(
        target=repeat,
        args=("webhooks", WEBHOOKS, apply_webhooks, stop),
        name="outbox-webhooks",
    )
    log.info("outbox worker started")
    webhooks.start()
    try:
        repeat(
            "sends",
            SENDS,
            lambda: send_due(stop=stop, maintain=maintenance.due()),
            stop,
        )
    finally:
        stop.set()
        webhooks.join()
    log.info("outbox worker stopped")


async def run_in_event_loop() -> None:
    """The same loop as a task of the web process (`make run`).

    It runs in the server's own event loop so that what it publishes reaches
    sockets through the in-memory channel layer too.
    """
    global _loop, _async_wakeup
    _loop = asyncio.get_running_loop()
    _async_wakeup = asyncio.Event()
    step = sync_to_async(run_once, thread_sensitive=False)
    maintenance = Maintenance()
    log.info("outbox running in the web process")
    while True:
        try:
            handled = await step(maintain=maintenance.due())
        except Exception:
            log.exception("outbox pass failed; trying again")
            handled = 0
        if not handled:
            try:
                await asyncio.wait_for(_async_wakeup.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            _async_wakeup.clear()


_task: asyncio.Task | None = None


def start_in_process() -> None:
    """Start the in-process sender once, on the running event loop."""
    global _task
    if _task is None and settings.OUTBOX_IN_PROCESS:
        _task = asyncio.get_running_loop().create_task(run_in_event_loop())

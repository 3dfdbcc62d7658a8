"""The outbox: sends queued messages through their carrier, off the request path.

It also applies the webhooks that the web process stored to answer carriers
at once (``WEBHOOKS_QUEUED``; chatserver/actions/inbox.py).

`make run` runs it as a task on the web process's event loop; the Procfile's
``worker`` runs the same loop as its own process (``chatserver run_outbox``).
Both may run at once: every message is claimed by exactly one sender
(``chatserver.actions.sending.claim``). The same loop fetches the images leads
send (``chatserver.inbound_media``), each claimed by exactly one fetcher.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, transaction

from carriers import get_adapter
from carriers.base import CarrierError, ErrorKind, OutboundMessage
from chatserver.actions import sending
from chatserver.models import Message

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0

# Wakes the sender of this process as soon as a message is queued here.
_loop: asyncio.AbstractEventLoop | None = None
_async_wakeup: asyncio.Event | None = None
_thread_wakeup = threading.Event()

# Senders in other processes (the Procfile's worker) hear of a queued message
# at once through PostgreSQL's LISTEN/NOTIFY, instead of at their next poll up
# to POLL_SECONDS later (docs/performance.md).
NOTIFY_CHANNEL = "chatserver_outbox"


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
    from chatserver import media

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


def run_once(
    limit: int = 20, stop: threading.Event | None = None, maintain: bool = True
) -> int:
    """Apply the webhooks waiting (chatserver/actions/inbox.py) and send what
    is due now; returns how many webhooks and messages were handled.

    With ``maintain``, it also does the work that waits on the clock, not on
    a wake-up: flagging sends whose sender died, releasing scheduled texts.

    With ``stop`` set, it returns after the message being sent: a worker
    asked to stop never abandons a send halfway.
    """
    release_connections()
    try:
        from chatserver.actions import inbox

        # Leads' texts first: an agent is waiting to see them.
        handled = inbox.process_pending()
        if maintain:
            from chatserver.actions import compliance

            sending.recover_interrupted()
            compliance.release_scheduled()
        for message_id in sending.due_message_ids(limit):
            if stop is not None and stop.is_set():
                break
            # A lead's text that came in meanwhile waits for one send at most.
            handled += inbox.process_pending()
            message = sending.claim(message_id)
            if message is not None:
                send_one(message)
                handled += 1
        if stop is None or not stop.is_set():
            from chatserver import inbound_media

            # Leads' images, one per pass: texts due meanwhile never wait
            # behind a slow media host for more than one fetch.
            handled += inbound_media.run_once(limit=1)
        return handled
    finally:
        release_connections()


def wake() -> None:
    """Tell this process's sender that a message was queued (thread-safe)."""
    _thread_wakeup.set()
    if _loop is not None and _async_wakeup is not None:
        _loop.call_soon_threadsafe(_async_wakeup.set)


def announce() -> None:
    """Tell the senders of every process that there is work (a message queued,
    a webhook stored), once the current transaction commits: other processes
    by a NOTIFY (PostgreSQL only; others poll), this one by ``wake``."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    transaction.on_commit(wake)


class Listener:
    """Waits for an ``announce`` from any process on PostgreSQL (on a
    connection of its own), else for this process's ``wake``."""

    def __init__(self) -> None:
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
                self.connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            # In slices, so that this process's own ``wake`` is heard too.
            deadline = time.monotonic() + timeout
            while not _thread_wakeup.is_set() and time.monotonic() < deadline:
                if any(self.connection.notifies(timeout=0.1, stop_after=1)):
                    break
            _thread_wakeup.clear()
        except psycopg.Error:
            log.warning("outbox cannot listen for queued messages: polling")
            self.close()
            self.wait_here(timeout)

    def wait_here(self, timeout: float) -> None:
        _thread_wakeup.wait(timeout)
        _thread_wakeup.clear()

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


def run_forever(stop: threading.Event | None = None) -> None:
    """The worker process's loop (``chatserver run_outbox``)."""
    stop = stop or threading.Event()
    listener = Listener()
    maintenance = Maintenance()
    log.info("outbox worker started")
    try:
        while not stop.is_set():
            try:
                handled = run_once(stop=stop, maintain=maintenance.due())
            except Exception:
                log.exception("outbox pass failed; trying again")
                handled = 0
                stop.wait(POLL_SECONDS)
            if not handled and not stop.is_set():
                listener.wait(POLL_SECONDS)
    finally:
        listener.close()
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

"""The worker's loops: sending queued texts through their carrier, applying
the webhooks the web process stored, fetching leads' images, and the work
that waits on the clock (sends whose sender died, scheduled texts).

`make run` runs them as a task on the web process's event loop; the
Procfile's ``worker`` runs them as a process of their own (``chatserver
run_outbox``). Both may run at once: every message is claimed by exactly one
sender (``chatserver.actions.delivery.claim``), every image by one fetcher.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection, transaction

from chatserver import doorbell
from chatserver.actions import delivery, scheduled, webhooks
from chatserver.worker import media
from chatserver.worker.sending import send_one

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


def release_connections() -> None:
    """Drop database connections that broke or aged between passes, as Django
    does between requests; never inside a caller's transaction (a test's)."""
    if not transaction.get_connection().in_atomic_block:
        close_old_connections()


def apply_webhooks() -> int:
    """Apply the webhooks waiting (``chatserver.actions.webhooks``); returns
    how many were handled."""
    return webhooks.process_pending()


def webhooks_left(handled: int) -> bool:
    """Whether a pass of ``apply_webhooks`` may have left receipts waiting: it
    took a whole batch. One that took fewer took every receipt committed when
    it began, and each receipt stored since is announced after its commit, so
    the worker waits for that announce instead of looking again at once: a
    second pass after each text cost three round trips that found nothing."""
    return handled >= webhooks.BATCH


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
        delivery.recover_interrupted()
        scheduled.release_scheduled()
    for message_id in delivery.due_message_ids(limit):
        if stop is not None and stop.is_set():
            break
        if between is not None:
            handled += between()
        message = delivery.claim(message_id)
        if message is not None:
            send_one(message)
            handled += 1
    if stop is None or not stop.is_set():
        # Leads' images, one per pass: texts due meanwhile never wait
        # behind a slow media host for more than one fetch.
        handled += media.run_once(limit=1)
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


def repeat(
    name: str,
    channel: str,
    step,
    stop: threading.Event,
    more: Callable[[int], bool] = bool,
) -> None:
    """Run ``step`` until ``stop``; when ``more(handled)`` says its pass left
    nothing behind, wait for an announce of ``channel``'s work (or
    POLL_SECONDS). An announce made while the pass ran is not lost: the
    listening connection holds it until the wait reads it."""
    listener = doorbell.Listener(channel)
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
            if not more(handled) and not stop.is_set():
                listener.wait(POLL_SECONDS)
    finally:
        listener.close()
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
    applier = threading.Thread(
        target=repeat,
        args=("webhooks", doorbell.WEBHOOKS, apply_webhooks, stop, webhooks_left),
        name="outbox-webhooks",
    )
    log.info("outbox worker started")
    applier.start()
    try:
        repeat(
            "sends",
            doorbell.SENDS,
            lambda: send_due(stop=stop, maintain=maintenance.due()),
            stop,
        )
    finally:
        stop.set()
        applier.join()
    log.info("outbox worker stopped")


async def run_in_event_loop() -> None:
    """The same loop as a task of the web process (`make run`).

    It runs in the server's own event loop so that what it publishes reaches
    sockets through the in-memory channel layer too.
    """
    wakeup = asyncio.Event()
    doorbell.attach_loop(asyncio.get_running_loop(), wakeup)
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
                await asyncio.wait_for(wakeup.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            wakeup.clear()


_task: asyncio.Task | None = None


def start_in_process() -> None:
    """Start the in-process sender once, on the running event loop."""
    global _task
    if _task is None and settings.OUTBOX_IN_PROCESS:
        _task = asyncio.get_running_loop().create_task(run_in_event_loop())

"""The outbox: sends queued messages through their carrier, off the request path.

`make run` runs it as a task on the web process's event loop; the Procfile's
``worker`` runs the same loop as its own process (``chatserver run_outbox``).
Both may run at once: every message is claimed by exactly one sender
(``chatserver.actions.sending.claim``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

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


def public_url(path: str) -> str:
    """An absolute URL of ours that a carrier can call."""
    base = settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000"
    return f"{base}{path}"


def status_callback_url(message: Message) -> str:
    """Where the carrier reports this message's delivery status."""
    return public_url(f"/carriers/{message.carrier}/status?ref={message.id}")


def send_one(message: Message) -> None:
    """Hand one claimed message to its carrier and record the answer."""
    conversation = message.conversation
    outbound = OutboundMessage(
        from_number=conversation.sender.number,
        to_number=conversation.contact_number.number,
        body=message.body,
        media_urls=(),
        reference=str(message.id),
    )
    try:
        adapter = get_adapter(message.carrier)
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


def run_once(limit: int = 20) -> int:
    """Send what is due now; returns how many messages were handled."""
    close_old_connections()
    try:
        sending.recover_interrupted()
        from chatserver.actions import compliance

        compliance.release_scheduled()
        handled = 0
        for message_id in sending.due_message_ids(limit):
            message = sending.claim(message_id)
            if message is not None:
                send_one(message)
                handled += 1
        return handled
    finally:
        close_old_connections()


def wake() -> None:
    """Tell this process's sender that a message was queued (thread-safe)."""
    _thread_wakeup.set()
    if _loop is not None and _async_wakeup is not None:
        _loop.call_soon_threadsafe(_async_wakeup.set)


def run_forever(stop: threading.Event | None = None) -> None:
    """The worker process's loop (``chatserver run_outbox``)."""
    stop = stop or threading.Event()
    log.info("outbox worker started")
    while not stop.is_set():
        try:
            handled = run_once()
        except Exception:
            log.exception("outbox pass failed; trying again")
            handled = 0
            time.sleep(POLL_SECONDS)
        if not handled:
            _thread_wakeup.wait(POLL_SECONDS)
            _thread_wakeup.clear()


async def run_in_event_loop() -> None:
    """The same loop as a task of the web process (`make run`).

    It runs in the server's own event loop so that what it publishes reaches
    sockets through the in-memory channel layer too.
    """
    global _loop, _async_wakeup
    _loop = asyncio.get_running_loop()
    _async_wakeup = asyncio.Event()
    step = sync_to_async(run_once, thread_sensitive=False)
    log.info("outbox running in the web process")
    while True:
        try:
            handled = await step()
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

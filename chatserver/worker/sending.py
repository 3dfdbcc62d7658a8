"""Handing one claimed message to its carrier, and recording the answer."""

from __future__ import annotations

import logging

from carriers import get_adapter
from carriers.base import CarrierError, ErrorKind, OutboundMessage
from chatserver import links, metrics
from chatserver.actions import delivery
from chatserver.models import Message

log = logging.getLogger(__name__)


def send_one(message: Message) -> None:
    """Hand one claimed message to its carrier and record the answer."""
    conversation = message.conversation
    outbound = OutboundMessage(
        from_number=conversation.sender.number,
        to_number=conversation.contact_number.number,
        body=message.body,
        # Signed now, so the carrier's URL is valid for MMS_URL_MAX_AGE from
        # the moment it gets it, retries included.
        media_urls=links.outbound_urls(message),
        reference=str(message.id),
    )
    try:
        adapter = get_adapter(message.carrier)
    except LookupError:
        # Nothing was sent: a sender number on a carrier this server lacks.
        delivery.record_failure(
            message,
            CarrierError(
                ErrorKind.PERMANENT, "", f"No carrier named {message.carrier!r}."
            ),
        )
        return
    metrics.SENDS.labels(message.carrier).inc()
    try:
        result = adapter.send(outbound, links.status_callback_url(message))
    except CarrierError as error:
        log.info("send of message %s failed: %s", message.id, error)
        metrics.SEND_FAILURES.labels(message.carrier, error.kind.value).inc()
        delivery.record_failure(message, error)
        return
    except Exception as exc:  # a bug or an unexpected answer: don't resend blindly
        log.exception("send of message %s raised", message.id)
        error = CarrierError(ErrorKind.UNCERTAIN, "", f"Unexpected error: {exc}")
        metrics.SEND_FAILURES.labels(message.carrier, error.kind.value).inc()
        delivery.record_failure(message, error)
        return
    delivery.record_sent(message, result)

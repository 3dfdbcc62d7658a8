"""The outbox's writes: claiming a queued message and recording what happened.

Each message is claimed by a conditional update (queued -> sending), so among
any number of senders, in any number of processes, exactly one gets it.
"""

from __future__ import annotations

import datetime
import logging
import random

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from carriers.base import CarrierError, ErrorKind, SendResult, StatusUpdate
from chatserver.actions import consent
from chatserver.actions.message_events import publish_message_status
from chatserver.actions.messages import CARRIER_STATUS, move_status
from chatserver.models import Message

log = logging.getLogger(__name__)

Status = Message.Status

MAX_ATTEMPTS = 5
CHECK_REASON = (
    "Sending was interrupted: it may have been sent. Check the lead's phone "
    "before sending again."
)


def due() -> Q:
    """Queued messages whose time has come (a retry waits for its backoff)."""
    return Q(status=Status.QUEUED) & (
        Q(send_after__isnull=True) | Q(send_after__lte=timezone.now())
    )


def due_message_ids(limit: int = 20) -> list[int]:
    """Queued outbound messages whose time has come, oldest first."""
    return list(
        Message.objects.filter(due())
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def claim(message_id: int) -> Message | None:
    """Take a queued message for sending; None when another sender has it.

    One conditional UPDATE: whichever sender's update matches the row first
    moves it to 'sending'; every other one matches nothing. Still due is part
    of the condition, so a message another sender just put back for a retry
    waits for its backoff.
    """
    claimed = Message.objects.filter(due(), pk=message_id).update(
        status=Status.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return None
    message = Message.objects.select_related(
        "conversation__sender", "conversation__contact_number", "conversation__lead"
    ).get(pk=message_id)
    if too_late(message):
        settle(message, Status.FAILED, TOO_LATE_CODE, TOO_LATE_REASON)
        return None
    return message


# FCC 24-24 allows one opt-out confirmation, sent within five minutes of the
# opt-out: one the outbox could not hand on in time is never sent.
CONFIRM_WITHIN = datetime.timedelta(minutes=5)
TOO_LATE_CODE = "too_late"
TOO_LATE_REASON = (
    "An opt-out confirmation may only go within 5 minutes of the opt-out: "
    "it could not be sent in time, so it was not sent."
)


def too_late(message: Message) -> bool:
    """Whether an opt-out confirmation has missed its five minutes."""
    return (
        message.automation == Message.Automation.OPTOUT_CONFIRMATION
        and timezone.now() - message.created_at > CONFIRM_WITHIN
    )


@transaction.atomic
def record_sent(message: Message, result: SendResult) -> None:
    """The carrier accepted the message: remember its id, mark it sent."""
    Message.objects.filter(pk=message.pk).update(
        carrier_message_id=result.carrier_message_id
    )
    message.carrier_message_id = result.carrier_message_id
    settle(message, Status.SENT)


def settle(message: Message, status: str, code: str = "", reason: str = "") -> bool:
    """Move a message this sender claimed to what the carrier answered.

    A send slower than the lease may have been flagged 'check' meanwhile;
    the answer is better knowledge, so it moves the message on from there
    (``move_status`` re-reads the row when its first try finds it changed).
    """
    return move_status(message, status, code, reason) or move_status(
        message, status, code, reason
    )


def retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential backoff with jitter: about 2, 4, 8, 16 s."""
    return datetime.timedelta(seconds=(2**attempts) * random.uniform(0.75, 1.25))


@transaction.atomic
def record_failure(message: Message, error: CarrierError) -> None:
    """The carrier refused, or could not be reached: retry, fail or flag."""
    if error.kind == ErrorKind.UNCERTAIN:
        move_status(message, Status.CHECK, error.code, error.reason or CHECK_REASON)
        return
    if error.kind == ErrorKind.RETRYABLE and message.attempts < MAX_ATTEMPTS:
        reason = f"Not sent yet, will retry: {error.reason}"[:300]
        requeued = Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.QUEUED,
            send_after=timezone.now() + retry_delay(message.attempts),
            error_code=error.code,
            error_reason=reason,
            updated_at=timezone.now(),
        )
        if requeued:
            # The agent sees why the text is still waiting.
            message.status = Status.QUEUED
            message.error_code, message.error_reason = error.code, reason
            publish_message_status(message)
        return
    settle(message, Status.FAILED, error.code, error.reason)
    consent.on_carrier_error(message, error)


@transaction.atomic
def recover_interrupted() -> int:
    """Flag messages left 'sending' by a sender that died; returns how many.

    Such a message may have reached the carrier before its sender died, so it
    is never sent again automatically: an agent checks. A late status callback
    from the carrier (found through the ``ref`` of its URL) still moves it on.
    """
    lease = datetime.timedelta(seconds=settings.OUTBOX_SENDING_LEASE)
    cutoff = timezone.now() - lease
    stale = Message.objects.select_related("conversation__lead").filter(
        status=Status.SENDING, updated_at__lt=cutoff
    )
    count = 0
    for message in stale:
        count += move_status(message, Status.CHECK, "", CHECK_REASON)
    return count


@transaction.atomic
def record_status(update: StatusUpdate, arrived: float | None = None) -> Message | None:
    """Apply a carrier's delivery receipt; unknown or stale ones change nothing.
    ``arrived``: when its webhook reached us (a Unix time), for the sockets'
    latency figure."""
    messages = Message.objects.select_related("conversation__lead").filter(
        carrier=update.carrier
    )
    message = messages.filter(carrier_message_id=update.carrier_message_id).first()
    reference = update.reference
    # Our id, when the callback URL carried one: ASCII digits only (int()
    # refuses other digits, and thousands of them).
    has_reference = reference.isascii() and reference.isdigit() and len(reference) < 20
    if message is None and has_reference:
        # The receipt beat the send's answer: find the message by our own id.
        message = messages.filter(pk=int(reference), carrier_message_id="").first()
        if message is not None:
            Message.objects.filter(pk=message.pk).update(
                carrier_message_id=update.carrier_message_id
            )
            message.carrier_message_id = update.carrier_message_id
    if message is None or message.direction != Message.Direction.OUTBOUND:
        log.info("status for unknown message %s ignored", update.carrier_message_id)
        return None
    status = CARRIER_STATUS.get(update.status)
    if status is None:
        return message
    error = update.error
    moved = move_status(
        message,
        status,
        error_code=error.code if error else "",
        error_reason=error.reason if error else "",
        arrived=arrived,
    )
    if moved and error is not None:
        consent.on_carrier_error(message, error)
    return message

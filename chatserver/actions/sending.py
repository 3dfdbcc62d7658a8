"""The outbox's writes: claiming a queued message and recording what happened.

Each message is claimed by a conditional update (queued -> sending), so among
any number of senders, in any number of processes, exactly one gets it.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from carriers.base import CarrierError, ErrorKind, SendResult
from chatserver.actions.messages import move_status
from chatserver.models import Message

Status = Message.Status

MAX_ATTEMPTS = 5
# A message still 'sending' after this long was being sent by a process that
# died: it may have reached the carrier, so an agent checks instead of a resend.
SENDING_LEASE = datetime.timedelta(minutes=2)
CHECK_REASON = (
    "Sending was interrupted: it may have been sent. Check the lead's phone "
    "before sending again."
)


def due_message_ids(limit: int = 20) -> list[int]:
    """Queued outbound messages whose time has come, oldest first."""
    now = timezone.now()
    return list(
        Message.objects.filter(status=Status.QUEUED)
        .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def claim(message_id: int) -> Message | None:
    """Take a queued message for sending; None when another sender has it."""
    claimed = Message.objects.filter(pk=message_id, status=Status.QUEUED).update(
        status=Status.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return None
    return Message.objects.select_related(
        "conversation__sender", "conversation__contact_number", "conversation__lead"
    ).get(pk=message_id)


@transaction.atomic
def record_sent(message: Message, result: SendResult) -> None:
    """The carrier accepted the message: remember its id, mark it sent."""
    Message.objects.filter(pk=message.pk).update(
        carrier_message_id=result.carrier_message_id
    )
    message.carrier_message_id = result.carrier_message_id
    move_status(message, Status.SENT)


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
        Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.QUEUED,
            send_after=timezone.now() + retry_delay(message.attempts),
            error_code=error.code,
            error_reason=error.reason[:300],
        )
        return
    move_status(message, Status.FAILED, error.code, error.reason)
    from chatserver.actions import consent

    consent.on_carrier_error(message, error)


@transaction.atomic
def recover_interrupted() -> int:
    """Flag messages left 'sending' by a sender that died; returns how many."""
    cutoff = timezone.now() - SENDING_LEASE
    stale = Message.objects.select_related("conversation__lead").filter(
        status=Status.SENDING, updated_at__lt=cutoff
    )
    count = 0
    for message in stale:
        count += move_status(message, Status.CHECK, "", CHECK_REASON)
    return count

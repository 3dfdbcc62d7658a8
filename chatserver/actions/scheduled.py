"""Scheduled texts: released to the outbox when their time comes, after the
checks a send has then (``chatserver.queries.compliance``)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from chatserver.actions.messages import move_status
from chatserver.models import Message
from chatserver.queries.compliance import quiet_verdict, why_not_release

log = logging.getLogger(__name__)


def release_scheduled(limit: int = 100) -> int:
    """Queue scheduled messages whose time has come; returns how many.

    Each passes the checks of a send again: a lead who opted out meanwhile, or
    an agent who lost the lead, fails the message with the reason and nothing
    is sent. One still in quiet hours (the rules changed, or a clock moved)
    waits for the next allowed time.
    """
    now = timezone.now()
    due = list(
        Message.objects.filter(status=Message.Status.SCHEDULED, send_after__lte=now)
        .order_by("send_after", "id")
        .values_list("id", flat=True)[:limit]
    )
    released = 0
    for message_id in due:
        with transaction.atomic():
            message = (
                Message.objects.select_related(
                    "conversation__lead",
                    "conversation__contact_number",
                    "conversation__organisation",
                    "author__user",
                )
                .filter(pk=message_id, status=Message.Status.SCHEDULED)
                .first()
            )
            if message is None:  # another outbox released it
                continue
            error = why_not_release(message)
            if error is not None:
                log.info("scheduled message %s not sent: %s", message.id, error.reason)
                move_status(message, Message.Status.FAILED, error.code, error.reason)
                continue
            verdict = quiet_verdict(message.conversation, now)
            if verdict.quiet:
                Message.objects.filter(
                    pk=message.pk, status=Message.Status.SCHEDULED
                ).update(send_after=verdict.next_allowed, updated_at=now)
                continue
            released += move_status(message, Message.Status.QUEUED)
    return released

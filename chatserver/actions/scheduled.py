"""Scheduled texts: released to the outbox when their time comes, after the
checks a send has then (``chatserver.queries.compliance``)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from chatserver.actions.governing import release_verdict
from chatserver.actions.message_events import publish_message_updated
from chatserver.actions.messages import move_status
from chatserver.models import Message
from chatserver.queries.compliance import quiet_verdict, why_not_release
from chatserver.queries.governed import GovernorHold

log = logging.getLogger(__name__)


def release_scheduled(limit: int = 100) -> int:
    """Queue scheduled messages whose time has come; returns how many.

    Each passes the checks of a send again: a lead who opted out meanwhile, or
    an agent who lost the lead, fails the message with the reason and nothing
    is sent. One still in quiet hours (the rules changed, or a clock moved),
    or held by the send governor (a state's hours, a cap), waits for the next
    time allowed, and consoles see its new time; one no time in the
    governor's search allows fails with the rule's reason.
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
                _wait_until(message, verdict.next_allowed, now)
                continue
            held = release_verdict(message, now)
            if held is not None and not held.allowed:
                if held.next_allowed is None:
                    error = GovernorHold(held)
                    move_status(message, Message.Status.FAILED, error.code, error.reason)
                else:
                    _wait_until(message, held.next_allowed, now)
                continue
            if held is not None:
                Message.objects.filter(pk=message.pk).update(governed=True)
            released += move_status(message, Message.Status.QUEUED)
    return released


def _wait_until(message: Message, then, now) -> None:
    """Keep a scheduled message for ``then``, and show consoles its new time."""
    moved = Message.objects.filter(
        pk=message.pk, status=Message.Status.SCHEDULED
    ).update(send_after=then, updated_at=now)
    if moved:
        publish_message_updated(message)

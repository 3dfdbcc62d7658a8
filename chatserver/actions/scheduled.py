"""Scheduled texts: released to the outbox when their time comes, after the
checks a send has then (``chatserver.queries.compliance``); edited or
cancelled by an agent until then; cancelled when the lead texts first."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from carriers.segments import check_limit
from chatserver.actions.governing import release_verdict
from chatserver.actions.locks import lock_number
from chatserver.actions.message_events import publish_message_updated
from chatserver.actions.messages import count_segments, move_status
from chatserver.models import Agent, Message
from chatserver.queries import access, compliance, scheduling
from chatserver.queries.compliance import quiet_verdict, why_not_release
from chatserver.queries.governed import GovernorHold
from chatserver.rules.errors import ActionError

log = logging.getLogger(__name__)

Status = Message.Status

# Why a scheduled text was cancelled (its ``error_code``/``error_reason``).
LEAD_REPLIED = ("lead_replied", "Cancelled: the lead replied first.")
CANCELLED_BY = "cancelled"


def release_scheduled(limit: int = 100) -> int:
    """Queue scheduled messages whose time has come; returns how many.

    Each passes the checks of a send again: a lead who opted out meanwhile,
    an agent who lost the lead, or a plan that no longer takes the text,
    fails the message with the reason and nothing is sent. One still in
    quiet hours (the rules changed, or a clock moved), or held by the send
    governor (a state's hours, a cap), waits for the next time allowed, and
    consoles see its new time; one no time in the governor's search allows
    fails with the rule's reason.

    Several workers may run this at once: each message is locked while it is
    checked (one another worker holds is skipped, not waited for) and moved
    on only from ``scheduled``, so it is queued (then claimed by one sender)
    exactly once. A worker that dies mid-way leaves it scheduled for the next.
    """
    now = timezone.now()
    due = list(
        Message.objects.filter(status=Status.SCHEDULED, send_after__lte=now)
        .order_by("send_after", "id")
        .values_list("id", "organisation_id", "conversation__contact_number__number")[
            :limit
        ]
    )
    released = 0
    for message_id, organisation_id, number in due:
        with transaction.atomic():
            # The number's lock before the message's row, in the order a
            # lead's text takes them (it cancels scheduled texts under it).
            lock_number(organisation_id, number)
            message = (
                Message.objects.select_related(
                    "conversation__lead",
                    "conversation__contact_number",
                    "conversation__organisation",
                    "conversation__sender",
                    "author__user",
                )
                .select_for_update(of=("self",), skip_locked=True)
                .filter(pk=message_id, status=Status.SCHEDULED)
                .first()
            )
            if message is None:  # another worker has it, or released it
                continue
            error = why_not_release(message) or over_plan(message)
            if error is not None:
                log.info("scheduled message %s not sent: %s", message.id, error.reason)
                move_status(message, Status.FAILED, error.code, error.reason)
                continue
            verdict = quiet_verdict(message.conversation, now)
            if verdict.quiet:
                _wait_until(message, verdict.next_allowed, now)
                continue
            held = release_verdict(message, now)
            if held is not None and not held.allowed:
                if held.next_allowed is None:
                    error = GovernorHold(held)
                    move_status(message, Status.FAILED, error.code, error.reason)
                else:
                    _wait_until(message, held.next_allowed, now)
                continue
            if held is not None:
                Message.objects.filter(pk=message.pk).update(governed=True)
            released += move_status(message, Status.QUEUED)
    return released


def _wait_until(message: Message, then, now) -> None:
    """Keep a scheduled message for ``then``, and show consoles its new time."""
    moved = Message.objects.filter(pk=message.pk, status=Status.SCHEDULED).update(
        send_after=then, updated_at=now
    )
    if moved:
        publish_message_updated(message)


def over_plan(message: Message) -> ActionError | None:
    """Why the organisation's plan no longer takes this text (its limit of
    length or characters changed since it was scheduled), or None."""
    conversation = message.conversation
    body = compliance.undecorate(conversation, message.body)
    if not body:
        return None
    problem = check_limit(body, conversation.organisation.message_limit)
    return ActionError(problem, "too_long") if problem else None


def locked_scheduled(message: Message, agent: Agent) -> Message:
    """The message, locked, if it is still scheduled and the agent may text
    its lead now; ActionError otherwise."""
    locked = (
        Message.objects.select_related(
            "conversation__lead",
            "conversation__contact_number",
            "conversation__organisation",
            "conversation__sender",
            "author__user",
        )
        .select_for_update(of=("self",))
        .get(pk=message.pk)
    )
    if locked.direction != Message.Direction.OUTBOUND or locked.status != (
        Status.SCHEDULED
    ):
        state = locked.get_status_display().lower()
        raise ActionError(
            f"Only a scheduled text can be changed: this one is {state}.",
            "not_scheduled",
        )
    reason = access.why_cannot_text(agent, locked.conversation.lead)
    if reason:
        raise ActionError(reason, "forbidden")
    return locked


@transaction.atomic
def reschedule_message(
    agent: Agent,
    message: Message,
    *,
    body: str | None = None,
    send_at: datetime.datetime | None = None,
    cancel_on_reply: bool | None = None,
) -> Message:
    """Change a scheduled text before it goes: its words, its time, whether
    the lead's reply cancels it (None: unchanged). The same checks as a new
    text (rights, consent, the plan, the time outside quiet hours); the
    consoles get the message as it is now (``message.updated``). A change
    that changes nothing publishes nothing."""
    message = locked_scheduled(message, agent)
    conversation = message.conversation
    compliance.check_can_send(conversation, message.kind)
    changes: dict = {}
    if body is not None:
        # The text as the agent sees it in the thread may carry the intro
        # and footer already: they are added once.
        body = compliance.undecorate(conversation, body.strip()).strip()
        mms = message.encoding == "MMS"
        if not body and not mms:
            raise ActionError("Type a message first.", "empty")
        problem = check_limit(body, conversation.organisation.message_limit)
        if body and problem:
            raise ActionError(problem, "too_long")
        outgoing = compliance.decorate(conversation, body, but_for=message.id)
        if outgoing != message.body:
            encoding, segments = count_segments(outgoing, mms=mms)
            changes.update(body=outgoing, encoding=encoding, segments=segments)
    if send_at is not None and send_at != message.send_after:
        scheduling.check_send_at(conversation, send_at, message.kind)
        changes["send_after"] = send_at
    if cancel_on_reply is not None and cancel_on_reply != message.cancel_on_reply:
        changes["cancel_on_reply"] = cancel_on_reply
    if not changes:
        return message
    Message.objects.filter(pk=message.pk).update(**changes, updated_at=timezone.now())
    for name, value in changes.items():
        setattr(message, name, value)
    publish_message_updated(message)
    return message


@transaction.atomic
def cancel_scheduled(agent: Agent, message: Message) -> Message:
    """Cancel a scheduled text before it goes: it stays in the thread as
    cancelled, with who cancelled it (``message.status``). Cancelling one
    already cancelled changes nothing; one that went is refused."""
    current = Message.objects.filter(pk=message.pk).values_list("status", flat=True)
    if current.first() == Status.CANCELLED:
        return Message.objects.get(pk=message.pk)
    message = locked_scheduled(message, agent)
    move_status(message, Status.CANCELLED, CANCELLED_BY, f"Cancelled by {agent.name}.")
    return message


def cancelled_by_reply(conversation_id: int):
    """The conversation's scheduled texts a lead's text cancels."""
    return Message.objects.filter(
        conversation_id=conversation_id,
        status=Status.SCHEDULED,
        cancel_on_reply=True,
    )


def cancel_on_reply(inbound: Message) -> int:
    """The lead texted: cancel the conversation's scheduled texts that were
    to be cancelled then (``cancel_on_reply``), in the caller's transaction.
    Returns how many."""
    waiting = (
        cancelled_by_reply(inbound.conversation_id)
        .select_related("conversation__lead")
        .select_for_update(of=("self",))
        .order_by("id")
    )
    code, reason = LEAD_REPLIED
    return sum(
        move_status(message, Status.CANCELLED, code, reason) for message in waiting
    )

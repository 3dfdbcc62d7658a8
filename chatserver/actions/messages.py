"""Messages in and out: receiving, sending, delivery status and reading."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from carriers.base import DeliveryStatus, InboundMessage, StatusUpdate
from carriers.segments import check_limit, segment
from chatserver.queries import access
from chatserver import events
from chatserver.rules import keywords, images as media
from chatserver.actions.errors import ActionError, UnknownRecipient
from chatserver.publish import UNREAD_OF, emit, signal
from chatserver.rules.text import parse_client_id
from chatserver.models import (
    Agent,
    Conversation,
    Lead,
    Message,
    MessageCategory,
    ReadState,
    SenderNumber,
)

if TYPE_CHECKING:
    from chatserver.actions.attachments import Image

log = logging.getLogger(__name__)

Status = Message.Status

# How far along its way each status is. A status update moves a message only
# to a higher rank, so late or repeated callbacks never move it back.
STATUS_RANK = {
    Status.SCHEDULED: 0,
    Status.QUEUED: 1,
    Status.SENDING: 2,
    Status.CHECK: 3,
    Status.SENT: 4,
    Status.DELIVERED: 5,
    Status.UNDELIVERED: 5,
    Status.FAILED: 5,
}

CARRIER_STATUS = {
    DeliveryStatus.QUEUED: Status.QUEUED,
    DeliveryStatus.SENDING: Status.SENDING,
    DeliveryStatus.SENT: Status.SENT,
    DeliveryStatus.DELIVERED: Status.DELIVERED,
    DeliveryStatus.UNDELIVERED: Status.UNDELIVERED,
    DeliveryStatus.FAILED: Status.FAILED,
}


def publish_message_created(message: Message) -> None:
    """Tell everyone who may see the lead about a new message."""
    conversation = message.conversation
    lead = conversation.lead
    number = conversation.contact_number
    emit(
        message.organisation_id,
        events.MESSAGE_CREATED,
        {
            "lead": lead.id,
            "conversation": message.conversation_id,
            "message": events.message_data(message),
            # Enough to list a conversation the console has not seen yet.
            "summary": {
                "lead_name": lead.name,
                "contact_name": number.contact.name,
                "contact_number": number.number,
            },
        },
        events.groups_for_lead(lead),
        lead_id=lead.id,
        routing={
            "conversation": message.conversation_id,
            "direction": message.direction,
            "author": message.author_id,
            # A lead's message changes everyone's unread count: sockets get
            # each agent's new count with it (see publish.layer_message).
            **(
                {UNREAD_OF: message.conversation_id}
                if message.direction == Message.Direction.INBOUND
                else {}
            ),
        },
    )


def publish_message_status(message: Message) -> None:
    """Tell everyone who may see the lead that a message's status moved."""
    lead = message.conversation.lead
    emit(
        message.organisation_id,
        events.MESSAGE_STATUS,
        {
            "lead": lead.id,
            "conversation": message.conversation_id,
            "message": message.id,
            "status": message.status,
            "error_code": message.error_code,
            "error_reason": message.error_reason,
        },
        events.groups_for_lead(lead),
        lead_id=lead.id,
    )


def publish_message_updated(message: Message) -> None:
    """Tell everyone who may see the lead that a message changed (its images)."""
    message = Message.objects.select_related("conversation__lead", "author__user").get(
        pk=message.pk
    )
    lead = message.conversation.lead
    emit(
        message.organisation_id,
        events.MESSAGE_UPDATED,
        {
            "lead": lead.id,
            "conversation": message.conversation_id,
            "message": events.message_data(message),
        },
        events.groups_for_lead(lead),
        lead_id=lead.id,
    )


def touch(conversation: Conversation, when) -> None:
    """Record activity on a conversation and its lead (for sorting and routing)."""
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=when)
    Lead.objects.filter(pk=conversation.lead_id).update(last_activity_at=when)


def sender_for(inbound: InboundMessage) -> SenderNumber:
    """Our number a text was sent to, or UnknownRecipient.

    A number on one carrier takes texts from that carrier only: the
    simulator's webhook cannot put texts on a Twilio number's leads.
    """
    sender = (
        SenderNumber.objects.select_related("organisation", "agent")
        .filter(number=inbound.to_number, carrier=inbound.carrier)
        .first()
    )
    if sender is None:
        raise UnknownRecipient(
            f"{inbound.to_number} is not one of our {inbound.carrier} numbers"
        )
    return sender


def receive_inbound(inbound: InboundMessage) -> Message | None:
    """Store a text a lead sent us, once, and tell the agents who may see it.

    Returns None when the carrier redelivered a message we already have: the
    duplicate is acknowledged and changes nothing (the unique carrier message
    id refuses it, and its savepoint takes back all it did).
    """
    sender = sender_for(inbound)
    # All of it or nothing; but inside a caller's transaction (the webhook
    # view's, or the worker's savepoint per receipt) no savepoint of its own:
    # the caller's already takes back a failure, and each savepoint costs two
    # round trips that a lead's text waits behind.
    with transaction.atomic(savepoint=False):
        return store_inbound(sender, inbound)


def store_inbound(sender: SenderNumber, inbound: InboundMessage) -> Message | None:
    """``receive_inbound``'s work, in its transaction."""
    from chatserver.actions.leads import conversation_for_inbound

    encoding, segments = count_segments(inbound.body, mms=bool(inbound.media))
    try:
        # One savepoint for the lead it may create and the message: when the
        # same webhook arrives twice at once, the loser leaves no trace (no
        # empty lead, no event).
        with transaction.atomic():
            conversation = conversation_for_inbound(sender, inbound.from_number)
            message = Message.objects.create(
                organisation_id=sender.organisation_id,
                conversation=conversation,
                direction=Message.Direction.INBOUND,
                body=inbound.body,
                status=Status.RECEIVED,
                carrier=inbound.carrier,
                carrier_message_id=inbound.carrier_message_id,
                encoding=encoding,
                segments=segments,
                possible_optout=keywords.reads_like_optout(inbound.body),
            )
            if inbound.media:
                from chatserver.actions import attachments

                # Recorded now, fetched later, off the webhook's path.
                attachments.record_inbound(message, inbound)
    except IntegrityError:
        # The same webhook again (redelivered, or twice at once): stored before.
        return None
    touch(conversation, message.created_at)
    reopen_on_inbound(conversation)
    publish_message_created(message)

    from chatserver.actions import consent

    # After the message's own event, so consoles show the lead's STOP before
    # the consent change and the confirmation it caused.
    consent.on_inbound(message, inbound)
    return message


def count_segments(body: str, mms: bool = False) -> tuple[str, int]:
    """How a message is counted and billed: its SMS encoding and segments,
    or ("MMS", 1) for a message with images (one MMS, whatever its length)."""
    if mms:
        return media.MMS_ENCODING, 1
    info = segment(body)
    return info.encoding, max(info.segments, 1)


def reopen_on_inbound(conversation: Conversation) -> None:
    """A lead who writes again is worth a look: reopen what was closed."""
    if conversation.status == Conversation.Status.CLOSED:
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.OPEN
        )
        conversation.status = Conversation.Status.OPEN
    if conversation.lead.status == Lead.Status.CLOSED:
        from chatserver.actions.leads import reopen_lead

        # The reopened lead from now on: the text's events go to its audience.
        conversation.lead = reopen_lead(conversation.lead, agent=None)


def send_message(
    agent: Agent,
    conversation: Conversation,
    body: str,
    client_id: uuid.UUID | str | None = None,
    category_id: int | None = None,
    schedule: bool = False,
    images: Sequence[Image] = (),
) -> Message:
    """Queue an agent's text for sending, after every check.

    Sending again with the same ``client_id`` returns the first message: a
    retry from a flaky connection never texts the lead twice. Raises
    ActionError with a reason the agent understands when the text may not go.
    In the lead's quiet hours ``schedule`` stores it as scheduled for the next
    allowed time instead of refusing it. ``images`` make it an MMS (the text
    may then be empty).
    """
    client_id = parse_client_id(client_id)
    if client_id is not None:
        existing = Message.objects.filter(author=agent, client_id=client_id).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return _queue_agent_message(
                agent, conversation, body, client_id, category_id, schedule, images
            )
    except IntegrityError:
        existing = Message.objects.filter(author=agent, client_id=client_id).first()
        if existing is None:
            raise
        return existing


def _queue_agent_message(
    agent, conversation, body, client_id, category_id, schedule=False, images=()
):
    conversation = (
        Conversation.objects.select_related("lead", "sender", "contact_number")
        .select_for_update()
        .get(pk=conversation.pk)
    )
    lead = conversation.lead
    reason = access.why_cannot_text(agent, lead)
    if reason:
        raise ActionError(reason, "forbidden")
    body = body.strip() if isinstance(body, str) else ""
    if not body and not images:
        raise ActionError("Type a message first.", "empty")
    organisation = agent.organisation
    problem = check_limit(body, organisation.message_limit) if body else None
    if problem:
        raise ActionError(problem, "too_long")
    checked = []
    if images:
        from chatserver.actions import attachments

        reason = access.why_cannot_send_images(agent)
        if reason:
            raise ActionError(reason, "forbidden")
        checked = attachments.check_outbound(images)
    if category_id is not None and not MessageCategory.objects.filter(
        pk=category_id, organisation_id=conversation.organisation_id
    ).exists():
        raise ActionError("No such message category.", "not_found")

    from chatserver.actions import compliance

    compliance.check_can_send(conversation)
    outgoing = compliance.decorate(conversation, body)
    message = queue_message(
        conversation,
        outgoing,
        author=agent,
        client_id=client_id,
        category_id=category_id,
        send_after=compliance.scheduled_time(conversation, schedule=schedule),
        images=checked,
    )
    if lead.assignee_id is None:
        from chatserver.actions.leads import claim_lead

        # Refuses (and so rolls the message back) if a colleague replied first.
        claim_lead(lead, agent, reason="replied")
    # Replying means the agent has read what they answer.
    mark_read(agent, conversation, message.id)
    return message


def queue_message(
    conversation: Conversation,
    body: str,
    *,
    author: Agent | None = None,
    kind: str = Message.Kind.TEXT,
    client_id: uuid.UUID | None = None,
    category_id: int | None = None,
    send_after=None,
    images: list = (),
) -> Message:
    """Store an outbound message as queued (or scheduled) and tell the consoles.

    The outbox picks it up after commit; nothing is sent from here. ``images``
    (checked by ``attachments.check_outbound``) are stored with it: an MMS.
    """
    encoding, segments = count_segments(body, mms=bool(images))
    message = Message.objects.create(
        organisation_id=conversation.organisation_id,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        body=body,
        status=Status.SCHEDULED if send_after else Status.QUEUED,
        send_after=send_after,
        author=author,
        client_id=client_id,
        category_id=category_id,
        carrier=conversation.sender.carrier,
        encoding=encoding,
        segments=segments,
    )
    if images:
        from chatserver.actions import attachments

        attachments.store_outbound(message, images)
    touch(conversation, message.created_at)
    publish_message_created(message)

    from chatserver.worker import loop as outbox

    outbox.announce()
    return message


def move_status(
    message: Message,
    status: str,
    error_code: str = "",
    error_reason: str = "",
    carrier_message_id: str | None = None,
) -> bool:
    """Move an outbound message forward to ``status``; never backwards.

    Returns whether it moved. The update is conditional on the status the row
    has in the database, so two callbacks racing cannot both apply.
    """
    # Never back: a carrier's late "queued" (or "accepted", "scheduled")
    # arriving while the send is in flight must not put the text back in
    # line, where another sender would text the lead again.
    if STATUS_RANK[status] <= STATUS_RANK[message.status]:
        return False
    fields = {
        "status": status,
        "error_code": error_code[:16],
        "error_reason": error_reason[:300],
        "updated_at": timezone.now(),
    }
    if carrier_message_id is not None:
        fields["carrier_message_id"] = carrier_message_id
    moved = Message.objects.filter(pk=message.pk, status=message.status).update(
        **fields
    )
    if not moved:
        message.refresh_from_db()
        return False
    for name, value in fields.items():
        setattr(message, name, value)
    publish_message_status(message)
    return True


@transaction.atomic
def record_status(update: StatusUpdate) -> Message | None:
    """Apply a carrier's delivery receipt; unknown or stale ones change nothing."""
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
    )
    if moved and error is not None:
        from chatserver.actions import consent

        consent.on_carrier_error(message, error)
    return message


@transaction.atomic
def mark_read(agent: Agent, conversation: Conversation, message_id: int) -> bool:
    """Record that the agent has read the conversation up to ``message_id``, a
    message of that conversation (ActionError otherwise).

    Read state only moves forward. Returns whether it changed; every socket of
    the agent then gets the agent's new unread count of the conversation.
    """
    message_id = int(message_id)
    if not Message.objects.filter(pk=message_id, conversation=conversation).exists():
        raise ActionError("No such message in this conversation.", "not_found")
    state, _ = ReadState.objects.get_or_create(agent=agent, conversation=conversation)
    moved = ReadState.objects.filter(
        pk=state.pk, last_read_message_id__lt=message_id
    ).update(last_read_message_id=message_id, updated_at=timezone.now())
    if moved:
        signal(
            conversation.organisation_id,
            lambda: unread_signal(agent.id, conversation.id),
        )
    return bool(moved)


def unread_signal(agent_id: int, conversation_id: int):
    """The message that gives every socket of an agent their unread count of
    a conversation, computed now."""
    from chatserver.queries import console as state

    return [events.agent_group(agent_id)], {
        "type": "unread.conversation",
        "conversation": conversation_id,
        "count": state.conversation_unread_for(agent_id, conversation_id),
    }


def bump_attempts(message: Message) -> None:
    """Count one more try at sending."""
    Message.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1)

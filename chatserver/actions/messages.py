"""Messages: stored, published and moved along their way (forward only),
and read. The writes every path of a message shares: an agent's send
(``sending``), a lead's text (``inbound``), the outbox's (``delivery``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from carriers.base import DeliveryStatus
from carriers.segments import segment
from chatserver import doorbell, events
from chatserver.actions import attachments
from chatserver.actions.message_events import (
    publish_message_created,
    publish_message_status,
)
from chatserver.models import Agent, Conversation, Lead, Message, ReadState
from chatserver.models.prepared import statement_cursor
from chatserver.publish import signal
from chatserver.queries import unread
from chatserver.rules import images
from chatserver.rules.errors import ActionError

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
    Status.CANCELLED: 5,
}


CARRIER_STATUS = {
    DeliveryStatus.QUEUED: Status.QUEUED,
    DeliveryStatus.SENDING: Status.SENDING,
    DeliveryStatus.SENT: Status.SENT,
    DeliveryStatus.DELIVERED: Status.DELIVERED,
    DeliveryStatus.UNDELIVERED: Status.UNDELIVERED,
    DeliveryStatus.FAILED: Status.FAILED,
}


# Both of touch's UPDATEs in one round trip (PostgreSQL).
TOUCH_SQL = (
    "WITH c AS (UPDATE {conversation} SET last_message_at = %(when)s"
    " WHERE id = %(conversation)s)"
    " UPDATE {lead} SET last_activity_at = %(when)s WHERE id = %(lead)s"
).format(conversation=Conversation._meta.db_table, lead=Lead._meta.db_table)


def touch(conversation: Conversation, when) -> None:
    """Record activity on a conversation and its lead (for sorting and routing)."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with statement_cursor(connection.alias) as cursor:
            cursor.execute(
                TOUCH_SQL,
                {"when": when, "conversation": conversation.pk, "lead": conversation.lead_id},
            )
        return
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=when)
    Lead.objects.filter(pk=conversation.lead_id).update(last_activity_at=when)


def count_segments(body: str, mms: bool = False) -> tuple[str, int]:
    """How a message is counted and billed: its SMS encoding and segments,
    or ("MMS", 1) for a message with images (one MMS, whatever its length)."""
    if mms:
        return images.MMS_ENCODING, 1
    info = segment(body)
    return info.encoding, max(info.segments, 1)


def queue_message(
    conversation: Conversation,
    body: str,
    *,
    author: Agent | None = None,
    kind: str = Message.Kind.TEXT,
    client_id: uuid.UUID | None = None,
    category_id: int | None = None,
    send_after=None,
    checked_images: list = (),
    resend_of: Message | None = None,
    governed: bool = False,
    cancel_on_reply: bool = False,
    automation: str = "",
) -> Message:
    """Store an outbound message as queued (or scheduled) and tell the consoles.

    The outbox picks it up after commit; nothing is sent from here.
    ``checked_images`` (from ``attachments.check_outbound``) are stored with
    it: an MMS. ``resend_of``: the failed text it sends again. ``governed``:
    the send governor passed it (the caps count it). ``cancel_on_reply``: a
    scheduled one is cancelled if the lead texts first (an agent's text:
    ``actions.sending``; automatic steps stop by their workflow's rules).
    """
    encoding, segments = count_segments(body, mms=bool(checked_images))
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
        resend_of=resend_of,
        governed=governed,
        cancel_on_reply=bool(send_after) and cancel_on_reply,
        automation=automation,
    )
    if checked_images:
        attachments.store_outbound(message, checked_images)
    touch(conversation, message.created_at)
    publish_message_created(message)
    doorbell.announce()
    return message


def once_per_client_id(
    author: Agent, client_id: uuid.UUID | None, store: Callable[[], Message]
) -> Message:
    """What ``store()`` stores (in a transaction of its own), unless the author
    stored a message with this ``client_id`` already: that one. A retry from
    a flaky connection, or the same request twice at once, texts once."""
    if client_id is not None:
        existing = Message.objects.filter(author=author, client_id=client_id).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return store()
    except IntegrityError:
        # The same client_id twice at once: the other request was stored.
        existing = (
            Message.objects.filter(author=author, client_id=client_id).first()
            if client_id is not None
            else None
        )
        if existing is None:
            raise
        return existing


def move_status(
    message: Message,
    status: str,
    error_code: str = "",
    error_reason: str = "",
    carrier_message_id: str | None = None,
    arrived: float | None = None,
) -> bool:
    """Move an outbound message forward to ``status``; never backwards.
    ``arrived``: when the carrier's status callback reached us, if one moved it.

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
    publish_message_status(message, arrived=arrived)
    return True


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
    return [events.agent_group(agent_id)], {
        "type": "unread.conversation",
        "conversation": conversation_id,
        "count": unread.conversation_unread_for(agent_id, conversation_id),
    }

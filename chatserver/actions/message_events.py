"""What consoles are told when a message is stored, moves on, or changes."""

from __future__ import annotations

from chatserver import events, shapes
from chatserver.models import Message
from chatserver.publish import UNREAD_OF, emit


def publish_message_created(message: Message, arrived: float | None = None) -> None:
    """Tell everyone who may see the lead about a new message; ``arrived``:
    when the lead's text reached us (a Unix time), for the sockets to measure
    how long it took them (``chatserver.metrics.WEBHOOK_TO_SOCKET``)."""
    conversation = message.conversation
    lead = conversation.lead
    number = conversation.contact_number
    emit(
        message.organisation_id,
        events.MessageCreated(
            type=events.MESSAGE_CREATED,
            lead=lead.id,
            conversation=message.conversation_id,
            message=shapes.message_data(message),
            # Enough to list a conversation the console has not seen yet.
            summary={
                "lead_name": lead.name,
                # Whose the lead is: a console alerts its agent for their own
                # and unassigned leads' texts (static/console/js/alerts.js).
                "assignee": lead.assignee_id,
                "contact_name": number.contact.name,
                "contact_number": number.number,
                "contact_number_kind": number.kind,
            },
        ),
        events.groups_for_lead(lead),
        lead_id=lead.id,
        socket_fields={
            "conversation": message.conversation_id,
            "direction": message.direction,
            "author": message.author_id,
            **({"arrived": arrived} if arrived is not None else {}),
            # A lead's message changes everyone's unread count: sockets get
            # each agent's new count with it (see publish.layer_message).
            **(
                {UNREAD_OF: message.conversation_id}
                if message.direction == Message.Direction.INBOUND
                else {}
            ),
        },
    )


def publish_message_status(message: Message, arrived: float | None = None) -> None:
    """Tell everyone who may see the lead that a message's status moved;
    ``arrived`` as for ``publish_message_created`` (a status callback's)."""
    lead = message.conversation.lead
    emit(
        message.organisation_id,
        events.MessageStatus(
            type=events.MESSAGE_STATUS,
            lead=lead.id,
            conversation=message.conversation_id,
            message=message.id,
            status=message.status,
            error_code=message.error_code,
            error_reason=message.error_reason,
        ),
        events.groups_for_lead(lead),
        lead_id=lead.id,
        socket_fields={"arrived": arrived} if arrived is not None else None,
    )


def publish_message_updated(message: Message) -> None:
    """Tell everyone who may see the lead that a message changed (its images,
    its opt-out flag)."""
    message = Message.objects.select_related("conversation__lead", "author__user").get(
        pk=message.pk
    )
    lead = message.conversation.lead
    emit(
        message.organisation_id,
        events.MessageUpdated(
            type=events.MESSAGE_UPDATED,
            lead=lead.id,
            conversation=message.conversation_id,
            message=shapes.message_data(message),
        ),
        events.groups_for_lead(lead),
        lead_id=lead.id,
    )

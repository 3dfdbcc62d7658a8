"""What an agent's console is shown: initial state, unread counts and resume.

Read-only: everything here is computed from the database, the truth.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from chatserver import access, events
from chatserver.models import Agent, Conversation, Event, Lead, Message, ReadState

# A socket that was away longer than this, or missed more events, reloads its
# state instead of replaying events one by one.
RESUME_MAX_AGE = datetime.timedelta(hours=6)
RESUME_MAX_EVENTS = 500
OPEN_CONVERSATIONS_LIMIT = 200


def unread_counts(agent: Agent) -> events.UnreadCounts:
    """The agent's unread inbound messages per conversation, and their total.

    A message is unread for an agent when it came from a lead and is newer
    than what the agent has read in that conversation. Outbound messages
    (the agent's own, or a colleague's) never count.
    """
    last_read = ReadState.objects.filter(
        agent=agent, conversation=OuterRef("conversation")
    ).values("last_read_message_id")
    rows = (
        Message.objects.filter(
            conversation__in=access.visible_conversations(agent),
            direction=Message.Direction.INBOUND,
        )
        .annotate(read_up_to=Coalesce(Subquery(last_read), Value(0)))
        .filter(id__gt=F("read_up_to"))
        .values("conversation_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    conversations = {str(row["conversation_id"]): row["n"] for row in rows}
    return {"total": sum(conversations.values()), "conversations": conversations}


def latest_cursor(agent: Agent) -> int:
    """The id of the newest event of the agent's organisation (0 when none)."""
    last = (
        Event.objects.filter(organisation_id=agent.organisation_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0


def conversation_data(conversation: Conversation, last: Message | None) -> dict:
    """A conversation as listed in the console."""
    lead = conversation.lead
    return {
        "id": conversation.id,
        "lead": lead.id,
        "lead_name": lead.name,
        "lead_status": lead.status,
        "assignee": lead.assignee_id,
        "status": conversation.status,
        "contact_number": conversation.contact_number.number,
        "contact_name": conversation.contact_number.contact.name,
        "sender_number": conversation.sender.number,
        "last_message_at": (
            conversation.last_message_at.isoformat()
            if conversation.last_message_at
            else None
        ),
        "last_message": events.message_data(last) if last else None,
    }


def open_conversations(agent: Agent) -> list[dict]:
    """The agent's open conversations, most recent first, with their last message."""
    conversations = list(
        access.visible_conversations(agent)
        .filter(status=Conversation.Status.OPEN, lead__status=Lead.Status.OPEN)
        .select_related("lead", "contact_number__contact", "sender")
        .order_by("-last_message_at", "-id")[:OPEN_CONVERSATIONS_LIMIT]
    )
    last_ids = (
        Message.objects.filter(conversation__in=[c.id for c in conversations])
        .values("conversation_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    last_messages = {
        m.conversation_id: m
        for m in Message.objects.filter(id__in=list(last_ids)).select_related(
            "author__user", "conversation"
        )
    }
    return [conversation_data(c, last_messages.get(c.id)) for c in conversations]


def hello(agent: Agent) -> dict:
    """The state a console starts from. Its cursor is taken first, so any
    event after it reaches the socket live or on resume."""
    cursor = latest_cursor(agent)
    user = agent.user
    return {
        "type": "hello",
        "cursor": cursor,
        "agent": {
            "id": agent.id,
            "username": user.username,
            "name": agent.name,
            "access": agent.access,
            "external": agent.is_external,
            "admin": user.is_staff,
            "sms_allowed": access.sms_allowed(agent),
        },
        "organisation": {
            "id": agent.organisation_id,
            "name": agent.organisation.name,
            "message_limit": agent.organisation.message_limit,
        },
        "unread": unread_counts(agent),
        "conversations": open_conversations(agent),
    }


def missed_events(agent: Agent, cursor: int) -> list[dict] | None:
    """The events after ``cursor`` the agent may see, oldest first, as sent.

    None when the gap is too old or too large to replay: the console then
    reloads its state with a fresh ``hello``.
    """
    newer = Event.objects.filter(organisation_id=agent.organisation_id, id__gt=cursor)
    first = newer.order_by("id").only("created_at").first()
    if first is None:
        return []
    if cursor <= 0 or first.created_at < timezone.now() - RESUME_MAX_AGE:
        return None
    visible = access.visible_leads(agent).values("id")
    lost = newer.filter(type=events.LEAD_UPDATED, payload__change="assigned").exclude(
        lead_id__in=visible
    )
    if lost.exists():
        # A lead left the agent's view meanwhile: a fresh state says so simply.
        return None
    rows = list(
        newer.filter(lead_id__in=visible).order_by("id")[: RESUME_MAX_EVENTS + 1]
    )
    if len(rows) > RESUME_MAX_EVENTS:
        return None
    return [{"type": e.type, "cursor": e.id, **e.payload} for e in rows]

"""What an agent's console is shown: initial state, unread counts and resume.

Read-only: everything here is computed from the database, the truth.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from chatserver.queries import access, buckets
from chatserver import events
from chatserver.rules import images as media
from chatserver.actions import consent
from chatserver.models import Agent, Conversation, Event, Lead, Message, ReadState

# A socket that was away longer than this, or missed more events, reloads its
# state instead of replaying events one by one.
RESUME_MAX_AGE = datetime.timedelta(hours=6)
RESUME_MAX_EVENTS = 500
# ...and so does one whose gap holds more of the organisation's events than
# this, without looking through them for its own.
RESUME_MAX_SCAN = 5000
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


# Every agent's unread count of one conversation in one round trip: the
# count of an agent who never read it (agent NULL), then each reader's.
CONVERSATION_UNREAD_SQL = """
SELECT NULL, COUNT(*) FROM {message}
WHERE conversation_id = %(c)s AND direction = %(inbound)s
UNION ALL
SELECT r.agent_id, (
    SELECT COUNT(*) FROM {message} m
    WHERE m.conversation_id = r.conversation_id AND m.direction = %(inbound)s
    AND m.id > r.last_read_message_id
) FROM {readstate} r WHERE r.conversation_id = %(c)s
""".format(message=Message._meta.db_table, readstate=ReadState._meta.db_table)


def conversation_unread(conversation_id: int) -> dict:
    """Every agent's unread count of one conversation, as sockets receive it
    with a lead's message: ``{"default": n, "agents": {"<agent id>": n}}``.

    ``default`` is the count of an agent who never read the conversation (all
    of its inbound messages); ``agents`` lists those who did. It runs in
    every publish of a lead's text: one statement, not two.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            CONVERSATION_UNREAD_SQL,
            {"c": conversation_id, "inbound": Message.Direction.INBOUND.value},
        )
        rows = cursor.fetchall()
    default = next((n for agent_id, n in rows if agent_id is None), 0)
    return {
        "default": default,
        "agents": {str(agent_id): n for agent_id, n in rows if agent_id is not None},
    }


def conversation_unread_for(agent_id: int, conversation_id: int) -> int:
    """One agent's unread count of one conversation."""
    last_read = (
        ReadState.objects.filter(agent_id=agent_id, conversation_id=conversation_id)
        .values_list("last_read_message_id", flat=True)
        .first()
    ) or 0
    return Message.objects.filter(
        conversation_id=conversation_id,
        direction=Message.Direction.INBOUND,
        id__gt=last_read,
    ).count()


def latest_cursor(agent: Agent) -> int:
    """The cursor of the newest event of the agent's organisation (0 when none)."""
    last = Event.objects.filter(organisation_id=agent.organisation_id).aggregate(
        last=Max("cursor")
    )["last"]
    return last or 0


def conversation_summary(
    conversation: Conversation, last: Message | None, consent_state: str | None = None
) -> dict:
    """A conversation as consoles list it, in events and lists alike.

    ``consent`` is the number's consent state (the contact panel's dot);
    ``consent_notice`` says why the composer is disabled, None when it is not.
    ``consent_state`` saves the query when the caller looked it up in bulk.
    """
    lead = conversation.lead
    if consent_state is None:
        consent_state = consent.state_of(
            conversation.organisation_id, conversation.contact_number.number
        )
    return {
        "id": conversation.id,
        "lead": lead.id,
        "lead_name": lead.name,
        "lead_status": lead.status,
        "assignee": lead.assignee_id,
        "status": conversation.status,
        "contact": conversation.contact_number.contact_id,
        "contact_number": conversation.contact_number.number,
        "contact_name": conversation.contact_number.contact.name,
        "sender_number": conversation.sender.number,
        "last_message_at": (
            conversation.last_message_at.isoformat()
            if conversation.last_message_at
            else None
        ),
        "last_message": events.message_data(last) if last else None,
        "consent": consent_state,
        "consent_notice": consent.notice(consent_state),
    }


def conversation_summaries(conversations: list[Conversation]) -> list[dict]:
    """Many conversations (with their lead, number and sender loaded) as
    consoles list them: their last messages and consents in two queries."""
    if not conversations:
        return []
    last_ids = (
        Message.objects.filter(conversation__in=[c.id for c in conversations])
        .values("conversation_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    last_messages = {
        m.conversation_id: m
        for m in Message.objects.filter(id__in=list(last_ids))
        .select_related("author__user", "conversation")
        .prefetch_related("attachments")
    }
    consents = consent.states_of(
        conversations[0].organisation_id,
        {c.contact_number.number for c in conversations},
    )
    return [
        conversation_summary(
            c,
            last_messages.get(c.id),
            consents.get(c.contact_number.number, consent.State.NOT_AUTHORIZED),
        )
        for c in conversations
    ]


def open_conversations(agent: Agent) -> list[dict]:
    """The agent's open conversations, most recent first, with their last message."""
    return conversation_summaries(
        list(
            access.visible_conversations(agent)
            .filter(status=Conversation.Status.OPEN, lead__status=Lead.Status.OPEN)
            .select_related("lead", "contact_number__contact", "sender")
            .order_by("-last_message_at", "-id")[:OPEN_CONVERSATIONS_LIMIT]
        )
    )


def lead_conversations(lead: Lead) -> list[dict]:
    """A lead's conversations as consoles list them (an event that shows a
    lead to someone new carries them, as a fresh state would list them)."""
    return conversation_summaries(
        list(
            Conversation.objects.filter(lead=lead)
            .select_related("lead", "contact_number__contact", "sender")
            .order_by("-last_message_at", "-id")
        )
    )


def hello(agent: Agent) -> dict:
    """The state a console starts from.

    Its cursor is read first and the state after it, so the state includes
    every event up to the cursor (and perhaps a few after it, which the socket
    then also receives: applying an event twice changes nothing).
    """
    cursor = latest_cursor(agent)
    user = agent.user
    images = access.may_see_images(agent)
    conversations = open_conversations(agent)
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
            # Whether images are shown to them (else: "the lead sent an image"),
            # and whether they may attach some (their organisation has MMS on).
            "images": images,
            "may_send_images": agent.organisation.mms_enabled,
        },
        "organisation": {
            "id": agent.organisation_id,
            "name": agent.organisation.name,
            "message_limit": agent.organisation.message_limit,
        },
        "unread": unread_counts(agent),
        # How many leads the agent sees in each bucket (chatserver.queries.buckets).
        "buckets": buckets.counts(agent),
        "conversations": conversations if images else media.hide_images(conversations),
    }


@dataclass
class Replay:
    """What a resuming socket missed: ``events`` in cursor order, and the
    organisation's ``cursor`` when they were read (the socket has everything
    up to it once it has sent them)."""

    cursor: int
    events: list[Event]


def missed_events(agent: Agent, cursor: int) -> Replay | None:
    """The events after ``cursor`` that the agent's socket would have received
    live: those published to a group it is in, oldest first.

    None when they cannot be replayed and the console must reload its state
    instead: ``cursor`` is not one of the organisation's (a newer one than it
    has: another database), or the gap is older than RESUME_MAX_AGE, holds
    more than RESUME_MAX_EVENTS events for the agent (or RESUME_MAX_SCAN in
    all), or reaches back past events that were deleted.
    """
    latest = latest_cursor(agent)
    if cursor > latest or latest - cursor > RESUME_MAX_SCAN:
        return None
    if cursor == latest:
        return Replay(latest, [])
    gap = Event.objects.filter(
        organisation_id=agent.organisation_id, cursor__gt=cursor, cursor__lte=latest
    )
    first = gap.order_by("cursor").values("cursor", "created_at").first()
    if (
        first is None
        or first["cursor"] != cursor + 1
        or first["created_at"] < timezone.now() - RESUME_MAX_AGE
    ):
        return None
    mine = set(events.groups_for_agent(agent))
    rows = gap.values_list("id", "groups")
    ids = [pk for pk, groups in rows if mine.intersection(groups)]
    if len(ids) > RESUME_MAX_EVENTS:
        return None
    return Replay(latest, list(Event.objects.filter(id__in=ids).order_by("cursor")))

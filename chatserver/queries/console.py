"""What an agent's console starts from: its ``hello``, and conversations as
consoles list them.

Read-only: everything here is computed from the database, the truth.
"""

from __future__ import annotations

import time

from django.db.models import Max

from chatserver import shapes
from chatserver.models import Agent, Conversation, Lead, Message
from chatserver.queries import (
    access,
    buckets,
    consent,
    followups,
    replay,
    snapshot,
    unread,
)
from chatserver.rules import images

OPEN_CONVERSATIONS_LIMIT = 200


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
        # primary or secondary: which of the contact's numbers this is.
        "contact_number_kind": conversation.contact_number.kind,
        "contact_name": conversation.contact_number.contact.name,
        "sender_number": conversation.sender.number,
        "last_message_at": (
            conversation.last_message_at.isoformat()
            if conversation.last_message_at
            else None
        ),
        "last_message": shapes.message_data(last) if last else None,
        "consent": consent_state,
        "consent_notice": consent.notice(consent_state),
    }


def conversation_summaries(conversations: list[Conversation]) -> list[dict]:
    """Many conversations (with their lead, number and sender loaded) as
    consoles list them: their last messages (one query, the newest ids a
    subquery of it, and their images) and consents (one)."""
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
        for m in Message.objects.filter(id__in=last_ids)
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


def summary_of(conversation: Conversation) -> dict:
    """One conversation as consoles list it (an event about it carries it)."""
    return conversation_summaries([conversation])[0]


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


def build_snapshot(agent: Agent, cursor: int) -> snapshot.Snapshot:
    """What every agent with access All sees, read now (after ``cursor``)."""
    organisation = agent.organisation_id
    return snapshot.Snapshot(
        cursor=cursor,
        built=time.monotonic(),
        conversations=snapshot.Serialised(open_conversations(agent)),
        leads=snapshot.lead_tally(organisation),
        followups_pending=snapshot.followups_pending(organisation),
    )


def hello(agent: Agent) -> dict:
    """The state a console starts from.

    Its cursor is read first and the state after it, so the state includes
    every event up to the cursor (and perhaps a few after it, which the socket
    then also receives: applying an event twice changes nothing). What an
    agent with access All sees comes from a snapshot shared by the hellos
    that read the same cursor (``chatserver.queries.snapshot``).
    """
    cursor, settled = replay.cursor_state(agent.organisation_id)
    user = agent.user
    shows_images = access.may_see_images(agent)
    if snapshot.shares(agent):
        shared = snapshot.shared(agent, cursor, settled, build_snapshot)
        conversations = (
            shared.conversations
            if shows_images
            else shared.conversations_without_images
        )
        bucket_counts = shared.buckets(agent.id)
        outstanding = followups.outstanding(agent) if shared.followups_pending else []
    else:
        conversations = open_conversations(agent)
        if not shows_images:
            conversations = images.hide_images(conversations)
        bucket_counts = buckets.counts(agent)
        outstanding = followups.outstanding(agent)
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
            "images": shows_images,
            "may_send_images": agent.organisation.mms_enabled,
        },
        "organisation": {
            "id": agent.organisation_id,
            "name": agent.organisation.name,
            "message_limit": agent.organisation.message_limit,
        },
        "unread": unread.unread_counts(agent),
        # How many leads the agent sees in each bucket (chatserver.queries.buckets).
        "buckets": bucket_counts,
        # The agent's pending follow-ups (chatserver.queries.followups): the
        # console lists the due ones on its Outstanding list.
        "followups": outstanding,
        "conversations": conversations,
    }

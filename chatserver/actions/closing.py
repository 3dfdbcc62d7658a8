"""Closing and reopening leads and single conversations; a close counts as
an engagement closed for the lead's assignee (once per lead and agent a
month)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chatserver import events
from chatserver.actions import workflows
from chatserver.actions.lead_events import lead_state, locked, publish_lead, touch_lead
from chatserver.models import Agent, Conversation, Lead, LeadClosure
from chatserver.publish import emit
from chatserver.queries import console
from chatserver.rules.errors import ActionError


def record_closure(lead: Lead, closer: Agent | None, conversation=None) -> None:
    """Count an engagement closed for the lead's assignee (for whoever closed
    it when nobody has it; nobody's when the system did): once per lead (or
    conversation) per agent per month, however often it is closed again."""
    agent = lead.assignee if lead.assignee_id else closer
    if agent is None:
        return
    month_start = timezone.localtime().replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    closures = LeadClosure.objects.filter(
        lead=lead, conversation=conversation, agent=agent, created_at__gte=month_start
    )
    if not closures.exists():
        LeadClosure.objects.create(
            organisation_id=lead.organisation_id,
            lead=lead,
            conversation=conversation,
            agent=agent,
        )


@transaction.atomic
def close_lead(lead: Lead, agent: Agent | None) -> Lead:
    """Close a lead: an engagement closed, counted for its assignee."""
    lead = locked(lead)
    if lead.status == Lead.Status.CLOSED:
        return lead
    before = lead_state(lead)
    lead.status = Lead.Status.CLOSED
    lead.closed_at = timezone.now()
    lead.save(update_fields=["status", "closed_at"])
    touch_lead(lead)
    record_closure(lead, agent)
    workflows.stop_lead(lead, workflows.LEAD_CLOSED)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        before=before,
        change="closed",
        by=agent.id if agent else None,
    )
    return lead


@transaction.atomic
def reopen_lead(lead: Lead, agent: Agent | None) -> Lead:
    """Reopen a closed lead (a lead who texts again reopens it too)."""
    lead = locked(lead)
    if lead.status == Lead.Status.OPEN:
        return lead
    before = lead_state(lead)
    lead.status = Lead.Status.OPEN
    lead.closed_at = None
    lead.save(update_fields=["status", "closed_at"])
    touch_lead(lead)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        before=before,
        change="reopened",
        by=agent.id if agent else None,
    )
    return lead


def publish_conversation(conversation: Conversation, change: str, by) -> None:
    lead = conversation.lead
    emit(
        lead.organisation_id,
        events.ConversationUpdated(
            type=events.CONVERSATION_UPDATED,
            lead=lead.id,
            conversation=console.summary_of(conversation),
            change=change,
            by=by,
        ),
        events.groups_for_lead(lead),
        lead_id=lead.id,
        socket_fields={"conversation": conversation.id},
    )


@transaction.atomic
def set_conversation_status(
    conversation: Conversation, status: str, agent: Agent | None
) -> Conversation:
    """Close or reopen one conversation of a lead (the lead stays as it is);
    a close counts as an engagement closed for the lead's assignee."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("lead", "contact_number__contact", "sender")
        .get(pk=conversation.pk)
    )
    if status not in Conversation.Status.values:
        raise ActionError(f"Unknown status {status!r}.", "invalid")
    if conversation.status == status:
        return conversation
    conversation.status = status
    conversation.save(update_fields=["status"])
    if status == Conversation.Status.CLOSED:
        record_closure(conversation.lead, agent, conversation)
    publish_conversation(
        conversation,
        "closed" if status == Conversation.Status.CLOSED else "reopened",
        agent.id if agent else None,
    )
    return conversation


# -- creating leads, contacts and numbers ---------------------------------------

"""Leads: creation from inbound texts, assignment, closing and reopening."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from carriers.base import normalize_number
from chatserver import events, routing
from chatserver.actions.errors import ActionError
from chatserver.actions.publish import emit
from chatserver.models import (
    Agent,
    Contact,
    ContactNumber,
    Conversation,
    Lead,
    LeadClosure,
    SenderNumber,
)


def lead_data(lead: Lead) -> dict:
    """A lead as consoles see it in events."""
    return {
        "id": lead.id,
        "name": lead.name,
        "status": lead.status,
        "assignee": lead.assignee_id,
        "assignee_name": lead.assignee.name if lead.assignee_id else "",
        "source": lead.source,
        "last_activity_at": lead.last_activity_at.isoformat(),
    }


def publish_lead(lead: Lead, event_type: str, extra_groups=(), **fields) -> None:
    """Tell everyone who may see the lead (and ``extra_groups``) what changed."""
    emit(
        lead.organisation_id,
        event_type,
        {"lead": lead_data(lead), **fields},
        events.groups_for_lead(lead) | set(extra_groups),
        lead_id=lead.id,
        routing={"assignee": lead.assignee_id, "status": lead.status},
    )


def conversation_for_inbound(sender: SenderNumber, from_number: str) -> Conversation:
    """The conversation an inbound text goes to, creating what is missing.

    An unknown number becomes a new lead in Unassigned with source "sms".
    """
    picked = routing.pick_lead(sender, from_number)
    if picked is None:
        lead = Lead.objects.create(
            organisation_id=sender.organisation_id,
            name=pretty_number(from_number),
            source="sms",
        )
        contact = Contact.objects.create(organisation_id=sender.organisation_id)
        contact.leads.add(lead)
        number = ContactNumber.objects.create(
            organisation_id=sender.organisation_id,
            contact=contact,
            number=from_number,
        )
        conversation = Conversation.objects.create(
            organisation_id=sender.organisation_id,
            lead=lead,
            contact_number=number,
            sender=sender,
        )
        publish_lead(lead, events.LEAD_CREATED)
        return conversation
    lead, number = picked
    conversation, _ = Conversation.objects.select_related("lead").get_or_create(
        lead=lead,
        contact_number=number,
        sender=sender,
        defaults={"organisation_id": sender.organisation_id},
    )
    return conversation


def pretty_number(number: str) -> str:
    """A number as people write it, for a new lead's name."""
    import phonenumbers

    parsed = phonenumbers.parse(number)
    return phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


@transaction.atomic
def assign_lead(
    lead: Lead, agent: Agent | None, actor: Agent | None, reason: str = ""
) -> Lead:
    """Give the lead to ``agent`` (None: back to Unassigned), live for everyone.

    Those who could see the lead before and no longer can are told too, so a
    previous assignee's chatbox greys out at once.
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if agent is not None and (
        agent.organisation_id != lead.organisation_id or agent.is_external
    ):
        raise ActionError("Leads can only be assigned to agents of this team.")
    if lead.assignee_id == (agent.id if agent else None):
        return lead
    before = events.groups_for_lead(lead)
    previous = lead.assignee_id
    lead.assignee = agent
    lead.save(update_fields=["assignee"])
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        extra_groups=before,
        change="assigned",
        previous_assignee=previous,
        by=actor.id if actor else None,
        reason=reason,
    )
    return lead


@transaction.atomic
def close_lead(lead: Lead, agent: Agent | None) -> Lead:
    """Close a lead; an agent's close counts as an engagement closed."""
    if lead.status == Lead.Status.CLOSED:
        return lead
    lead.status = Lead.Status.CLOSED
    lead.closed_at = timezone.now()
    lead.save(update_fields=["status", "closed_at"])
    LeadClosure.objects.create(
        organisation_id=lead.organisation_id, lead=lead, agent=agent
    )
    publish_lead(lead, events.LEAD_UPDATED, change="closed", by=agent and agent.id)
    return lead


@transaction.atomic
def reopen_lead(lead: Lead, agent: Agent | None) -> Lead:
    """Reopen a closed lead."""
    if lead.status == Lead.Status.OPEN:
        return lead
    lead.status = Lead.Status.OPEN
    lead.closed_at = None
    lead.save(update_fields=["status", "closed_at"])
    publish_lead(lead, events.LEAD_UPDATED, change="reopened", by=agent and agent.id)
    return lead


@transaction.atomic
def create_lead(
    organisation_id: int,
    name: str,
    contact_first_name: str,
    contact_last_name: str,
    number: str,
    *,
    role: str = Contact.Role.BORROWER,
    assignee: Agent | None = None,
    source: str = "manual",
) -> Lead:
    """A lead with one contact and their primary number."""
    e164 = normalize_number(number)
    lead = Lead.objects.create(
        organisation_id=organisation_id, name=name, source=source, assignee=assignee
    )
    contact = Contact.objects.create(
        organisation_id=organisation_id,
        first_name=contact_first_name,
        last_name=contact_last_name,
        role=role,
    )
    contact.leads.add(lead)
    ContactNumber.objects.create(
        organisation_id=organisation_id, contact=contact, number=e164
    )
    publish_lead(lead, events.LEAD_CREATED)
    return lead


def conversation_with(lead: Lead, number: ContactNumber, sender: SenderNumber):
    """The conversation between a lead's contact number and a sender number."""
    conversation, _ = Conversation.objects.get_or_create(
        lead=lead,
        contact_number=number,
        sender=sender,
        defaults={"organisation_id": lead.organisation_id},
    )
    return conversation

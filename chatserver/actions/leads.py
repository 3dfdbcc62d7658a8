"""Leads and their contacts: created by agents (and texted in the same
step), contacts and numbers added, and the thread an agent texts a number
in."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from chatserver import events
from chatserver.actions.assignment import check_assignee, email_new_assignee
from chatserver.actions.lead_events import locked, publish_lead, touch_lead
from chatserver.actions.sending import send_message
from chatserver.models import (
    Agent,
    Contact,
    ContactNumber,
    Conversation,
    Lead,
    Message,
    SenderNumber,
)
from chatserver.queries import access, contacts, numbers
from chatserver.rules.errors import ActionError
from chatserver.rules.text import (
    clean_number,
    clean_text,
    parse_client_id,
    pretty_number,
)

MAX_NAME = 200


def clean_lead_number(number) -> str:
    """A lead's phone number in E.164 form, or ActionError: never one of our
    own sender numbers (texting it would text ourselves)."""
    e164 = clean_number(number)
    if SenderNumber.objects.filter(number=e164).exists():
        raise ActionError(
            f"{e164} is one of our own numbers: give the lead's own phone number.",
            "invalid",
        )
    return e164


def clean_role(role) -> str:
    if role in (None, ""):
        return Contact.Role.BORROWER
    if role not in Contact.Role.values:
        raise ActionError(
            f"Unknown role {role!r}: use one of {', '.join(Contact.Role.values)}.",
            "invalid",
        )
    return role


def clean_kind(kind) -> str:
    if kind in (None, ""):
        return ContactNumber.Kind.PRIMARY
    if kind not in ContactNumber.Kind.values:
        raise ActionError("A number is primary or secondary.", "invalid")
    return kind


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
    created_by: Agent | None = None,
    client_id: uuid.UUID | None = None,
    notify: bool = True,
) -> Lead:
    """A lead with one contact and their primary number, published live. Its
    assignee, if any, is emailed (``notify``) unless they created it."""
    e164 = clean_lead_number(number)
    first = clean_text(contact_first_name, "first name", 100)
    last = clean_text(contact_last_name, "last name", 100)
    name = clean_text(name, "lead name", MAX_NAME) or (
        f"{first} {last}".strip() or pretty_number(e164)
    )
    role = clean_role(role)
    lead = Lead(
        organisation_id=organisation_id,
        name=name,
        source=source,
        created_by=created_by,
        client_id=client_id,
    )
    check_assignee(lead, assignee)
    lead.assignee = assignee
    lead.save()
    contact = Contact.objects.create(
        organisation_id=organisation_id, first_name=first, last_name=last, role=role
    )
    contact.leads.add(lead)
    ContactNumber.objects.create(
        organisation_id=organisation_id, contact=contact, number=e164
    )
    publish_lead(lead, events.LEAD_CREATED)
    if (
        notify
        and assignee is not None
        and (created_by is None or created_by.id != assignee.id)
    ):
        transaction.on_commit(lambda: email_new_assignee(lead, assignee, created_by))
    return lead


UNSET = object()


def create_lead_for_agent(
    agent: Agent,
    *,
    name: str = "",
    first_name: str = "",
    last_name: str = "",
    number: str = "",
    role: str = Contact.Role.BORROWER,
    assignee=UNSET,
    body: str | None = None,
    client_id=None,
    category_id: int | None = None,
) -> tuple[Lead, Conversation, Message | None, ActionError | None]:
    """An agent creates a lead with a contact and number, and texts it in the
    same step when ``body`` is given.

    The lead lands in Unassigned unless ``assignee`` says otherwise, and
    texting it claims it (as any reply to an unassigned lead does); an agent
    who cannot see unassigned leads gets it, or they would lose it at once.
    The lead is kept when the text may not go (no consent yet, say): the
    refusal is returned beside it. The same ``client_id`` twice creates one
    lead and sends one text.
    """
    if agent.is_external:
        raise ActionError("External users cannot create leads.", "forbidden")
    client_id = parse_client_id(client_id)
    if body is not None and not isinstance(body, str):
        raise ActionError("The text must be text.", "invalid")
    lead = repeated(agent, client_id)
    if lead is None:
        if assignee is UNSET:
            # Unassigned, unless the creator could not see it there.
            assignee = None if access.sees_by_access(agent, None) else agent
        if numbers.sender_for(agent, agent.organisation_id) is None:
            raise ActionError(
                "This team has no number to text from yet: add one first.",
                "no_sender",
            )
        try:
            lead = create_lead(
                agent.organisation_id,
                name,
                first_name,
                last_name,
                number,
                role=role,
                assignee=assignee,
                created_by=agent,
                client_id=client_id,
            )
        except IntegrityError:  # the same request, twice at once
            lead = repeated(agent, client_id)
            if lead is None:
                raise
    sent = (
        Message.objects.filter(author=agent, client_id=client_id).first()
        if client_id is not None
        else None
    )
    conversation = (
        sent.conversation
        if sent is not None
        else open_conversation(agent, lead, contacts.lead_numbers(lead)[0])
    )
    message, refusal = None, None
    if body:
        # A repeat with the same client_id returns the text already sent, or
        # tries again the one that was refused (consent may have come since).
        try:
            message = send_message(
                agent, conversation, body, client_id, category_id=category_id
            )
        except ActionError as exc:
            refusal = exc
        lead.refresh_from_db()
    return lead, conversation, message, refusal


def repeated(agent: Agent, client_id) -> Lead | None:
    """The lead this agent already created with this client id, if any."""
    if client_id is None:
        return None
    return Lead.objects.filter(created_by=agent, client_id=client_id).first()


@transaction.atomic
def add_contact(
    agent: Agent | None,
    lead: Lead,
    *,
    first_name: str = "",
    last_name: str = "",
    role: str = Contact.Role.CO_BORROWER,
    number: str = "",
    kind: str = ContactNumber.Kind.PRIMARY,
) -> Contact:
    """Add a person (a co-borrower, a partner...) to a lead, with a number."""
    first = clean_text(first_name, "first name", 100)
    last = clean_text(last_name, "last name", 100)
    if not (first or last):
        raise ActionError("Enter the contact's name.", "invalid")
    role = clean_role(role)
    e164 = clean_lead_number(number) if number else None
    lead = locked(lead)
    contact = Contact.objects.create(
        organisation_id=lead.organisation_id,
        first_name=first,
        last_name=last,
        role=role,
    )
    contact.leads.add(lead)
    if e164:
        ContactNumber.objects.create(
            organisation_id=lead.organisation_id,
            contact=contact,
            number=e164,
            kind=clean_kind(kind),
        )
    touch_lead(lead)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        change="contacts",
        contact=contact.id,
        by=agent.id if agent else None,
    )
    return contact


@transaction.atomic
def add_contact_number(
    agent: Agent | None,
    lead: Lead,
    contact: Contact,
    number: str,
    kind: str = ContactNumber.Kind.SECONDARY,
) -> ContactNumber:
    """Add a number to a contact of the lead. A new primary number makes the
    contact's old primary a secondary one; a number the contact already has
    changes nothing but its kind."""
    e164 = clean_lead_number(number)
    kind = clean_kind(kind)
    lead = locked(lead)
    if not contact.leads.filter(pk=lead.pk).exists():
        raise ActionError("No such contact on this lead.", "not_found")
    if kind == ContactNumber.Kind.PRIMARY:
        contact.numbers.exclude(number=e164).filter(kind=kind).update(
            kind=ContactNumber.Kind.SECONDARY
        )
    entry, created = ContactNumber.objects.get_or_create(
        contact=contact,
        number=e164,
        defaults={"organisation_id": contact.organisation_id, "kind": kind},
    )
    if not created and entry.kind != kind:
        entry.kind = kind
        entry.save(update_fields=["kind"])
    touch_lead(lead)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        change="contacts",
        contact=contact.id,
        by=agent.id if agent else None,
    )
    return entry


def open_conversation(agent: Agent, lead: Lead, number: ContactNumber) -> Conversation:
    """The thread in which the agent texts this number of the lead: from their
    own sender number when they have one (the lead's replies come back to it),
    else from the team's; one thread per phone number, whichever contacts of
    the lead share it."""
    if number.organisation_id != lead.organisation_id:
        raise ActionError("No such number on this lead.", "not_found")
    number = numbers.lead_number(lead, number.number)
    if number is None:
        raise ActionError("No such number on this lead.", "not_found")
    sender = numbers.sender_for(agent, lead.organisation_id)
    if sender is None:
        raise ActionError(
            "This team has no number to text from yet: add one first.", "no_sender"
        )
    return conversation_with(lead, number, sender)


def conversation_with(lead: Lead, number: ContactNumber, sender: SenderNumber):
    """The conversation between a lead's contact number and a sender number."""
    conversation, _ = Conversation.objects.select_related(
        "lead", "sender", "contact_number__contact"
    ).get_or_create(
        lead=lead,
        contact_number=number,
        sender=sender,
        defaults={"organisation_id": lead.organisation_id},
    )
    return conversation

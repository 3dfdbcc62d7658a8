"""Leads created by agents (and texted in the same step; a number already on
a lead offers that lead rather than a second one), and the thread an agent
texts a number in. Contacts and their numbers: ``actions.contacts``."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from chatserver import events, shapes
from chatserver.actions.assignment import check_assignee, email_new_assignee
from chatserver.actions.contacts import clean_lead_number, clean_names, clean_role
from chatserver.actions.lead_events import publish_lead
from chatserver.actions import workflows
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
    clean_email,
    clean_text,
    parse_client_id,
    pretty_number,
)

MAX_NAME = 200
SOURCE_LENGTH = 32


def create_lead(
    organisation_id: int,
    name: str,
    contact_first_name: str,
    contact_last_name: str,
    number: str,
    *,
    role: str = Contact.Role.HOMEOWNER,
    assignee: Agent | None = None,
    source: str = "manual",
    email: str = "",
    created_by: Agent | None = None,
    client_id: uuid.UUID | None = None,
    notify: bool = True,
) -> Lead:
    """A lead with one contact and their primary number, published live. Its
    assignee, if any, is emailed (``notify``) unless they created it."""
    e164 = clean_lead_number(number, organisation_id)
    first, last = clean_names(contact_first_name, contact_last_name)
    name = clean_text(name, "lead name", MAX_NAME) or (
        f"{first} {last}".strip() or pretty_number(e164)
    )
    role = clean_role(role)
    email = clean_email(email)
    lead = Lead(
        organisation_id=organisation_id,
        name=name,
        source=clean_text(source, "source", SOURCE_LENGTH) or "manual",
        created_by=created_by,
        client_id=client_id,
    )
    check_assignee(lead, assignee)
    lead.assignee = assignee
    lead.save()
    contact = Contact.objects.create(
        organisation_id=organisation_id,
        first_name=first,
        last_name=last,
        role=role,
        email=email,
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


def check_not_a_duplicate(agent: Agent, number: str) -> None:
    """ActionError ``duplicate`` when the number is on a lead already: the
    leads the agent may see come in ``details`` (to open instead), and the
    refusal of one they may not see names nothing of it."""
    e164 = clean_lead_number(number, agent.organisation_id)
    leads = numbers.leads_with_number(agent.organisation_id, e164)
    if not leads.exists():
        return
    seen = list(
        leads.filter(access.lead_visibility(agent))
        .select_related("assignee__user")
        .order_by("-last_activity_at", "-id")[:5]
    )
    if not seen:
        raise ActionError(
            f"{pretty_number(e164)} is already on a lead you cannot see: ask an "
            "admin to share it with you rather than adding it twice.",
            "duplicate",
        )
    raise ActionError(
        f"{pretty_number(e164)} is already on {seen[0].name}"
        + (f" and {len(seen) - 1} more" if len(seen) > 1 else "")
        + ": open it, or create a new lead anyway.",
        "duplicate",
        {"leads": [{**shapes.lead_data(lead), "number": e164} for lead in seen]},
    )


def create_lead_for_agent(
    agent: Agent,
    *,
    name: str = "",
    first_name: str = "",
    last_name: str = "",
    number: str = "",
    role: str = Contact.Role.HOMEOWNER,
    email: str = "",
    source: str = "",
    assignee=UNSET,
    body: str | None = None,
    client_id=None,
    category_id: int | None = None,
    allow_duplicate: bool = True,
) -> tuple[Lead, Conversation, Message | None, ActionError | None]:
    """An agent creates a lead with a contact and number, and texts it in the
    same step when ``body`` is given.

    Without ``allow_duplicate``, a number already on a lead is refused
    (``check_not_a_duplicate``) so the agent can open that lead instead. The
    lead lands in Unassigned unless ``assignee`` says otherwise, and texting
    it claims it (as any reply to an unassigned lead does); an agent who
    cannot see unassigned leads gets it, or they would lose it at once. The
    lead is kept when the text may not go (no consent yet, say): the refusal
    is returned beside it. The same ``client_id`` twice creates one lead and
    sends one text.
    """
    if agent.is_external:
        raise ActionError("External users cannot create leads.", "forbidden")
    client_id = parse_client_id(client_id)
    if body is not None and not isinstance(body, str):
        raise ActionError("The text must be text.", "invalid")
    lead = repeated(agent, client_id)
    created = False
    if lead is None:
        if assignee is UNSET:
            # Unassigned, unless the creator could not see it there.
            assignee = None if access.sees_by_access(agent, None) else agent
        if numbers.sender_for(agent, agent.organisation_id) is None:
            raise ActionError(
                "This team has no number to text from yet: add one first.",
                "no_sender",
            )
        if not allow_duplicate:
            check_not_a_duplicate(agent, number)
        try:
            lead = create_lead(
                agent.organisation_id,
                name,
                first_name,
                last_name,
                number,
                role=role,
                email=email,
                source=source,
                assignee=assignee,
                created_by=agent,
                client_id=client_id,
            )
            created = True
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
    if created:
        # After the agent's own text, which opens the conversation.
        workflows.on_new_lead(lead, conversation, agent)
    return lead, conversation, message, refusal


def repeated(agent: Agent, client_id) -> Lead | None:
    """The lead this agent already created with this client id, if any."""
    if client_id is None:
        return None
    return Lead.objects.filter(created_by=agent, client_id=client_id).first()


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

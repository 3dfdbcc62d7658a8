"""Leads: creation, contacts and numbers, assignment, sharing, closing and
reopening (of leads and of conversations), each published live.

Every lead event carries the lead (``lead_data``) and its ``audience`` (who may
see it now). An event that changes who sees the lead also goes to those who
saw it before, so a previous assignee's chatbox greys out at once, and carries
their former state (``before``) so each socket can move its bucket counts.
"""

from __future__ import annotations

import logging
import uuid
import zlib

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from chatserver.queries import access, numbers as routing
from chatserver import events
from chatserver.actions.errors import ActionError
from chatserver.publish import emit
from chatserver.rules.text import clean_number, clean_text, parse_client_id
from chatserver.models import (
    Agent,
    Contact,
    ContactNumber,
    Conversation,
    Lead,
    LeadClosure,
    Message,
    SenderNumber,
)

log = logging.getLogger(__name__)

MAX_NAME = 200


# -- what consoles are told -----------------------------------------------------


def lead_data(lead: Lead) -> dict:
    """A lead as consoles see it in events and lists."""
    return {
        "id": lead.id,
        "name": lead.name,
        "status": lead.status,
        "assignee": lead.assignee_id,
        "assignee_name": lead.assignee.name if lead.assignee_id else "",
        "source": lead.source,
        "created_by": lead.created_by_id,
        "last_activity_at": lead.last_activity_at.isoformat(),
        "closed_at": lead.closed_at.isoformat() if lead.closed_at else None,
        "created_at": lead.created_at.isoformat(),
    }


def lead_state(lead: Lead, audience: events.Audience | None = None) -> dict:
    """What decides who sees a lead and in which bucket."""
    return {
        "assignee": lead.assignee_id,
        "status": lead.status,
        "audience": audience or events.audience_for_lead(lead),
    }


def publish_lead(
    lead: Lead,
    event_type: str,
    *,
    before: dict | None = None,
    extra_groups=(),
    **fields,
) -> None:
    """Tell everyone who may see the lead what changed; with ``before`` (its
    ``lead_state`` before the change) those who saw it then are told too."""
    now = lead_state(lead)
    groups = events.groups_for_audience(lead.organisation_id, now["audience"])
    if before is not None:
        groups |= events.groups_for_audience(lead.organisation_id, before["audience"])
    elif event_type != events.LEAD_CREATED:
        before = now  # nothing that decides who sees it changed
    from chatserver.queries import console as state

    emit(
        lead.organisation_id,
        event_type,
        {
            "lead": lead_data(lead),
            "audience": now["audience"],
            # As a fresh state lists them: a console the change shows the
            # lead to (assigned, shared, reopened) lists them at once.
            "conversations": state.lead_conversations(lead),
            **fields,
        },
        groups | set(extra_groups),
        lead_id=lead.id,
        routing={
            "assignee": lead.assignee_id,
            "status": lead.status,
            "state": now,
            "before": before,
        },
    )


def conversation_data(conversation: Conversation) -> dict:
    """A conversation as consoles list it (``state.conversation_summary``)."""
    from chatserver.queries import console as state

    return state.conversation_summary(conversation, last_message(conversation))


def last_message(conversation: Conversation) -> Message | None:
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author__user", "conversation")
        .order_by("-id")
        .first()
    )


def touch_lead(lead: Lead) -> None:
    """Record that the lead was updated (lists sort by it; routing prefers
    the lead updated most recently)."""
    lead.last_activity_at = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=lead.last_activity_at)


def locked(lead: Lead) -> Lead:
    """The lead re-read under a row lock, so concurrent changes apply in turn."""
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("assignee__user")
        .get(pk=lead.pk)
    )


# -- inbound --------------------------------------------------------------------


# PostgreSQL advisory locks serialising inbound routing per phone number live
# in this namespace (the first key).
ROUTING_LOCK_NAMESPACE = 0x524F5554


def lock_number(organisation_id: int, number: str) -> None:
    """Hold a lock on one phone number of an organisation until the
    transaction ends, so two first texts from a new number arriving at once
    make one lead, not two. (SQLite transactions already run one at a time.)"""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"{organisation_id}:{number}".encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [ROUTING_LOCK_NAMESPACE, key]
        )


def conversation_for_inbound(sender: SenderNumber, from_number: str) -> Conversation:
    """The conversation an inbound text goes to, creating what is missing.

    An unknown number becomes a new lead in Unassigned with source "sms".
    Call it inside a transaction.
    """
    # Two first texts from one new number at once must make one lead (and two
    # texts one thread): the second waits here and then finds the first's.
    lock_number(sender.organisation_id, from_number)
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
            organisation=sender.organisation,
            lead=lead,
            contact_number=number,
            sender=sender,
        )
        publish_lead(lead, events.LEAD_CREATED)
        return conversation
    lead, number = picked
    conversation, _ = Conversation.objects.select_related(
        "lead", "contact_number__contact"
    ).get_or_create(
        lead=lead,
        contact_number=number,
        sender=sender,
        defaults={"organisation_id": sender.organisation_id},
    )
    # Rows the caller already holds: what follows (events, consent) reads them.
    conversation.sender = sender
    conversation.organisation = sender.organisation
    return conversation


def pretty_number(number: str) -> str:
    """A number as people write it, for a new lead's name."""
    import phonenumbers

    parsed = phonenumbers.parse(number)
    return phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


# -- assignment and sharing -----------------------------------------------------


def check_assignee(lead: Lead, agent: Agent | None) -> None:
    """Refuse anyone but an active internal agent of the lead's organisation."""
    if agent is None:
        return
    if agent.organisation_id != lead.organisation_id:
        raise ActionError("No such agent.", "not_found")
    if agent.is_external:
        raise ActionError(
            "Leads can only be assigned to agents of this team, not to external "
            "users (share the lead with them instead)."
        )
    if not agent.user.is_active:
        raise ActionError(f"{agent.name} is deactivated: pick another agent.")


@transaction.atomic
def assign_lead(
    lead: Lead, agent: Agent | None, actor: Agent | None, reason: str = ""
) -> Lead:
    """Give the lead to ``agent`` (None: back to Unassigned), live for everyone.

    Those who could see the lead before and no longer can are told too, so a
    previous assignee's chatbox greys out at once. Assigning a lead to whom it
    already has changes nothing. The new assignee gets an email unless they
    took the lead themselves.
    """
    lead = locked(lead)
    check_assignee(lead, agent)
    if lead.assignee_id == (agent.id if agent else None):
        return lead
    before = lead_state(lead)
    previous = lead.assignee_id
    lead.assignee = agent
    lead.save(update_fields=["assignee"])
    touch_lead(lead)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        before=before,
        change="assigned",
        previous_assignee=previous,
        by=actor.id if actor else None,
        reason=reason,
    )
    if agent is not None and (actor is None or actor.id != agent.id):
        transaction.on_commit(lambda: email_new_assignee(lead, agent, actor))
    return lead


@transaction.atomic
def claim_lead(lead: Lead, agent: Agent, reason: str = "replied") -> Lead:
    """Give an unassigned lead to the agent answering it. ActionError when a
    colleague took it meanwhile (two agents replying at once: one gets it)."""
    current = locked(lead)
    if current.assignee_id not in (None, agent.id):
        raise ActionError(
            f"{current.assignee.name} took this lead a moment ago.", "forbidden"
        )
    return assign_lead(current, agent, actor=agent, reason=reason)


def email_new_assignee(lead: Lead, agent: Agent, actor: Agent | None) -> None:
    """Tell an agent by email that a lead is now theirs. A mail server that
    fails does not undo the assignment; it is logged."""
    address = agent.user.email
    if not address:
        return
    by = f" by {actor.name}" if actor else ""
    link = (
        f"{settings.PUBLIC_BASE_URL}/#lead={lead.id}"
        if settings.PUBLIC_BASE_URL
        else ""
    )
    body = (
        f"Hello {agent.user.first_name or agent.name},\n\n"
        f"The lead {lead.name} was assigned to you{by}.\n"
        + (f"Open it: {link}\n" if link else "Open the SMS console to answer it.\n")
    )
    try:
        send_mail(
            f"Lead assigned to you: {lead.name}",
            body,
            None,  # DEFAULT_FROM_EMAIL
            [address],
        )
    except Exception:  # the assignment stands; the mail server is not our truth
        log.exception("could not email %s about lead %s", address, lead.id)


@transaction.atomic
def share_lead(
    lead: Lead, agent: Agent, actor: Agent | None, share: bool = True
) -> Lead:
    """Share a lead read-only with an external user of the organisation (or,
    with ``share=False``, stop sharing it). Sharing twice changes nothing."""
    lead = locked(lead)
    if agent.organisation_id != lead.organisation_id:
        raise ActionError("No such agent.", "not_found")
    if not agent.is_external:
        raise ActionError(
            "Only external users are shared leads: assign it to agents of the team."
        )
    shared = lead.shared_with.filter(pk=agent.pk).exists()
    if shared == share:
        return lead
    before = lead_state(lead)
    if share:
        lead.shared_with.add(agent)
    else:
        lead.shared_with.remove(agent)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        before=before,
        change="shared" if share else "unshared",
        agent=agent.id,
        by=actor.id if actor else None,
    )
    return lead


# -- closing and reopening ------------------------------------------------------


def record_closure(lead: Lead, agent: Agent | None, conversation=None) -> None:
    """Count an engagement closed for the agent: once per lead (or
    conversation) per agent per month, however often it is closed again."""
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
    """Close a lead; an agent's close counts as an engagement closed."""
    lead = locked(lead)
    if lead.status == Lead.Status.CLOSED:
        return lead
    before = lead_state(lead)
    lead.status = Lead.Status.CLOSED
    lead.closed_at = timezone.now()
    lead.save(update_fields=["status", "closed_at"])
    touch_lead(lead)
    record_closure(lead, agent)
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
        events.CONVERSATION_UPDATED,
        {
            "lead": lead.id,
            "conversation": conversation_data(conversation),
            "change": change,
            "by": by,
        },
        events.groups_for_lead(lead),
        lead_id=lead.id,
        routing={"conversation": conversation.id},
    )


@transaction.atomic
def set_conversation_status(
    conversation: Conversation, status: str, agent: Agent | None
) -> Conversation:
    """Close or reopen one conversation of a lead (the lead stays as it is);
    an agent's close counts as an engagement closed."""
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
        if routing.sender_for(agent, agent.organisation_id) is None:
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
        else open_conversation(agent, lead, lead_numbers(lead)[0])
    )
    message, refusal = None, None
    if body:
        from chatserver.actions.messages import send_message

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


def lead_numbers(lead: Lead) -> list[ContactNumber]:
    """The lead's contact numbers, primary ones first."""
    return list(
        ContactNumber.objects.filter(contact__leads=lead)
        .select_related("contact")
        .order_by("kind", "id")
    )


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
    number = routing.lead_number(lead, number.number)
    if number is None:
        raise ActionError("No such number on this lead.", "not_found")
    sender = routing.sender_for(agent, lead.organisation_id)
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

"""A lead's contacts: added, named and edited, and numbers added to them.

Numbers agents type are read in their organisation's region (``(503)
555-0112``, ``503.555.0112`` and ``+1 503 555 0112`` are one number) and
refused, with the reason, when a text could not reach them.
"""

from __future__ import annotations

from django.db import transaction

from chatserver import events
from chatserver.actions.lead_events import locked, publish_lead, touch_lead
from chatserver.models import Agent, Contact, ContactNumber, Lead, SenderNumber
from chatserver.queries.numbers import region_of
from chatserver.rules.errors import ActionError
from chatserver.rules.text import (
    clean_email,
    clean_mobile_number,
    clean_text,
    pretty_number,
)

NAME_LENGTH = 100


def clean_lead_number(number, organisation_id: int) -> str:
    """A lead's phone number, typed any common way, in E.164 form, or
    ActionError: never one of our own sender numbers (texting it would text
    ourselves), never a landline."""
    e164 = clean_mobile_number(number, region_of(organisation_id))
    if SenderNumber.objects.filter(number=e164).exists():
        raise ActionError(
            f"{pretty_number(e164)} is one of our own numbers: give the lead's "
            "own phone number.",
            "invalid",
        )
    return e164


def clean_role(role, default: str = Contact.Role.HOMEOWNER) -> str:
    """A contact's role; the words stored before the roofing ones still read
    (``Contact.OLD_ROLES``)."""
    if role in (None, ""):
        return default
    role = Contact.OLD_ROLES.get(role, role)
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


def clean_names(first_name, last_name) -> tuple[str, str]:
    return (
        clean_text(first_name, "first name", NAME_LENGTH),
        clean_text(last_name, "last name", NAME_LENGTH),
    )


def published(lead: Lead, agent: Agent | None, contact: Contact) -> None:
    """Tell the lead's audience its contacts changed."""
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        change="contacts",
        contact=contact.id,
        by=agent.id if agent else None,
    )


@transaction.atomic
def add_contact(
    agent: Agent | None,
    lead: Lead,
    *,
    first_name: str = "",
    last_name: str = "",
    role: str = Contact.Role.SPOUSE,
    number: str = "",
    kind: str = ContactNumber.Kind.PRIMARY,
    email: str = "",
) -> Contact:
    """Add a person (a spouse, an insurance adjuster...) to a lead, with a
    number and an email when given."""
    first, last = clean_names(first_name, last_name)
    if not (first or last):
        raise ActionError("Enter the contact's name.", "invalid")
    role = clean_role(role, Contact.Role.SPOUSE)
    email = clean_email(email)
    e164 = clean_lead_number(number, lead.organisation_id) if number else None
    lead = locked(lead)
    contact = Contact.objects.create(
        organisation_id=lead.organisation_id,
        first_name=first,
        last_name=last,
        role=role,
        email=email,
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
    published(lead, agent, contact)
    return contact


@transaction.atomic
def update_contact(
    agent: Agent | None,
    lead: Lead,
    contact: Contact,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    role: str | None = None,
    email: str | None = None,
) -> Contact:
    """Change a contact's name, role or email (None: left as it is). Naming
    the contact of a lead still called by its number (one that texted in)
    names the lead too."""
    lead = locked(lead)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if not contact.leads.filter(pk=lead.pk).exists():
        raise ActionError("No such contact on this lead.", "not_found")
    first, last = clean_names(
        contact.first_name if first_name is None else first_name,
        contact.last_name if last_name is None else last_name,
    )
    if not (first or last):
        raise ActionError("Enter the contact's name.", "invalid")
    was_named = bool(contact.first_name or contact.last_name)
    contact.first_name, contact.last_name = first, last
    if role is not None:
        contact.role = clean_role(role, contact.role)
    if email is not None:
        contact.email = clean_email(email)
    contact.save(update_fields=["first_name", "last_name", "role", "email"])
    numbered = {pretty_number(n.number) for n in contact.numbers.all()}
    if not was_named and lead.name in numbered:
        lead.name = f"{first} {last}".strip()
        lead.save(update_fields=["name"])
    published(lead, agent, contact)
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
    e164 = clean_lead_number(number, lead.organisation_id)
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
    published(lead, agent, contact)
    return entry

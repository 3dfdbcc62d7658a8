"""A lead's contacts and numbers, as consoles show them."""

from __future__ import annotations

from chatserver.models import Contact, ContactNumber, Conversation, Lead
from chatserver.queries import consent


def primary_contact(lead: Lead | None) -> Contact | None:
    """The lead's homeowner (or first contact): the one a template greets."""
    if lead is None:
        return None
    contacts = sorted(
        lead.contacts.all(), key=lambda c: (c.role != Contact.Role.HOMEOWNER, c.id)
    )
    return contacts[0] if contacts else None


def lead_numbers(lead: Lead) -> list[ContactNumber]:
    """The lead's contact numbers, primary ones first."""
    return list(
        ContactNumber.objects.filter(contact__leads=lead)
        .select_related("contact")
        .order_by("kind", "id")
    )


def contact_data(contact: Contact) -> dict:
    """A contact and their numbers, primary first."""
    numbers = sorted(contact.numbers.all(), key=lambda n: (n.kind, n.id))
    return {
        "id": contact.id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "name": contact.name,
        "role": contact.role,
        "email": contact.email,
        "numbers": [{"id": n.id, "number": n.number, "kind": n.kind} for n in numbers],
    }


def contacts_data(conversation: Conversation) -> list[dict]:
    """The lead's contacts (as ``contact_data`` gives them), homeowner
    first, each number with its consent state and the conversation the agent
    would open for it (one on this conversation's sender number preferred)."""
    lead = conversation.lead
    contacts = sorted(
        lead.contacts.prefetch_related("numbers"),
        key=lambda c: (c.role != Contact.Role.HOMEOWNER, c.id),
    )
    numbers = [n.number for c in contacts for n in c.numbers.all()]
    consents = consent.states_of(lead.organisation_id, set(numbers))
    # Per number: its most recent conversation, one on our sender preferred.
    threads: dict[int, tuple[int, bool]] = {}
    rows = Conversation.objects.filter(lead=lead).order_by("-last_message_at", "-id")
    for number_id, conversation_id, sender_id in rows.values_list(
        "contact_number_id", "id", "sender_id"
    ):
        ours = sender_id == conversation.sender_id
        if number_id not in threads or (ours and not threads[number_id][1]):
            threads[number_id] = (conversation_id, ours)
    threads[conversation.contact_number_id] = (conversation.id, True)
    result = []
    for contact in contacts:
        data = contact_data(contact)
        data["role_label"] = contact.get_role_display()
        for number in data["numbers"]:
            number["consent"] = consents.get(
                number["number"], consent.State.NOT_AUTHORIZED
            )
            number["conversation"] = threads.get(number["id"], (None, False))[0]
        result.append(data)
    return result

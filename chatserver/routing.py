"""Which lead an inbound text belongs to: the routing rules, in one place.

See docs/operations.md ("Inbound routing") for the rules as users see them.
"""

from __future__ import annotations

from chatserver.models import ContactNumber, Lead, SenderNumber


def pick_lead(sender: SenderNumber, from_number: str) -> tuple[Lead, ContactNumber] | None:
    """The lead and contact number an inbound text from ``from_number`` goes to.

    Deterministic: among the leads of the sender's organisation that have this
    number, a sender number owned by an agent prefers that agent's leads; then
    an external partner's number wins over a borrower's; then the lead with the
    most recent activity; ties go to the newest lead. None when the number is
    unknown.
    """
    numbers = list(
        ContactNumber.objects.filter(
            organisation_id=sender.organisation_id, number=from_number
        ).select_related("contact")
    )
    if not numbers:
        return None
    candidates = []
    for number in numbers:
        for lead in number.contact.leads.all():
            candidates.append((lead, number))
    if not candidates:
        return None

    def rank(item):
        lead, number = item
        owned = sender.agent_id is not None and lead.assignee_id == sender.agent_id
        partner = number.contact.role == "partner"
        return (owned, partner, lead.last_activity_at, lead.id)

    return max(candidates, key=rank)

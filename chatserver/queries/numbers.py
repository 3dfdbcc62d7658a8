"""Which lead an inbound text belongs to, and which number an agent texts
from: the routing rules, in one place.

See docs/operations.md ("Inbound routing") for the rules as users see them.
"""

from __future__ import annotations

from django.db.models import F

from chatserver.models.prepared import Prepared
from chatserver.models import (
    Agent,
    Contact,
    ContactNumber,
    Conversation,
    Lead,
    Organisation,
    SenderNumber,
)

# Whose number a thread hangs on when several contacts of one lead share it:
# an external partner's or an adjuster's first (as across leads), then the
# homeowner's, then the spouse's, then anyone else's.
ROLE_ORDER = {
    Contact.Role.PARTNER: 0,
    Contact.Role.ADJUSTER: 0,
    Contact.Role.HOMEOWNER: 1,
    Contact.Role.SPOUSE: 2,
    Contact.Role.OTHER: 3,
}


# Every inbound text runs these two: compiled once (``Prepared``).
_NUMBERS_WITH_LEADS = Prepared(
    # One row per (contact number, lead of its contact), with what ranks the lead.
    lambda organisation_id, number: ContactNumber.objects.filter(
        organisation_id=organisation_id,
        number=number,
        contact__leads__organisation_id=organisation_id,
    )
    .select_related("contact")
    .annotate(
        via_lead=F("contact__leads"),
        lead_assignee=F("contact__leads__assignee_id"),
        lead_activity=F("contact__leads__last_activity_at"),
    ),
    int,
    ContactNumber._meta.get_field("number"),
)
# A lead's threads with a phone number (on any of its contacts' numbers).
_THREADS_ON_NUMBER = Prepared(
    lambda lead_id, number: Conversation.objects.filter(
        lead_id=lead_id, contact_number__number=number
    ).select_related("lead", "contact_number__contact"),
    int,
    ContactNumber._meta.get_field("number"),
)


def pick_lead(
    sender: SenderNumber, from_number: str, before: tuple[str, list] | None = None
) -> tuple[int, ContactNumber, Conversation | None] | None:
    """The lead (its id) and contact number an inbound text from
    ``from_number`` goes to, with the thread it joins when there is one
    (its lead and contact loaded), else None for that thread.

    Deterministic, among the leads of the sender's organisation on which a
    contact has this number:

    1. a sender number owned by an agent prefers that agent's leads;
    2. then leads where the number is an external partner's or an insurance
       adjuster's (people who work on many leads) win over leads where it is
       a homeowner's (or anyone else's);
    3. then the lead updated most recently (``last_activity_at``);
    4. then the newest lead.

    On that lead the text joins the thread it already has with this number
    on this sender number, so a homeowner and spouse sharing a number
    get one thread, not two. None when no lead has the number.

    Two queries, as every text runs this: the numbers with what ranks their
    leads, then the chosen lead's threads with them. ``before``: a statement
    to run first, in the same round trip (the caller's lock on the number).
    """
    organisation_id = sender.organisation_id
    rows = _NUMBERS_WITH_LEADS(organisation_id, from_number, before=before)
    on_lead: dict[int, list[ContactNumber]] = {}
    for number in rows:
        on_lead.setdefault(number.via_lead, []).append(number)
    if not on_lead:
        return None

    def rank(lead_id: int):
        numbers = on_lead[lead_id]
        first = numbers[0]
        owned = sender.agent_id is not None and first.lead_assignee == sender.agent_id
        partner = any(n.contact.role in Contact.ACROSS_LEADS for n in numbers)
        return (owned, partner, first.lead_activity, lead_id)

    lead_id = max(on_lead, key=rank)
    candidates = on_lead[lead_id]
    threads = _THREADS_ON_NUMBER(lead_id, from_number)
    number = thread_number(
        candidates, [(t.contact_number_id, t.sender_id) for t in threads], sender
    )
    thread = next(
        (
            t
            for t in threads
            if t.contact_number_id == number.id and t.sender_id == sender.id
        ),
        None,
    )
    return lead_id, number, thread


def thread_number(
    candidates: list[ContactNumber],
    threads: list[tuple[int, int]],
    sender: SenderNumber | None,
) -> ContactNumber:
    """Which of a lead's contact numbers (all the same phone number) a thread
    uses: the one that already has a thread with this sender number, else the
    one that has any thread, else by role (``ROLE_ORDER``), then the oldest.
    ``threads``: the lead's threads on these numbers, as (contact number,
    sender number) ids."""
    with_sender = {n for n, s in threads if sender is not None and s == sender.id}
    with_any = {n for n, _ in threads}

    def order(number: ContactNumber):
        return (
            number.id not in with_sender,
            number.id not in with_any,
            ROLE_ORDER.get(number.contact.role, len(ROLE_ORDER)),
            number.id,
        )

    return min(candidates, key=order)


def lead_number(lead: Lead, number: str) -> ContactNumber | None:
    """The contact number of this lead a text to ``number`` goes to (one per
    phone number, whichever contacts share it), or None."""
    candidates = list(
        ContactNumber.objects.filter(
            organisation_id=lead.organisation_id,
            number=number,
            contact__leads=lead,
        ).select_related("contact")
    )
    if not candidates:
        return None
    threads = Conversation.objects.filter(
        lead=lead, contact_number__in=candidates
    ).values_list("contact_number_id", "sender_id")
    return thread_number(candidates, list(threads), None)


def region_of(organisation_id: int) -> str:
    """Where the organisation's agents' numbers are read ("US" by default)."""
    region = (
        Organisation.objects.filter(pk=organisation_id)
        .values_list("region", flat=True)
        .first()
    )
    return region or "US"


def leads_with_number(organisation_id: int, number: str):
    """The organisation's leads on which a contact has this number."""
    return Lead.objects.filter(
        organisation_id=organisation_id,
        id__in=ContactNumber.objects.filter(
            organisation_id=organisation_id, number=number
        ).values("contact__leads"),
    )


def sender_for(agent: Agent | None, organisation_id: int) -> SenderNumber | None:
    """The number an agent's new threads go from: their own number when they
    have one (leads texted from it reply to it), else the organisation's
    shared number (the oldest one no agent owns). None when there is none."""
    numbers = SenderNumber.objects.filter(organisation_id=organisation_id)
    own = (
        numbers.filter(agent=agent).order_by("id").first()
        if agent is not None
        else None
    )
    return own or numbers.filter(agent__isnull=True).order_by("id").first()

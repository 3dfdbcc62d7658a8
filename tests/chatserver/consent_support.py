"""Helpers shared by the consent and quiet-hours tests."""

from __future__ import annotations

import uuid

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.actions.consent import state_of
from chatserver.models import (
    ConsentChange,
    Contact,
    ContactNumber,
    Conversation,
    Event,
    Lead,
    Message,
    SenderNumber,
)


def inbound(sender: SenderNumber, number: str, body: str, **fields) -> Message | None:
    """A lead's text arriving from ``number``, as a carrier delivers it."""
    return actions.receive_inbound(
        InboundMessage(
            carrier=fields.pop("carrier", sender.carrier),
            carrier_message_id=fields.pop("sid", f"SM{uuid.uuid4().hex}"),
            from_number=number,
            to_number=sender.number,
            body=body,
            **fields,
        )
    )


def state(org, number: str) -> str:
    return state_of(org.id, number)


def audit(org, number: str) -> list[ConsentChange]:
    return list(ConsentChange.objects.filter(organisation=org, number=number))


def outbound(number: str, **filters) -> list[Message]:
    """Every text stored for sending to ``number``, oldest first."""
    return list(
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            conversation__contact_number__number=number,
            **filters,
        ).order_by("id")
    )


def auto_replies(number: str) -> list[Message]:
    return outbound(number, kind=Message.Kind.AUTO_REPLY)


def consent_events(org, number: str | None = None) -> list[dict]:
    """The ``consent.changed`` events stored (and published), as consoles get them."""
    rows = Event.objects.filter(organisation=org, type="consent.changed").order_by("id")
    found = [{"type": e.type, "cursor": e.id, **e.payload} for e in rows]
    return [e for e in found if number is None or e["number"] == number]


def manual_lead(org, sender, number: str, name="Dana Whitfield", **kw) -> Conversation:
    """A lead an agent entered (so the number has given no consent yet), and
    its conversation with our sender number."""
    lead = actions.create_lead(
        org.id, name, name.split()[0], name.split()[-1], number, **kw
    )
    contact_number = ContactNumber.objects.get(contact__leads=lead, number=number)
    return actions.conversation_with(lead, contact_number, sender)


def add_partner(org, number: str, leads: list[Lead]) -> Contact:
    """An external partner (a realtor, say) attached to several leads."""
    partner = Contact.objects.create(
        organisation=org,
        first_name="Pat",
        last_name="Realtor",
        role=Contact.Role.PARTNER,
    )
    partner.leads.add(*leads)
    ContactNumber.objects.create(organisation=org, contact=partner, number=number)
    return partner

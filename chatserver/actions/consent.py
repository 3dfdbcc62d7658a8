"""Consent: the record of whether an organisation may text a number.

Every change is written to the audit log (ConsentChange) and published live as
``consent.changed`` to everyone who may see a lead with that number.
"""

from __future__ import annotations

from carriers.base import CarrierError, ErrorKind, InboundMessage
from chatserver import events
from chatserver.actions.publish import emit
from chatserver.models import (
    Agent,
    Consent,
    ConsentChange,
    Lead,
    Message,
)

State = Consent.State


def state_of(organisation_id: int, number: str) -> str:
    """The consent state of a number for an organisation."""
    consent = Consent.objects.filter(
        organisation_id=organisation_id, number=number
    ).first()
    return consent.state if consent else State.NOT_AUTHORIZED


def set_state(
    organisation_id: int,
    number: str,
    new_state: str,
    reason: str,
    *,
    agent: Agent | None = None,
    message: Message | None = None,
) -> bool:
    """Move a number to ``new_state``, audited and published. Returns whether
    it changed."""
    consent, _ = Consent.objects.select_for_update().get_or_create(
        organisation_id=organisation_id, number=number
    )
    old_state = consent.state
    if old_state == new_state:
        return False
    consent.state = new_state
    consent.save(update_fields=["state", "updated_at"])
    ConsentChange.objects.create(
        organisation_id=organisation_id,
        number=number,
        old_state=old_state,
        new_state=new_state,
        agent=agent,
        reason=reason,
        message=message,
    )
    leads = Lead.objects.filter(
        organisation_id=organisation_id, contacts__numbers__number=number
    ).distinct()
    for lead in leads:
        emit(
            organisation_id,
            events.CONSENT_CHANGED,
            {
                "lead": lead.id,
                "number": number,
                "state": new_state,
                "reason": reason,
            },
            events.groups_for_lead(lead),
            lead_id=lead.id,
        )
    return True


def on_inbound(message: Message, inbound: InboundMessage) -> None:
    """Consent consequences of a text a lead sent."""
    conversation = message.conversation
    organisation = conversation.lead.organisation
    number = inbound.from_number
    if (
        organisation.texted_first_authorizes
        and state_of(organisation.id, number) == State.NOT_AUTHORIZED
    ):
        set_state(
            organisation.id, number, State.AUTHORIZED, "lead texted first",
            message=message,
        )


def on_carrier_error(message: Message, error: CarrierError) -> None:
    """A carrier saying the recipient opted out revokes consent."""
    if error.kind == ErrorKind.OPTED_OUT:
        set_state(
            message.organisation_id,
            message.conversation.contact_number.number,
            State.REVOKED,
            f"carrier error {error.code}: recipient opted out",
            message=message,
        )

"""Consent as it stands: whether an organisation may text a number, and
what each state means to an agent."""

from __future__ import annotations

from chatserver.models import Consent, Organisation
from chatserver.models.prepared import Prepared
from chatserver.rules.text import pretty_number

State = Consent.State

# What the composer says when the state forbids texting (also the reason a
# refused send gives).
NOTICES = {
    State.NOT_AUTHORIZED: "This number has not authorized texts: "
    "send an authorization request first.",
    State.PENDING: "Waiting for the lead to authorize texts (reply YES).",
    State.REVOKED: "This number has opted out: it cannot be texted unless the lead "
    "texts START.",
}


def notice(state: str) -> str | None:
    """Why the composer is disabled in this state, or None when it is not."""
    return NOTICES.get(state)


def render(text: str, organisation: Organisation, sender_number: str = "") -> str:
    """An organisation's configured text with ``{org}`` (its name) and
    ``{contact}`` (how to reach it: its ``help_contact``, else the number the
    lead texted, ``sender_number``) filled in.

    Plain replacement, not ``str.format``: an admin's stray brace must not
    break sending.
    """
    contact = organisation.help_contact.strip() or (
        pretty_number(sender_number) if sender_number else ""
    )
    text = text.replace("{org}", organisation.name).replace("{contact}", contact)
    return text.strip()


def state_of(organisation_id: int, number: str) -> str:
    """The consent state of a number for an organisation."""
    found = _STATE(organisation_id, number)
    return found[0][0] if found else State.NOT_AUTHORIZED


def _state_query(organisation_id, number):
    consents = Consent.objects.filter(organisation_id=organisation_id, number=number)
    # As ``first()`` reads it.
    consents = consents if consents.ordered else consents.order_by("pk")
    return consents.values_list("state")[:1]


# Every inbound text may read it: compiled once (``Prepared``).
_STATE = Prepared(_state_query, int, Consent._meta.get_field("number"))


def states_of(organisation_id: int, numbers) -> dict[str, str]:
    """The consent states of many numbers at once (absent ones are not listed)."""
    return dict(
        Consent.objects.filter(
            organisation_id=organisation_id, number__in=list(numbers)
        ).values_list("number", "state")
    )

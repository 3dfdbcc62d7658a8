"""The rules every outbound text must pass: consent, quiet hours, first contact."""

from __future__ import annotations

from chatserver.actions.consent import State, state_of
from chatserver.actions.errors import ActionError
from chatserver.models import Conversation, Message

CONSENT_REFUSALS = {
    State.NOT_AUTHORIZED: "This number has not authorized texts: "
    "send an authorization request first.",
    State.PENDING: "Waiting for the lead to authorize texts (reply YES).",
    State.REVOKED: "This number has opted out (STOP): it cannot be texted.",
}


def check_can_send(conversation: Conversation) -> None:
    """Raise ActionError unless the conversation's number may be texted now."""
    number = conversation.contact_number.number
    state = state_of(conversation.organisation_id, number)
    if state != State.AUTHORIZED:
        raise ActionError(CONSENT_REFUSALS[state], f"consent_{state}")


def is_first_contact(conversation: Conversation) -> bool:
    """Whether the organisation has never texted this number before."""
    return not Message.objects.filter(
        organisation_id=conversation.organisation_id,
        conversation__contact_number__number=conversation.contact_number.number,
        direction=Message.Direction.OUTBOUND,
    ).exists()


def decorate(conversation: Conversation, body: str) -> str:
    """The text as sent: the intro on first contact, the footer when set."""
    organisation = conversation.lead.organisation
    if organisation.intro_text and is_first_contact(conversation):
        body = f"{organisation.intro_text.format(org=organisation.name)}\n{body}"
    if organisation.optout_footer:
        body = f"{body}\n{organisation.optout_footer}"
    return body


def scheduled_time(conversation: Conversation):
    """When the text may go: None for now."""
    return None


def release_scheduled() -> int:
    """Queue scheduled messages whose time has come; returns how many."""
    return 0

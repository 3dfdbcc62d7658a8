"""Opt-outs an agent records: a lead's text confirmed as one (or dismissed),
and a lead who asked by phone.

Each takes effect at once through ``chatserver.actions.consent.set_state``
(which fails every text still waiting to go to the number, live in every
console) and sends the one confirmation the FCC allows (24-24: one text,
within five minutes, that only confirms the opt-out) when the number has
just opted out; a number already opted out changes nothing and is texted
nothing.

A phone opt-out is confirmed by text too: the rule allows one confirmation
whatever way the opt-out came, and it gives the lead a written record of it
(and the way back, START). It is recorded as a consent change with its
source (``phone``), the agent and their note.
"""

from __future__ import annotations

from django.db import transaction

from chatserver.actions.consent import (
    clear_optout_flag,
    confirm_optout_by_text,
    set_state,
)
from chatserver.models import Agent, ConsentChange, Conversation, Message
from chatserver.queries import access
from chatserver.queries.consent import State, state_of
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_text

# The longest note an agent leaves on a phone opt-out.
NOTE_LENGTH = 500


@transaction.atomic
def opt_out_by_phone(agent: Agent, conversation: Conversation, note="") -> bool:
    """The lead asked by phone to get no more texts: the conversation's
    number opts out now, recorded with the agent and ``note``. Returns
    whether it changed (a number already opted out: nothing happens).

    Any internal agent who may see the lead may record it (an agent without
    texting rights may still take the lead's call).
    """
    note = clean_text(note, "note", NOTE_LENGTH)
    conversation = (
        Conversation.objects.select_related(
            "lead", "sender", "contact_number__contact", "organisation"
        )
        .select_for_update(of=("self",))
        .get(pk=conversation.pk)
    )
    reason = access.may_change_lead(agent, conversation.lead)
    if reason:
        raise ActionError(reason, "forbidden")
    changed = set_state(
        conversation.organisation_id,
        conversation.contact_number.number,
        State.REVOKED,
        f"lead asked by phone (recorded by {agent.name})",
        agent=agent,
        source=ConsentChange.Source.PHONE,
        note=note,
    )
    if changed:
        confirm_optout_by_text(conversation)
    return changed


def check_still_flagged(message: Message) -> None:
    """ActionError (``stale``) unless the message still waits for an agent's
    decision: a console may show a flag another agent, or the lead's own
    START, has resolved since."""
    if Message.objects.filter(pk=message.pk, possible_optout=True).exists():
        return
    current = state_of(
        message.organisation_id, message.conversation.contact_number.number
    )
    if current == State.REVOKED:
        reason = "This number has already opted out: nothing more to do."
    else:
        reason = (
            "This message no longer waits for an opt-out decision: it was "
            "dismissed, or the lead's consent changed since (it is "
            f"{State(current).label.lower()} now). Nothing was changed."
        )
    raise ActionError(reason, "stale")


def find_flagged(agent: Agent, message: Message) -> Message:
    """The lead's message, re-read, if the agent may act on its lead."""
    message = (
        Message.objects.select_related(
            "conversation__lead", "conversation__contact_number", "organisation"
        )
        .filter(pk=message.pk, organisation_id=agent.organisation_id)
        .first()
    )
    if message is None or not access.can_see_lead(agent, message.conversation.lead):
        raise ActionError("No such message.", "not_found")
    if agent.is_external:
        raise ActionError("This lead is shared with you read-only.", "forbidden")
    return message


@transaction.atomic
def dismiss_optout(agent: Agent, message: Message) -> None:
    """An agent decides a flagged message is no request to stop texting:
    the flag goes, in every console. Consent stays as it is."""
    message = find_flagged(agent, message)
    check_still_flagged(message)
    clear_optout_flag(message)


@transaction.atomic
def confirm_optout(agent: Agent, message: Message) -> bool:
    """An agent confirms that a lead's message revokes consent (one click on a
    possible opt-out). Returns whether the state changed.

    The lead gets the opt-out confirmation even when the carrier answers
    keywords itself: this message was no keyword, so the carrier said nothing.
    """
    message = find_flagged(agent, message)
    if message.direction != Message.Direction.INBOUND:
        raise ActionError(
            "Only a message from the lead can be confirmed as an opt-out.", "invalid"
        )
    check_still_flagged(message)
    changed = set_state(
        message.organisation_id,
        message.conversation.contact_number.number,
        State.REVOKED,
        f"opt-out confirmed by {agent.name}",
        agent=agent,
        message=message,
        source=ConsentChange.Source.CONFIRMED,
    )
    if changed:
        # This message was no keyword, so the carrier said nothing: we confirm.
        confirm_optout_by_text(message.conversation)
    return changed

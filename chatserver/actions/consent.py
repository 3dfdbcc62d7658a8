"""Consent: the record of whether an organisation may text a number.

Consent belongs to an organisation and a phone number, not to a lead: a
partner who authorized once is authorized on every lead they are on. Every
change is written to the audit log (ConsentChange: who or what, why, and the
message that caused it) and published live as ``consent.changed`` to everyone
who may see a lead with that number.

The automatic replies a keyword earns (the opt-out and opt-in confirmations,
the HELP text) are the only texts that go to a number whatever its consent:
they are queued here, as kind ``auto_reply``, and never pass the consent check
or quiet hours (``chatserver.queries.compliance``).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from carriers.base import CarrierError, ErrorKind, InboundMessage
from chatserver import events
from chatserver.actions import governing, workflows
from chatserver.actions.assignment import assign_lead
from chatserver.actions.message_events import publish_message_updated
from chatserver.actions.messages import (
    move_status,
    once_per_client_id,
    queue_message,
)
from chatserver.models import Agent, Consent, ConsentChange, Conversation, Lead, Message
from chatserver.publish import emit
from chatserver.queries import access, compliance
from chatserver.queries.consent import notice, render, state_of
from chatserver.rules import keywords
from chatserver.rules.errors import ActionError
from chatserver.rules.keywords import Keyword
from chatserver.rules.text import parse_client_id

State = Consent.State

# An authorization request still waiting for its answer is not sent again
# before this: asking twice a day is pestering.
REQUEST_AGAIN_AFTER = datetime.timedelta(hours=24)

OPTED_OUT_CODE = "opted_out"
OPTED_OUT_REASON = "The lead opted out before this was sent: it was not sent."


@transaction.atomic
def set_state(
    organisation_id: int,
    number: str,
    new_state: str,
    reason: str,
    *,
    agent: Agent | None = None,
    message: Message | None = None,
    source: str = "",
    note: str = "",
) -> bool:
    """Move a number to ``new_state``, audited and published. Returns whether
    it changed (the same state again changes and records nothing).

    A revocation also fails every text still waiting to go to the number, so
    nothing queued or scheduled before the opt-out reaches the lead.
    """
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
        reason=reason[:200],
        message=message,
        source=source,
        note=note,
    )
    leads = Lead.objects.filter(
        organisation_id=organisation_id, contacts__numbers__number=number
    ).distinct()
    for lead in leads:
        emit(
            organisation_id,
            events.ConsentChanged(
                type=events.CONSENT_CHANGED,
                lead=lead.id,
                number=number,
                state=new_state,
                previous=old_state,
                reason=reason,
                by=agent.id if agent else None,
                message=message.id if message else None,
                notice=notice(new_state),
            ),
            events.groups_for_lead(lead),
            lead_id=lead.id,
        )
    if new_state == State.REVOKED:
        fail_waiting_sends(organisation_id, number)
        workflows.stop_number(organisation_id, number, workflows.LEAD_OPTED_OUT)
    # Any later word on consent answers the question a flagged message asked.
    resolve_optout_flags(organisation_id, number)
    return True


def resolve_optout_flags(organisation_id: int, number: str) -> int:
    """Clear the possible opt-out flag of every message from the number: its
    consent was just decided (confirmed, or overtaken by START, YES or an
    authorization), so no console offers "Confirm opt-out" on them any more."""
    flagged = list(
        Message.objects.filter(
            organisation_id=organisation_id,
            conversation__contact_number__number=number,
            direction=Message.Direction.INBOUND,
            possible_optout=True,
        )
    )
    for message in flagged:
        clear_optout_flag(message)
    return len(flagged)


def clear_optout_flag(message: Message) -> bool:
    """Unflag one message and tell the consoles (``message.updated``);
    whether it was still flagged (two agents clicking at once: one does)."""
    cleared = Message.objects.filter(pk=message.pk, possible_optout=True).update(
        possible_optout=False
    )
    if cleared:
        message.possible_optout = False
        publish_message_updated(message)
    return bool(cleared)


def fail_waiting_sends(organisation_id: int, number: str) -> int:
    """Fail every text still waiting to go to a number that opted out:
    queued or scheduled, of every kind (an agent's, a scheduled one, an
    authorization request, an automatic reply queued before the opt-out).
    Each failure is published (``message.status``), so consoles see it live.
    The opt-out's own confirmation is queued after this runs."""
    waiting = (
        Message.objects.select_related("conversation__lead")
        .filter(
            organisation_id=organisation_id,
            conversation__contact_number__number=number,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SCHEDULED, Message.Status.QUEUED],
        )
        .order_by("id")
    )
    return sum(
        move_status(message, Message.Status.FAILED, OPTED_OUT_CODE, OPTED_OUT_REASON)
        for message in waiting
    )


def send_auto_reply(
    conversation: Conversation,
    text: str,
    automation: str = Message.Automation.CONSENT,
) -> Message | None:
    """Queue an automatic reply (a keyword's confirmation or the HELP text).

    Exempt from consent and quiet hours: it answers the lead's own message.
    Nothing is sent when the organisation left the text empty.
    """
    body = render(text, conversation.organisation, conversation.sender.number)
    if not body:
        return None
    return queue_message(
        conversation, body, kind=Message.Kind.AUTO_REPLY, automation=automation
    )


def confirm_optout_by_text(conversation: Conversation) -> Message | None:
    """The one confirmation of an opt-out (FCC 24-24: one text, within five
    minutes, that only confirms it). Call it only when ``set_state`` says the
    number has just moved to Revoked: a second STOP, or a phone opt-out after
    a STOP, changes nothing and so confirms nothing."""
    return send_auto_reply(
        conversation,
        conversation.organisation.optout_confirmation_text,
        Message.Automation.OPTOUT_CONFIRMATION,
    )


def on_inbound(message: Message, inbound: InboundMessage) -> None:
    """Consent consequences of a text a lead sent: keywords, or texting first.

    A keyword the carrier says it acted on (Twilio's OptOutType) counts
    whatever the text; the carrier has then answered it, so we do not. A
    sender number whose carrier answers keywords itself gets no reply from us
    either: the lead hears one confirmation, never two.
    """
    # receive_inbound's conversation, with the rows read here already loaded.
    conversation = message.conversation
    organisation = conversation.organisation
    number = conversation.contact_number.number
    from_carrier = keywords.carrier_keyword(inbound.carrier_keyword)
    keyword = from_carrier or keywords.keyword_of(inbound.body)
    if keyword is None:
        if (
            organisation.texted_first_authorizes
            and not message.possible_optout
            and state_of(organisation.id, number) == State.NOT_AUTHORIZED
        ):
            set_state(
                organisation.id,
                number,
                State.AUTHORIZED,
                "lead texted first",
                message=message,
                source=ConsentChange.Source.TEXTED_FIRST,
            )
        return
    if from_carrier:
        reason = f"carrier reported {inbound.carrier_keyword.strip().upper()}"
        source = ConsentChange.Source.CARRIER
    else:
        reason = f"lead texted {keywords.keyword_word(inbound.body)}"
        source = ConsentChange.Source.KEYWORD
    carrier_answers = bool(from_carrier) or conversation.sender.carrier_confirms_optout
    if keyword == Keyword.OPT_OUT:
        changed = set_state(
            organisation.id,
            number,
            State.REVOKED,
            reason,
            message=message,
            source=source,
        )
        if changed and not carrier_answers:
            confirm_optout_by_text(conversation)
    elif keyword == Keyword.OPT_IN:
        before = state_of(organisation.id, number)
        changed = set_state(
            organisation.id,
            number,
            State.AUTHORIZED,
            reason,
            message=message,
            source=source,
        )
        if changed and not carrier_answers:
            # Only a number that had opted out is "subscribed again"; a first
            # YES (to an authorization request, say) is welcomed.
            again = before == State.REVOKED
            send_auto_reply(
                conversation,
                organisation.optin_confirmation_text
                if again
                else organisation.welcome_text,
            )
    elif keyword == Keyword.HELP and not carrier_answers:
        send_auto_reply(conversation, organisation.help_text)


def on_carrier_error(message: Message, error: CarrierError) -> None:
    """A carrier saying the recipient opted out (Twilio 21610) revokes consent."""
    if error.kind == ErrorKind.OPTED_OUT:
        set_state(
            message.organisation_id,
            message.conversation.contact_number.number,
            State.REVOKED,
            f"carrier error {error.code}: recipient opted out"
            if error.code
            else "carrier: recipient opted out",
            message=message,
            source=ConsentChange.Source.CARRIER,
        )


def request_authorization(
    agent: Agent,
    conversation: Conversation,
    *,
    client_id=None,
    schedule: bool = False,
) -> Message:
    """Send the organisation's authorization request to a number that has not
    authorized texts; the number becomes Pending until the lead answers.

    The agent needs what texting the lead needs (SMS permission, the lead
    theirs or unassigned, which claims it). Quiet hours apply; with
    ``schedule`` a request made in them goes at the next allowed time.
    Repeating a ``client_id`` returns the first request.
    """
    client_id = parse_client_id(client_id)
    return once_per_client_id(
        agent,
        client_id,
        lambda: _request_authorization(agent, conversation, client_id, schedule),
    )


def _request_authorization(agent, conversation, client_id, schedule) -> Message:
    conversation = (
        Conversation.objects.select_related(
            "lead", "sender", "contact_number", "organisation"
        )
        .select_for_update()
        .get(pk=conversation.pk)
    )
    lead = conversation.lead
    reason = access.why_cannot_text(agent, lead)
    if reason:
        raise ActionError(reason, "forbidden")
    number = conversation.contact_number.number
    compliance.check_can_send(conversation, Message.Kind.AUTHORIZATION_REQUEST)
    if state_of(conversation.organisation_id, number) == State.PENDING and (
        recent_request(conversation.organisation_id, number)
    ):
        raise ActionError(
            "An authorization request went to this number less than a day ago: "
            "wait for the lead's answer.",
            "already_pending",
        )
    when = governing.timing(
        conversation, Message.Kind.AUTHORIZATION_REQUEST, schedule=schedule
    )
    organisation = conversation.organisation
    body = render(
        organisation.authorization_request_text,
        organisation,
        conversation.sender.number,
    )
    if not body:
        raise ActionError(
            "This organisation has no authorization request text: an admin sets it.",
            "not_configured",
        )
    message = queue_message(
        conversation,
        body,
        author=agent,
        kind=Message.Kind.AUTHORIZATION_REQUEST,
        client_id=client_id,
        send_after=when.send_after,
        governed=when.governed,
    )
    set_state(
        organisation.id,
        number,
        State.PENDING,
        "authorization requested",
        agent=agent,
        message=message,
        source=ConsentChange.Source.REQUEST,
    )
    if lead.assignee_id is None:
        assign_lead(lead, agent, actor=agent, reason="requested authorization")
    return message


def recent_request(organisation_id: int, number: str) -> bool:
    """Whether an authorization request to the number is on its way or
    arrived within ``REQUEST_AGAIN_AFTER`` (a failed one does not count)."""
    return (
        Message.objects.filter(
            organisation_id=organisation_id,
            conversation__contact_number__number=number,
            kind=Message.Kind.AUTHORIZATION_REQUEST,
            created_at__gte=timezone.now() - REQUEST_AGAIN_AFTER,
        )
        .exclude(status__in=[Message.Status.FAILED, Message.Status.UNDELIVERED])
        .exists()
    )

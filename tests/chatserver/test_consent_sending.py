"""Sending under consent: refusals that store and send nothing, the
authorization request, partners, first contact and the footer, live events."""

import datetime

import pytest
import time_machine

from chatserver import actions
from chatserver.actions import delivery as sending
from chatserver.queries.consent import NOTICES
from chatserver.models import Consent, Message
from chatserver.queries import console as console_state
from tests.chatserver.consent_support import (
    add_partner,
    audit,
    auto_replies,
    consent_events,
    inbound,
    manual_lead,
    outbound,
    state,
)
from tests.conftest import fictional_number

pytestmark = pytest.mark.django_db

State = Consent.State


@pytest.fixture
def fresh(org, sender):
    """A lead an agent entered: its number has authorized nothing yet."""
    return manual_lead(org, sender, fictional_number())


def set_consent(org, number, new_state):
    Consent.objects.update_or_create(
        organisation=org, number=number, defaults={"state": new_state}
    )


@pytest.mark.parametrize(
    "refused_state", [State.NOT_AUTHORIZED, State.PENDING, State.REVOKED]
)
def test_a_send_to_a_number_that_is_not_authorized_stores_and_sends_nothing(
    org, alice, fresh, refused_state
):
    number = fresh.contact_number.number
    if refused_state != State.NOT_AUTHORIZED:
        set_consent(org, number, refused_state)
    with pytest.raises(actions.ActionError) as refused:
        actions.send_message(alice, fresh, "Hi Dana, your quote is ready")
    assert refused.value.code == f"consent_{refused_state}"
    assert refused.value.reason == NOTICES[refused_state]
    assert outbound(number) == []
    assert sending.due_message_ids() == []  # the outbox has nothing to send
    fresh.lead.refresh_from_db()
    assert fresh.lead.assignee is None  # a refused send claims nothing


def test_the_authorization_request_flow(org, sender, alice, fresh):
    number = fresh.contact_number.number
    request = actions.request_authorization(alice, fresh)

    assert request.kind == Message.Kind.AUTHORIZATION_REQUEST
    assert request.status == Message.Status.QUEUED and request.author == alice
    assert request.body == (
        "Acme Roofing would like to text you about your inquiry. "
        "Reply YES to agree or STOP to opt out."
    )
    assert state(org, number) == State.PENDING
    [change] = audit(org, number)
    assert (change.agent, change.reason, change.message) == (
        alice,
        "authorization requested",
        request,
    )
    fresh.lead.refresh_from_db()
    assert fresh.lead.assignee == alice  # asking claims the lead, like a reply
    with pytest.raises(actions.ActionError) as pending:
        actions.send_message(alice, fresh, "Hi Dana")
    assert pending.value.code == "consent_pending"

    yes = inbound(sender, number, "Yes")
    assert state(org, number) == State.AUTHORIZED
    assert audit(org, number)[-1].message == yes
    assert [e["state"] for e in consent_events(org, number)] == [
        "pending",
        "authorized",
    ]
    assert len(auto_replies(number)) == 1  # the opt-in confirmation
    text = actions.send_message(alice, fresh, "Great! Your quote is attached.")
    assert text.status == Message.Status.QUEUED


def test_an_authorization_request_is_refused_when_it_makes_no_sense(
    org, sender, alice, fresh
):
    number = fresh.contact_number.number
    actions.request_authorization(alice, fresh)
    with pytest.raises(actions.ActionError) as twice:
        actions.request_authorization(alice, fresh)
    assert twice.value.code == "already_pending"
    # A day later, an unanswered request may be sent again.
    with time_machine.travel(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=25)
    ):
        again = actions.request_authorization(alice, fresh)
    assert len(outbound(number, kind=Message.Kind.AUTHORIZATION_REQUEST)) == 2
    assert again.status == Message.Status.QUEUED

    set_consent(org, number, State.AUTHORIZED)
    with pytest.raises(actions.ActionError) as authorized:
        actions.request_authorization(alice, fresh)
    assert authorized.value.code == "already_authorized"
    inbound(sender, number, "STOP")
    with pytest.raises(actions.ActionError) as revoked:
        actions.request_authorization(alice, fresh)
    assert revoked.value.code == "consent_revoked"
    assert len(outbound(number, kind=Message.Kind.AUTHORIZATION_REQUEST)) == 2


def test_only_an_agent_who_may_text_sends_an_authorization_request(
    org, make_agent, fresh
):
    no_sms = make_agent("carol", sms="deny")
    with pytest.raises(actions.ActionError) as refused:
        actions.request_authorization(no_sms, fresh)
    assert refused.value.code == "forbidden"
    assert outbound(fresh.contact_number.number) == []
    assert state(org, fresh.contact_number.number) == State.NOT_AUTHORIZED


def test_an_authorization_request_with_a_client_id_is_sent_once(org, alice, fresh):
    client_id = "0b6f5a57-3a43-4c1a-9d0e-6f1f8f0b2a11"
    first = actions.request_authorization(alice, fresh, client_id=client_id)
    again = actions.request_authorization(alice, fresh, client_id=client_id)
    assert first == again
    assert len(outbound(fresh.contact_number.number)) == 1


def test_a_partner_who_authorized_once_is_authorized_on_every_lead(org, sender, alice):
    partner_number = fictional_number()
    one = manual_lead(org, sender, fictional_number(), "Dana Whitfield")
    two = manual_lead(org, sender, fictional_number(), "Lee Okafor")
    add_partner(org, partner_number, [one.lead, two.lead])
    partner_on_one = actions.conversation_with(
        one.lead, one.lead.contacts.get(role="partner").numbers.get(), sender
    )
    partner_on_two = actions.conversation_with(
        two.lead, two.lead.contacts.get(role="partner").numbers.get(), sender
    )
    actions.request_authorization(alice, partner_on_one)
    inbound(sender, partner_number, "YES")

    assert state(org, partner_number) == State.AUTHORIZED
    message = actions.send_message(
        alice, partner_on_two, "Pat, the inspection is Friday"
    )
    assert message.status == Message.Status.QUEUED
    # Both leads' consoles were told, each as its own event.
    authorized = [
        e for e in consent_events(org, partner_number) if e["state"] == "authorized"
    ]
    assert {e["lead"] for e in authorized} == {one.lead_id, two.lead_id}
    # The borrowers' own numbers are still not authorized.
    with pytest.raises(actions.ActionError):
        actions.send_message(alice, two, "Lee, your quote")


def test_a_partners_opt_out_holds_on_every_lead(org, sender, alice):
    partner_number = fictional_number()
    one = manual_lead(org, sender, fictional_number(), "Dana Whitfield")
    two = manual_lead(org, sender, fictional_number(), "Lee Okafor")
    add_partner(org, partner_number, [one.lead, two.lead])
    inbound(sender, partner_number, "Hi, it's Pat about the Okafor roof")
    inbound(sender, partner_number, "stop")
    conversation = actions.conversation_with(
        one.lead, one.lead.contacts.get(role="partner").numbers.get(), sender
    )
    with pytest.raises(actions.ActionError) as refused:
        actions.send_message(alice, conversation, "Pat?")
    assert refused.value.code == "consent_revoked"


def test_the_first_message_to_a_number_carries_the_intro(org, sender, alice):
    number = fictional_number()
    conversation = inbound(sender, number, "Hi, quote please").conversation
    first = actions.send_message(alice, conversation, "Hi! Sending it now.")
    second = actions.send_message(alice, conversation, "Here it is.")
    assert first.body == "Acme Roofing: Reply STOP to opt out.\nHi! Sending it now."
    assert second.body == "Here it is."


def test_an_intro_that_never_reached_the_lead_is_sent_again(org, sender, alice):
    number = fictional_number()
    conversation = inbound(sender, number, "Hi, quote please").conversation
    first = actions.send_message(alice, conversation, "Hi!")
    Message.objects.filter(pk=first.pk).update(status=Message.Status.FAILED)
    again = actions.send_message(alice, conversation, "Hi again!")
    assert again.body.startswith("Acme Roofing: Reply STOP to opt out.\n")


def test_an_organisation_may_add_a_footer_to_every_message(org, sender, alice):
    org.optout_footer = "Reply STOP to opt out"
    org.intro_text = ""
    org.save()
    conversation = inbound(sender, fictional_number(), "Hi").conversation
    for body in ["One", "Two"]:
        message = actions.send_message(alice, conversation, body)
        assert message.body == f"{body}\nReply STOP to opt out"


def test_a_stop_fails_texts_still_waiting_and_the_outbox_sends_nothing(
    org, sender, alice
):
    number = fictional_number()
    conversation = inbound(sender, number, "Hi").conversation
    waiting = actions.send_message(alice, conversation, "Your quote")
    inbound(sender, number, "STOP")
    waiting.refresh_from_db()
    assert waiting.status == Message.Status.FAILED
    assert (
        waiting.error_reason
        == "The lead opted out before this was sent: it was not sent."
    )
    # Only the confirmation is left to send.
    assert [m.kind for m in outbound(number, status=Message.Status.QUEUED)] == [
        "auto_reply"
    ]


def test_the_console_state_shows_each_conversations_consent(org, sender, alice, fresh):
    texted = inbound(sender, fictional_number(), "Hi").conversation
    stopped_number = fictional_number()
    stopped = inbound(sender, stopped_number, "Hi").conversation
    inbound(sender, stopped_number, "STOP")
    by_id = {c["id"]: c for c in console_state.hello(alice)["conversations"]}
    assert (by_id[fresh.id]["consent"], by_id[texted.id]["consent"]) == (
        "not_authorized",
        "authorized",
    )
    assert by_id[stopped.id]["consent"] == "revoked"
    assert by_id[stopped.id]["consent_notice"] == NOTICES[State.REVOKED]
    assert by_id[texted.id]["consent_notice"] is None

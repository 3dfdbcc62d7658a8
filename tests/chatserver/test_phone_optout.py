"""Opt-outs received any reasonable way: an agent records that the lead asked
by phone; it takes effect at once, fails every text still waiting to go to
the number (live in consoles), and sends at most one confirmation, within
five minutes (FCC 24-24)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from chatserver import actions
from chatserver.actions import delivery
from chatserver.actions.messages import queue_message
from chatserver.models import Consent, ConsentChange, Event, Message
from tests.chatserver.consent_support import (
    auto_replies,
    consent_events,
    inbound,
    outbound,
    state,
)
from tests.chatserver.leads_support import api, login
from tests.conftest import fictional_number
from tests.consumers.console_support import connect, db

State = Consent.State
Automation = Message.Automation
CONFIRMATION = (
    "Acme Roofing: You are unsubscribed and will get no more messages. "
    "Reply START to resubscribe."
)


@pytest.fixture
def lead_number(sender):
    """A lead who texted first (so may be texted), and their number."""
    number = fictional_number()
    inbound(sender, number, "Hi, I'd like a quote")
    return number


def conversation_of(number):
    return (
        Message.objects.filter(conversation__contact_number__number=number)
        .first()
        .conversation
    )


def waiting_texts(alice, number):
    """An agent's text scheduled for tomorrow, one queued, and an automatic
    reply queued: all still to go."""
    conversation = conversation_of(number)
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    return [
        queue_message(
            conversation, "See you tomorrow", author=alice, send_after=tomorrow
        ),
        queue_message(conversation, "Your quote is ready", author=alice),
        queue_message(
            conversation,
            "We are closed",
            kind=Message.Kind.AUTO_REPLY,
            automation=Automation.AFTER_HOURS,
        ),
    ]


@pytest.mark.django_db
def test_a_phone_opt_out_cancels_every_waiting_text_and_confirms_once(
    org, sender, alice, lead_number
):
    waiting = waiting_texts(alice, lead_number)
    conversation = conversation_of(lead_number)

    changed = actions.opt_out_by_phone(
        alice, conversation, "Called in, asked us to stop"
    )

    assert changed and state(org, lead_number) == State.REVOKED
    for message in waiting:
        message.refresh_from_db()
        assert (message.status, message.error_code) == (
            Message.Status.FAILED,
            "opted_out",
        )
    # Each failure reached the consoles as a status event.
    failed = Event.objects.filter(organisation=org, type="message.status")
    assert {
        e.payload["message"] for e in failed if e.payload["status"] == "failed"
    } == {m.id for m in waiting}
    change = ConsentChange.objects.filter(number=lead_number).last()
    assert (change.source, change.agent, change.note) == (
        ConsentChange.Source.PHONE,
        alice,
        "Called in, asked us to stop",
    )
    assert change.new_state == State.REVOKED
    assert consent_events(org, lead_number)[-1]["by"] == alice.id
    [confirmation] = [m for m in auto_replies(lead_number) if m.status == "queued"]
    assert confirmation.body == CONFIRMATION
    assert confirmation.automation == Automation.OPTOUT_CONFIRMATION

    # Recorded again (another agent, the same call): nothing more happens.
    assert actions.opt_out_by_phone(alice, conversation, "") is False
    assert len([m for m in auto_replies(lead_number) if m.status == "queued"]) == 1


@pytest.mark.django_db
def test_a_phone_opt_out_after_a_stop_sends_no_second_confirmation(
    org, sender, alice, lead_number
):
    inbound(sender, lead_number, "STOP")
    inbound(sender, lead_number, "stop")  # a second STOP: nothing either
    assert actions.opt_out_by_phone(alice, conversation_of(lead_number)) is False
    confirmations = [
        m
        for m in auto_replies(lead_number)
        if m.automation == Automation.OPTOUT_CONFIRMATION
    ]
    assert len(confirmations) == 1
    assert (
        ConsentChange.objects.filter(
            number=lead_number, new_state=State.REVOKED
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_a_stop_after_a_phone_opt_out_sends_no_second_confirmation(
    org, sender, alice, lead_number
):
    actions.opt_out_by_phone(alice, conversation_of(lead_number))
    inbound(sender, lead_number, "STOP")
    assert len(auto_replies(lead_number)) == 1


@pytest.mark.django_db
def test_a_confirmation_goes_within_five_minutes_or_never(
    org, sender, alice, lead_number
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        actions.opt_out_by_phone(alice, conversation_of(lead_number))
    [confirmation] = auto_replies(lead_number)
    with time_machine.travel(start + datetime.timedelta(minutes=4), tick=False):
        assert delivery.claim(confirmation.id) is not None

    other = fictional_number()
    inbound(sender, other, "Hello")
    with time_machine.travel(start, tick=False):
        inbound(sender, other, "STOP")
    [late] = auto_replies(other)
    # The outbox was down for six minutes: the confirmation is never sent.
    with time_machine.travel(start + datetime.timedelta(minutes=6), tick=False):
        assert delivery.claim(late.id) is None
    late.refresh_from_db()
    assert (late.status, late.error_code) == (Message.Status.FAILED, "too_late")


@pytest.mark.django_db
def test_a_note_too_long_or_no_rights_changes_nothing(
    org, sender, make_agent, lead_number
):
    conversation = conversation_of(lead_number)
    admin = make_agent("carol", access="all")
    with pytest.raises(actions.ActionError):
        actions.opt_out_by_phone(admin, conversation, "x" * 501)
    outsider = make_agent("pat", access="all", external=True)
    with pytest.raises(actions.ActionError) as refused:
        actions.opt_out_by_phone(outsider, conversation, "")
    assert refused.value.code in ("forbidden", "not_found")
    assert state(org, lead_number) == State.AUTHORIZED
    assert outbound(lead_number) == []


@pytest.mark.django_db
def test_the_api_records_a_phone_opt_out(org, sender, alice, make_agent, lead_number):
    conversation = conversation_of(lead_number)
    mine = make_agent("bob", access="mine")
    # An agent who may not see the lead: not found, nothing changes.
    status, _ = api(
        login(mine),
        "POST",
        f"/api/conversations/{conversation.id}/phone-optout",
        {"note": "asked"},
    )
    assert status == 404 and state(org, lead_number) == State.AUTHORIZED
    status, answer = api(
        login(alice),
        "POST",
        f"/api/conversations/{conversation.id}/phone-optout",
        {"note": 5},
    )
    assert status == 400 and state(org, lead_number) == State.AUTHORIZED
    status, answer = api(
        login(alice),
        "POST",
        f"/api/conversations/{conversation.id}/phone-optout",
        {"note": "asked on a call"},
    )
    assert status == 200
    assert answer == {
        "conversation": conversation.id,
        "consent": "revoked",
        "changed": True,
    }
    assert state(org, lead_number) == State.REVOKED


@pytest.mark.django_db(transaction=True)
async def test_consoles_see_a_phone_opt_out_live(org, sender, alice, make_agent):
    number = fictional_number()
    await db(inbound)(sender, number, "Hi")
    conversation = await db(conversation_of)(number)
    [scheduled, *_] = await db(waiting_texts)(alice, number)
    colleague = await db(make_agent)("dave", access="all")
    mine, theirs = await connect(alice), await connect(colleague)

    await mine.send(
        type="consent.phone_optout",
        conversation=conversation.id,
        note="phoned",
        client_id="p1",
    )
    ack = await mine.until("ack", client_id="p1")
    assert ack["of"] == "consent.phone_optout"
    assert ack["result"] == {
        "conversation": conversation.id,
        "consent": "revoked",
        "changed": True,
    }
    changed = await theirs.until("consent.changed", number=number)
    assert (changed["state"], changed["by"]) == ("revoked", alice.id)
    status = await theirs.until("message.status", message=scheduled.id)
    assert status["status"] == "failed"
    created = await theirs.until("message.created")
    assert created["message"]["automation"] == "optout_confirmation"
    await mine.close()
    await theirs.close()

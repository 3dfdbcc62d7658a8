"""Resending a text that failed, or that an outage left for an agent to check:
a new message linked to the failed one, after the same checks as any text,
once however many agents click."""

from __future__ import annotations

import uuid

import pytest

from chatserver import actions
from chatserver.actions.messages import move_status
from chatserver.models import Consent, Event, Message
from chatserver.queries.consent import state_of
from tests.consumers.console_support import connect, db

pytestmark = pytest.mark.django_db

Status = Message.Status


def failed_text(agent, conversation, body="Can we come Tuesday?", status=Status.FAILED):
    message = actions.send_message(agent, conversation, body, client_id=uuid.uuid4())
    move_status(message, status, "30003", "Unreachable destination handset")
    message.refresh_from_db()
    return message


def test_a_failed_text_is_resent_as_a_new_message_linked_to_it(conversation, alice):
    conversation.organisation.optout_footer = "Reply STOP to opt out"
    conversation.organisation.save()
    failed = failed_text(alice, conversation)
    assert failed.body == (
        "Acme Roofing: Reply STOP to opt out.\n"
        "Can we come Tuesday?\nReply STOP to opt out"
    )

    again = actions.resend_message(alice, failed, client_id=uuid.uuid4())

    assert again.pk != failed.pk and again.resend_of_id == failed.pk
    assert again.status == Status.QUEUED and again.author == alice
    # The same text, its intro (still a first contact) and footer once each.
    assert again.body == failed.body
    failed.refresh_from_db()
    assert failed.status == Status.FAILED  # the failed one stays as it was
    created = Event.objects.filter(type="message.created").latest("id")
    assert created.payload["message"]["id"] == again.id
    assert created.payload["message"]["resend_of"] == failed.id


def test_a_text_left_to_check_after_a_crash_may_be_resent_too(conversation, alice):
    unsure = failed_text(alice, conversation, status=Status.CHECK)
    again = actions.resend_message(alice, unsure)
    assert again.resend_of_id == unsure.pk


def test_a_text_is_resent_once_and_a_repeated_request_answers_the_same(
    conversation, alice, make_agent
):
    failed = failed_text(alice, conversation)
    request = uuid.uuid4()
    first = actions.resend_message(alice, failed, client_id=request)
    assert actions.resend_message(alice, failed, client_id=request) == first
    colleague = make_agent("carol", access="all")
    with pytest.raises(actions.ActionError, match="resent already") as refused:
        actions.resend_message(colleague, failed, client_id=uuid.uuid4())
    assert refused.value.code == "already_resent"
    assert Message.objects.filter(resend_of=failed).count() == 1


@pytest.mark.parametrize("status", [Status.QUEUED, Status.SENT, Status.DELIVERED])
def test_only_a_failed_or_unsure_text_may_be_resent(conversation, alice, status):
    message = failed_text(alice, conversation, status=status)
    with pytest.raises(actions.ActionError, match="Only a text that failed"):
        actions.resend_message(alice, message)


def test_a_leads_own_text_is_not_resent(conversation, alice):
    inbound = Message.objects.get(conversation=conversation, direction="in")
    with pytest.raises(actions.ActionError, match="Only a text an agent sent"):
        actions.resend_message(alice, inbound)


def test_a_resend_gets_the_checks_of_any_text(conversation, alice, bob):
    failed = failed_text(alice, conversation)
    # Bob may not text a lead that is Alice's (she claimed it by replying).
    with pytest.raises(actions.ActionError) as refused:
        actions.resend_message(bob, failed)
    assert refused.value.code == "forbidden"
    # The lead opted out since: nothing goes.
    number = conversation.contact_number.number
    actions.consent.set_state(conversation.organisation_id, number, "revoked", "test")
    assert state_of(conversation.organisation_id, number) == Consent.State.REVOKED
    with pytest.raises(actions.ActionError, match="opted out"):
        actions.resend_message(alice, failed)
    assert not Message.objects.filter(resend_of=failed).exists()


@pytest.mark.django_db(transaction=True)
async def test_the_socket_resends_and_acks_with_the_link(conversation, alice):
    failed = await db(failed_text)(alice, conversation)
    console = await connect(alice)
    client_id = str(uuid.uuid4())
    await console.send(type="message.resend", message=failed.id, client_id=client_id)
    ack = await console.until("ack", client_id=client_id)
    assert ack["resend_of"] == failed.id and ack["status"] == "queued"
    created = await console.until("message.created")
    assert created["message"]["id"] == ack["message"]
    assert created["message"]["resend_of"] == failed.id
    # Twice: refused, with the reason, and nothing more is stored.
    again = str(uuid.uuid4())
    await console.send(type="message.resend", message=failed.id, client_id=again)
    error = await console.until("error", client_id=again)
    assert error["code"] == "already_resent"
    await console.close()

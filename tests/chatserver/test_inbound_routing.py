"""Which organisation and lead an inbound text reaches, from its From and To."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.models import Event, Lead, Message
from chatserver.rules.errors import UnknownRecipient

LEAD_NUMBER = "+12065550191"


def text(to_number: str, from_number: str = LEAD_NUMBER, sid: str | None = None):
    return InboundMessage(
        carrier="simulator",
        carrier_message_id=sid or "SIM" + uuid.uuid4().hex,
        from_number=from_number,
        to_number=to_number,
        body="Is anyone there?",
    )


def test_an_unknown_number_becomes_a_new_unassigned_lead(sender):
    message = actions.receive_inbound(text(sender.number))
    lead = message.conversation.lead
    assert lead.assignee is None
    assert lead.source == "sms"
    assert lead.name == "+1 206-555-0191"
    assert Event.objects.filter(type="lead.created", lead_id=lead.id).exists()


def test_a_known_number_reaches_its_lead(org, sender, bob):
    lead = actions.create_lead(
        org.id, "Grace Kim · storm damage", "Grace", "Kim", LEAD_NUMBER, assignee=bob
    )
    message = actions.receive_inbound(text(sender.number))
    assert message.conversation.lead == lead
    assert Lead.objects.count() == 1


def test_the_number_texted_picks_the_organisation(org, sender):
    other = actions.add_organisation("Bayside Gutters")
    other_number = actions.add_number("+14155550109", "simulator", other)
    ours = actions.create_lead(org.id, "Grace (ours)", "Grace", "Kim", LEAD_NUMBER)
    theirs = actions.create_lead(
        other.id, "Grace (theirs)", "Grace", "Kim", LEAD_NUMBER
    )

    to_them = actions.receive_inbound(text(other_number.number))
    to_us = actions.receive_inbound(text(sender.number))

    assert to_them.conversation.lead == theirs
    assert to_them.organisation_id == other.id
    assert to_us.conversation.lead == ours


def test_a_number_that_is_not_ours_stores_nothing(sender):
    with pytest.raises(UnknownRecipient):
        actions.receive_inbound(text("+14155550177"))
    assert not Message.objects.exists()
    assert not Lead.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_sid", [True, False], ids=["redelivery", "two-texts"])
def test_first_texts_arriving_at_once_make_one_lead(sender, same_sid):
    from tests.conftest import require_or_skip

    if connection.vendor != "postgresql":
        require_or_skip("needs PostgreSQL (set DATABASE_URL) for concurrent webhooks")
    sid = "SIM" + uuid.uuid4().hex
    start = threading.Barrier(4)
    errors = []

    def deliver():
        try:
            start.wait()
            actions.receive_inbound(text(sender.number, sid=sid if same_sid else None))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert Lead.objects.count() == 1
    assert Message.objects.count() == (1 if same_sid else 4)
    assert Event.objects.filter(type="lead.created").count() == 1

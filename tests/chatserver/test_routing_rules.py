"""Inbound routing when numbers are shared (docs/operations.md, "Inbound
routing"), and agents' own sender numbers."""

import datetime
import threading
import time
import uuid

import pytest
from django.utils import timezone

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.models import Contact, ContactNumber, Conversation, Lead, Message
from tests.chatserver.leads_support import api, login, make_lead
from tests.conftest import SENDER_NUMBER, fictional_number, require_or_skip

pytestmark = pytest.mark.django_db


def text(from_number, to_number=SENDER_NUMBER, body="Hello") -> Message:
    return actions.receive_inbound(
        InboundMessage(
            carrier="simulator",
            carrier_message_id=f"SM{uuid.uuid4().hex}",
            from_number=from_number,
            to_number=to_number,
            body=body,
        )
    )


def add_person(lead, number, role, first="Pat"):
    contact = Contact.objects.create(
        organisation_id=lead.organisation_id, first_name=first, role=role
    )
    contact.leads.add(lead)
    ContactNumber.objects.create(
        organisation_id=lead.organisation_id, contact=contact, number=number
    )
    return contact


def age(lead, minutes):
    """Make the lead last updated ``minutes`` ago."""
    when = timezone.now() - datetime.timedelta(minutes=minutes)
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=when)


def test_a_number_on_several_leads_goes_to_the_lead_updated_most_recently(org, sender):
    number = fictional_number()
    older = make_lead(org, "Old Lead", number=number)
    newer = make_lead(org, "New Lead", number=number)
    age(older, 60)
    age(newer, 30)
    assert text(number).conversation.lead == newer
    # Updating the older lead (assigning it, say) makes it the one texts go to.
    actions.assign_lead(older, None, actor=None)  # no change: not an update
    assert text(number).conversation.lead == newer
    actions.close_lead(Lead.objects.get(pk=older.pk), None)
    assert text(number).conversation.lead == older


def test_ties_go_to_the_newest_lead(org, sender):
    number = fictional_number()
    first = make_lead(org, "First", number=number)
    second = make_lead(org, "Second", number=number)
    same = timezone.now() - datetime.timedelta(hours=1)
    Lead.objects.filter(pk__in=[first.pk, second.pk]).update(last_activity_at=same)
    assert text(number).conversation.lead == second


def test_a_homeowner_and_spouse_sharing_a_number_get_one_thread(
    org, sender, make_agent, authorized
):
    number = fictional_number()
    lead = make_lead(org, "Sam Homeowner", number=number)
    add_person(lead, number, Contact.Role.SPOUSE, first="Alex")
    first = text(number, body="Hi from Sam")
    second = text(number, body="Hi from Alex, same phone")
    assert first.conversation == second.conversation
    assert Conversation.objects.filter(lead=lead).count() == 1
    assert first.conversation.contact_number.contact.role == "homeowner"
    assert Message.objects.filter(conversation__lead=lead).count() == 2

    # An agent texting "the spouse's" number lands in that same thread.
    alice = make_agent("alice", access="all")
    status, answer = api(
        login(alice), "POST", f"/api/leads/{lead.id}/conversations", {"number": number}
    )
    assert status == 200 and answer["conversation"]["id"] == first.conversation_id
    # The lead list shows the lead once.
    status, page = api(login(alice), "GET", "/api/leads", {"q": number})
    assert [item["id"] for item in page["leads"]] == [lead.id]


@pytest.mark.parametrize("role", [Contact.Role.PARTNER, Contact.Role.ADJUSTER])
def test_a_partners_or_adjusters_number_wins_over_a_homeowners(org, sender, role):
    """People who work on many leads (a partner, an insurance adjuster on
    many claims) text about those leads, not their own roof."""
    number = fictional_number()
    partner_lead = make_lead(org, "Storm claim 12 Elm", number=fictional_number())
    add_person(partner_lead, number, role, first="Rita")
    homeowner_lead = make_lead(org, "Rita's own roof", number=number)
    age(partner_lead, 120)  # even though the homeowner's lead is more recent
    message = text(number)
    assert message.conversation.lead == partner_lead
    assert message.conversation.contact_number.contact.first_name == "Rita"
    assert homeowner_lead.conversations.count() == 0


def test_a_number_owned_by_an_agent_routes_to_that_agents_leads_first(
    org, sender, make_agent
):
    bob = make_agent("bob", access="mine")
    carol = make_agent("carol", access="mine")
    bobs_number = actions.add_number("+14155550188", "simulator", org, agent=bob)
    number = fictional_number()
    bobs_lead = make_lead(org, "Bob's Lead", number=number, assignee=bob)
    carols_lead = make_lead(org, "Carol's Lead", number=number, assignee=carol)
    age(bobs_lead, 90)
    # To the company number: the most recent lead, as usual.
    assert text(number).conversation.lead == carols_lead
    # To Bob's own number: Bob's lead, though Carol's was just updated.
    to_bob = text(number, to_number=bobs_number.number)
    assert to_bob.conversation.lead == bobs_lead
    assert to_bob.conversation.sender == bobs_number


def test_routing_never_crosses_organisations(org, sender):
    number = fictional_number()
    ours = make_lead(org, "Ours", number=number)
    age(ours, 600)
    rival = actions.add_organisation("Rival Roofing")
    make_lead(rival, "Theirs", number=number)
    assert text(number).conversation.lead == ours


def test_an_unknown_number_becomes_a_new_unassigned_lead(org, sender):
    number = fictional_number()
    lead = text(number).conversation.lead
    assert (lead.assignee, lead.source, lead.status) == (None, "sms", "open")
    assert lead.contacts.get().numbers.get().number == number


def test_each_agent_texts_from_their_own_number_and_the_lead_replies_to_it(
    org, sender, make_agent, authorized
):
    bob = make_agent("bob", access="mine", sms="allow")
    alice = make_agent("alice", access="all", sms="allow")
    bobs_number = actions.add_number("+14155550177", "simulator", org, agent=bob)
    number = fictional_number()
    authorized(number)
    status, created = api(
        login(bob),
        "POST",
        "/api/leads",
        {
            "first_name": "Nia",
            "last_name": "Long",
            "number": number,
            "body": "Hi Nia, Bob from Acme here",
            "client_id": str(uuid.uuid4()),
        },
    )
    assert status == 201, created
    assert created["conversation"]["sender_number"] == bobs_number.number
    assert created["message"]["body"].endswith("Hi Nia, Bob from Acme here")
    # Nia answers Bob's number: the reply joins Bob's thread.
    reply = text(number, to_number=bobs_number.number, body="Hi Bob!")
    assert reply.conversation_id == created["conversation"]["id"]
    # Alice has no number of her own: her threads go from the company's.
    lead = Lead.objects.get(pk=created["lead"]["id"])
    actions.assign_lead(lead, alice, actor=alice)
    status, answer = api(
        login(alice), "POST", f"/api/leads/{lead.id}/conversations", {"number": number}
    )
    assert answer["conversation"]["sender_number"] == SENDER_NUMBER


@pytest.mark.django_db(transaction=True)
def test_first_texts_from_a_new_number_arriving_at_once_make_one_lead(org, sender):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        # The test database of SQLite is in memory and refuses a second writer
        # outright; the server's SQLite file runs transactions one at a time.
        require_or_skip("DATABASE_URL does not name a PostgreSQL database")
    number = fictional_number()
    first_in = threading.Event()
    stored, failures = [], []

    def first():
        try:
            with transaction.atomic():
                stored.append(text(number, body="first"))
                first_in.set()
                time.sleep(0.5)  # the second text arrives before this commits
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    def second():
        try:
            first_in.wait(10)
            stored.append(text(number, body="second"))
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    assert len(stored) == 2 and all(stored)
    assert Lead.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 2

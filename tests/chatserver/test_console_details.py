"""What a chatbox shows beside the thread (``GET /api/conversations/<id>``),
and the console page that hosts it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from chatserver import actions
from chatserver.models import Agent, Consent, Contact, MessageCategory, Note, Template

pytestmark = pytest.mark.django_db


def login(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def details(agent: Agent, conversation_id: int):
    response = login(agent).get(f"/api/conversations/{conversation_id}")
    return response.status_code, response.json()


def test_details_list_every_contact_with_consent_and_the_conversation_to_open(
    org, alice, conversation, sender
):
    lead = conversation.lead
    partner = Contact.objects.create(
        organisation=org, first_name="Pat", last_name="Partner", role="partner"
    )
    partner.leads.add(lead)
    partner_number = partner.numbers.create(organisation=org, number="+13035550188")
    Consent.objects.create(
        organisation=org, number=partner_number.number, state="revoked"
    )

    status, data = details(alice, conversation.id)

    assert status == 200
    assert data["conversation"]["id"] == conversation.id
    assert data["conversation"]["consent"] == "authorized"  # the lead texted first
    assert data["lead"]["id"] == lead.id
    borrower, other = data["contacts"]  # borrower first
    assert borrower["numbers"] == [
        {
            "id": conversation.contact_number_id,
            "number": conversation.contact_number.number,
            "kind": "primary",
            "consent": "authorized",
            "conversation": conversation.id,
        }
    ]
    assert other["name"] == "Pat Partner" and other["role_label"] == "External partner"
    assert other["numbers"][0]["consent"] == "revoked"
    assert other["numbers"][0]["conversation"] is None  # never texted
    # Replying claims an unassigned lead: nothing stops alice.
    assert data["text_block"] is None
    assert data["may_assign"] is True
    assert {a["name"] for a in data["agents"]} == {"Alice"}


def test_details_say_why_an_agent_may_not_text(
    org, alice, bob, make_agent, conversation
):
    lead = conversation.lead
    actions.assign_lead(lead, bob, actor=None)
    status, data = details(alice, conversation.id)
    assert status == 200
    assert data["text_block"] == "This lead is assigned to Bob."
    assert data["lead"]["assignee"] == bob.id

    quiet = make_agent("carol", sms="deny")
    status, data = details(quiet, conversation.id)
    assert data["text_block"] == "You do not have permission to send SMS."


def test_details_of_a_conversation_the_agent_may_not_see_are_not_found(
    org, make_agent, conversation
):
    own_only = make_agent("dave", access=Agent.Access.MINE)
    status, data = details(own_only, conversation.id)
    assert status == 404 and data["error"]["code"] == "not_found"
    other_org = actions.add_organisation("Other Co")
    stranger = make_agent("erin", organisation=other_org)
    assert details(stranger, conversation.id)[0] == 404
    assert Client().get(f"/api/conversations/{conversation.id}").status_code == 401


def test_details_carry_templates_filled_in_for_the_lead_and_its_notes(
    org, alice, conversation
):
    contact = conversation.contact_number.contact
    contact.first_name = "Dana"
    contact.save()
    follow_up = MessageCategory.objects.create(organisation=org, name="Follow-up")
    Template.objects.create(
        organisation=org,
        name="Check in",
        body="Hi {lead.first_name}, this is {agent.first_name} from {org.name}.",
        category=follow_up,
    )
    Template.objects.create(organisation=org, name="Broken", body="Hi {nope}")
    Note.objects.create(
        organisation=org, lead=conversation.lead, author=alice, body="VIP"
    )

    status, data = details(alice, conversation.id)

    assert data["templates"] == [
        {
            "id": data["templates"][0]["id"],
            "name": "Check in",
            "body": "Hi Dana, this is Alice from Acme Roofing.",
            "category": follow_up.id,
            "category_name": "Follow-up",
        }
    ]  # the broken one is left out rather than sent with a brace in it
    assert data["categories"] == [{"id": follow_up.id, "name": "Follow-up"}]
    assert [n["body"] for n in data["notes"]] == ["VIP"]


def test_the_console_page_loads_its_modules_without_inline_script_or_style(alice):
    response = login(alice).get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="connection"' in page
    assert re.search(r'<script type="module" src="[^"]*console/js/app\.js">', page)
    assert "<script>" not in page and " style=" not in page
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy

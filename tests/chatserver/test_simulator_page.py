"""The phone simulator page: staff only, and nothing typed is lost."""

from __future__ import annotations

import pytest

from carriers import phone_network
from chatserver import actions
from tests.conftest import SENDER_NUMBER

PHONE = "+16175550108"


@pytest.fixture
def network(settings, tmp_path):
    settings.SIMULATOR_DIR = tmp_path / "simulator"
    return phone_network.network()


@pytest.fixture
def staff(client, make_agent, sender, network):
    agent = make_agent("avery", admin=True)
    client.force_login(agent.user)
    return agent


def test_the_page_lists_the_leads_phones_and_the_company_numbers(client, staff, org):
    actions.create_lead(org.id, "Tom Alvarez · inspection", "Tom", "Alvarez", PHONE)
    response = client.get("/simulator/")
    page = response.content.decode()
    assert response.status_code == 200
    assert PHONE in page and "Tom Alvarez · inspection" in page
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert "<script>" not in page  # the CSP forbids inline scripts

    page = client.get("/simulator/", {"phone": PHONE}).content.decode()
    assert f'<option value="{SENDER_NUMBER}">' in page


def test_agents_who_are_not_staff_are_refused(client, alice, network):
    client.force_login(alice.user)
    assert client.get("/simulator/").status_code == 403
    assert client.post("/simulator/text", {"phone": PHONE}).status_code == 403


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"phone": "my phone"}, "is not a valid phone number"),
        ({"company": "+14155550177"}, "Choose one of the company&#x27;s simulator"),
        ({"body": "   "}, "Type a text first."),
        ({"body": "x" * 1601}, "Too long: 1601 of 1600 characters."),
    ],
)
def test_a_text_that_cannot_go_is_refused_and_kept(
    client, staff, network, fields, error
):
    form = {"phone": PHONE, "company": SENDER_NUMBER, "body": "Hello there", **fields}
    response = client.post("/simulator/text", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert error in page
    assert form["body"] in page
    assert f'value="{form["phone"]}"' in page
    assert network.messages() == []


def test_the_networks_behaviour_for_a_phone_can_be_changed(client, staff, network):
    response = client.post("/simulator/mode", {"phone": PHONE, "mode": "down"})
    assert response.status_code == 302
    assert network.mode(PHONE) == "down"
    assert client.get("/simulator/state", {"phone": PHONE}).json()["mode"] == "down"

    refused = client.post("/simulator/mode", {"phone": PHONE, "mode": "explode"})
    assert refused.status_code == 400
    assert network.mode(PHONE) == "down"


def test_the_state_shows_only_this_organisations_threads(client, staff, network):
    network.add_message(phone_network.TO_PHONE, PHONE, SENDER_NUMBER, "Ours", "received")
    network.add_message(phone_network.TO_PHONE, PHONE, "+14155550109", "Theirs", "received")
    state = client.get("/simulator/state", {"phone": PHONE}).json()
    assert [m["body"] for m in state["messages"]] == ["Ours"]
    assert client.get("/simulator/state", {"phone": "nope"}).status_code == 400

"""Creating a lead and texting it in one step; more contacts and numbers, and
texting any of them."""

import json
import uuid

import pytest

from chatserver import actions
from chatserver.models import Contact, ContactNumber, Conversation, Lead, Message
from tests.chatserver.leads_support import api, login, make_lead
from tests.conftest import SENDER_NUMBER
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401
    connect,
    db,
)

NIA = "+14155550133"


@pytest.fixture
def alice(make_agent):
    return make_agent("alice", access="all", first_name="Alice")


@pytest.mark.django_db
def test_an_agent_creates_a_lead_and_texts_it_in_one_step(
    org, sender, alice, authorized
):
    authorized(NIA)
    client_id = str(uuid.uuid4())
    request = {
        "first_name": " Nia ",
        "last_name": "Long",
        "number": "(415) 555-0133",
        "body": "Hi Nia, Alice from Acme Roofing here.",
        "client_id": client_id,
    }
    status, created = api(login(alice), "POST", "/api/leads", request)
    assert status == 201, created
    lead = Lead.objects.get(pk=created["lead"]["id"])
    assert (lead.name, lead.source, lead.created_by) == ("Nia Long", "manual", alice)
    contact = lead.contacts.get()
    assert (contact.first_name, contact.role) == ("Nia", "homeowner")
    assert contact.numbers.get().number == NIA
    assert created["message"]["status"] == "queued"
    assert created["message"]["body"].endswith("Hi Nia, Alice from Acme Roofing here.")
    assert created["conversation"]["sender_number"] == SENDER_NUMBER
    assert created["send_error"] is None
    # Texting it claimed it: it is Alice's.
    assert lead.assignee == alice and created["lead"]["assignee"] == alice.id

    # The same request again (a retry) creates and sends nothing more.
    status, again = api(login(alice), "POST", "/api/leads", request)
    assert again["lead"]["id"] == lead.id
    assert again["message"]["id"] == created["message"]["id"]
    assert Lead.objects.count() == 1 and Message.objects.count() == 1


@pytest.mark.django_db
def test_a_lead_that_may_not_be_texted_yet_is_kept_with_the_reason(
    org, sender, alice, authorized
):
    request = {
        "first_name": "Omar",
        "number": "+12125550111",
        "body": "Hello Omar",
        "client_id": str(uuid.uuid4()),
    }
    status, created = api(login(alice), "POST", "/api/leads", request)
    assert status == 201
    assert created["message"] is None
    assert created["send_error"]["code"] == "consent_not_authorized"
    assert "authorization request" in created["send_error"]["reason"]
    lead = Lead.objects.get(pk=created["lead"]["id"])
    # Nobody texted it: it waits in Unassigned, as new leads do.
    assert lead.assignee is None
    status, page = api(login(alice), "GET", "/api/leads", {"bucket": "unassigned"})
    assert [item["id"] for item in page["leads"]] == [lead.id]
    assert not Message.objects.exists()
    # Once the number agrees, the same request sends the text: still one lead.
    authorized("+12125550111")
    status, again = api(login(alice), "POST", "/api/leads", request)
    assert again["lead"]["id"] == lead.id and again["send_error"] is None
    assert again["message"]["status"] == "queued"
    assert Lead.objects.count() == 1 and Message.objects.count() == 1


@pytest.mark.django_db
def test_an_agent_who_cannot_see_unassigned_leads_gets_the_lead_they_create(
    org, sender, make_agent
):
    bob = make_agent("bob", access="mine")
    status, created = api(
        login(bob),
        "POST",
        "/api/leads",
        {"first_name": "Ivy", "number": "+13125550122"},
    )
    assert status == 201 and created["lead"]["assignee"] == bob.id
    status, page = api(login(bob), "GET", "/api/leads", {"bucket": "mine"})
    assert [item["id"] for item in page["leads"]] == [created["lead"]["id"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_body, reason",
    [
        ({"first_name": "Ann"}, "Enter a phone number."),
        ({"first_name": "Ann", "number": "+1 555 0000"}, "has no area code"),
        ({"first_name": "Ann", "number": "415 555 0133 9"}, "too many digits"),
        ({"first_name": "Ann", "number": NIA, "email": "ann@"}, "not an email"),
        ({"first_name": "Ann", "number": 4155550133}, "'number' must be text."),
        ({"first_name": "A" * 101, "number": NIA}, "first name is too long"),
        ({"first_name": "Ann", "number": NIA, "role": "boss"}, "Unknown role 'boss'"),
        (
            {"first_name": "Ann", "number": NIA, "client_id": "x"},
            "client_id must be a UUID",
        ),
        (
            {"first_name": "Ann", "number": NIA, "assignee": "me"},
            "'assignee' must be an id",
        ),
    ],
)
def test_creating_a_lead_refuses_bad_input_clearly_and_stores_nothing(
    org, sender, alice, request_body, reason
):
    status, answer = api(login(alice), "POST", "/api/leads", request_body)
    assert status == 400 and reason in answer["error"]["reason"], answer
    assert not Lead.objects.exists() and not Contact.objects.exists()


@pytest.mark.django_db
def test_more_contacts_and_numbers_and_texting_any_of_them(
    org, sender, alice, authorized
):
    lead = make_lead(org, "Sam Stone", assignee=alice, number="+14155550144")
    homeowner = lead.contacts.get()
    client = login(alice)
    status, answer = api(
        client,
        "POST",
        f"/api/leads/{lead.id}/contacts",
        {
            "first_name": "Kim",
            "last_name": "Stone",
            # The role's old word (before the roofing ones) still reads.
            "role": "co_borrower",
            "number": "+14155550145",
        },
    )
    assert status == 201 and answer["contact"]["role"] == "spouse"
    status, answer = api(
        client,
        "POST",
        f"/api/leads/{lead.id}/contacts/{homeowner.id}/numbers",
        {"number": "212 555 0146", "kind": "secondary"},
    )
    assert status == 201
    assert [(n["number"], n["kind"]) for n in answer["contact"]["numbers"]] == [
        ("+14155550144", "primary"),
        ("+12125550146", "secondary"),
    ]
    # A new primary number makes the old one secondary.
    status, answer = api(
        client,
        "POST",
        f"/api/leads/{lead.id}/contacts/{homeowner.id}/numbers",
        {"number": "+13125550147", "kind": "primary"},
    )
    kinds = {n["number"]: n["kind"] for n in answer["contact"]["numbers"]}
    assert kinds == {
        "+13125550147": "primary",
        "+14155550144": "secondary",
        "+12125550146": "secondary",
    }
    # Adding a number the contact has changes nothing.
    api(
        client,
        "POST",
        f"/api/leads/{lead.id}/contacts/{homeowner.id}/numbers",
        {"number": "+12125550146", "kind": "secondary"},
    )
    assert ContactNumber.objects.filter(contact=homeowner).count() == 3

    status, detail = api(client, "GET", f"/api/leads/{lead.id}")
    assert [c["name"] for c in detail["lead"]["contacts"]] == ["Sam Stone", "Kim Stone"]
    # Text each of the numbers: one thread per number.
    threads = []
    for number in ("+12125550146", "+14155550145"):
        authorized(number)
        status, answer = api(
            client, "POST", f"/api/leads/{lead.id}/conversations", {"number": number}
        )
        assert status == 200 and answer["conversation"]["contact_number"] == number
        conversation = Conversation.objects.get(pk=answer["conversation"]["id"])
        response = client.post(
            f"/api/conversations/{conversation.id}/messages",
            {"body": f"Hello at {number}", "client_id": str(uuid.uuid4())},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        threads.append(conversation.id)
    assert len(set(threads)) == 2
    # A number that is not the lead's is not found; bad ones are refused.
    for number, status_code in (("+16175550148", 404), ("12", 400)):
        assert (
            api(
                client,
                "POST",
                f"/api/leads/{lead.id}/conversations",
                {"number": number},
            )[0]
            == status_code
        )
    status, answer = api(
        client, "POST", f"/api/leads/{lead.id}/contacts", {"last_name": "", "role": "x"}
    )
    assert status == 400 and answer["error"]["reason"] == "Enter the contact's name."


@pytest.mark.django_db(transaction=True)
async def test_creating_a_lead_over_the_socket_reaches_those_who_see_it(
    layer, org, sender, make_agent, authorized
):
    alice = await db(make_agent)("alice", access="all", first_name="Alice")
    una = await db(make_agent)("una", access="unassigned")
    bob = await db(make_agent)("bob", access="mine")
    await db(authorized)(NIA)
    alices, unas, bobs = [await connect(a) for a in (alice, una, bob)]
    client_id = str(uuid.uuid4())
    await alices.send(
        type="lead.create",
        client_id=client_id,
        first_name="Nia",
        last_name="Long",
        number=NIA,
        body="Hi Nia!",
    )
    ack = await alices.until("ack", client_id=client_id)
    result = ack["result"]
    assert ack["of"] == "lead.create" and result["send_error"] is None
    lead_id = result["lead"]["id"]
    created = await unas.until("lead.created")
    assert created["lead"]["id"] == lead_id and created["lead"]["assignee"] is None
    assert (await unas.until("buckets.changed"))["buckets"]["unassigned"] == 1
    # Alice's text claims it at once: it leaves Una's Unassigned bucket.
    claimed = await unas.until("lead.updated")
    assert claimed["lead"]["assignee"] == alice.id
    assert (await unas.until("buckets.changed"))["buckets"]["unassigned"] == 0
    assert (await alices.until("message.created"))["message"]["id"] == result[
        "message"
    ]["id"]
    # Bob sees none of it.
    await bobs.quiet()
    for console in (alices, unas, bobs):
        await console.close()


@pytest.mark.django_db
def test_a_number_already_on_a_lead_offers_that_lead_instead(
    org, sender, alice, make_agent
):
    dana = make_lead(org, "Dana Whitfield", number="+15035550112")
    request = {"first_name": "Dana", "number": "503.555.0112"}
    status, answer = api(login(alice), "POST", "/api/leads", request)
    assert status == 409 and answer["error"]["code"] == "duplicate"
    assert "+1 503-555-0112 is already on Dana Whitfield" in answer["error"]["reason"]
    [offered] = answer["error"]["details"]["leads"]
    assert (offered["id"], offered["number"]) == (dana.id, "+15035550112")
    assert Lead.objects.count() == 1
    # On purpose (a repeat customer's new roof), a second lead is made.
    status, answer = api(
        login(alice), "POST", "/api/leads", {**request, "allow_duplicate": True}
    )
    assert status == 201 and Lead.objects.count() == 2
    # A lead the agent may not see is not named, nor its id given.
    bob = make_agent("bob", access="mine")
    status, answer = api(login(bob), "POST", "/api/leads", request)
    assert status == 409 and answer["error"]["code"] == "duplicate"
    assert "a lead you cannot see" in answer["error"]["reason"]
    assert "Dana" not in json.dumps(answer) and "details" not in answer["error"]
    assert Lead.objects.count() == 2


@pytest.mark.django_db
def test_email_source_and_the_teams_region_are_kept(org, sender, alice):
    status, created = api(
        login(alice),
        "POST",
        "/api/leads",
        {
            "first_name": "Nia",
            "number": "+1 503 555 0113",
            "email": " nia@example.com ",
            "source": "Door knocking",
        },
    )
    assert status == 201, created
    lead = Lead.objects.get(pk=created["lead"]["id"])
    assert created["lead"]["source"] == lead.source == "Door knocking"
    assert lead.contacts.get().email == "nia@example.com"
    status, detail = api(login(alice), "GET", f"/api/leads/{lead.id}")
    assert detail["lead"]["contacts"][0]["email"] == "nia@example.com"
    # A landline cannot take texts; read in Britain, a British mobile can.
    for number, reason in (
        ("+44 20 7946 0958", "+44 20 7946 0958 is a landline"),
        ("07700 900 123", "has too many digits for a number in US"),
    ):
        status, answer = api(
            login(alice), "POST", "/api/leads", {"first_name": "Ian", "number": number}
        )
        assert status == 400 and reason in answer["error"]["reason"], answer
    org.region = "GB"
    org.save()
    status, answer = api(
        login(alice),
        "POST",
        "/api/leads",
        {"first_name": "Ian", "number": "020 7946 0958"},
    )
    assert "is a landline" in answer["error"]["reason"]  # read in Britain now


@pytest.mark.django_db
def test_a_contact_is_named_edited_and_the_lead_named_after_them(
    org, sender, alice, make_agent, text_in
):
    inbound = text_in("Hi, roof question", from_number="+15035550120")
    lead = inbound.conversation.lead
    contact = lead.contacts.get()
    assert lead.name == "+1 503-555-0120" and contact.name == "(no name)"
    path = f"/api/leads/{lead.id}/contacts/{contact.id}"
    status, answer = api(
        login(alice),
        "POST",
        path,
        {"first_name": "Jordan", "last_name": "Reyes", "email": "jordan@example.com"},
    )
    assert status == 200, answer
    assert answer["contact"]["name"] == "Jordan Reyes"
    assert answer["contact"]["role"] == "homeowner"
    lead.refresh_from_db()
    assert lead.name == "Jordan Reyes"  # it was called by its number
    # Fields left out stay; a named lead keeps its own name.
    lead.name = "Reyes · storm damage"
    lead.save()
    status, answer = api(login(alice), "POST", path, {"role": "adjuster"})
    assert answer["contact"]["name"] == "Jordan Reyes"
    assert answer["contact"]["role"] == "adjuster"
    assert answer["contact"]["email"] == "jordan@example.com"
    api(login(alice), "POST", path, {"first_name": "Jo"})
    lead.refresh_from_db()
    assert lead.name == "Reyes · storm damage"
    # Bad input is refused with the reason, and changes nothing.
    for body, reason in (
        ({"first_name": "", "last_name": ""}, "Enter the contact's name."),
        ({"role": "borrowr"}, "Unknown role"),
        ({"email": "jo@"}, "not an email address"),
        ({"first_name": 7}, "'first_name' must be text."),
    ):
        status, answer = api(login(alice), "POST", path, body)
        assert status == 400 and reason in answer["error"]["reason"], answer
    contact.refresh_from_db()
    assert (contact.first_name, contact.role) == ("Jo", "adjuster")
    # A read-only partner may not; another lead's contact is not found.
    partner = make_agent("partner", external=True)
    actions.share_lead(lead, partner, alice)
    status, answer = api(login(partner), "POST", path, {"first_name": "X"})
    assert status == 403
    other = make_lead(org, "Other Lead")
    status, answer = api(
        login(alice), "POST", f"/api/leads/{other.id}/contacts/{contact.id}", {}
    )
    assert status == 404

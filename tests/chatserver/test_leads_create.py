"""Creating a lead and texting it in one step; more contacts and numbers, and
texting any of them."""

import uuid

import pytest

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

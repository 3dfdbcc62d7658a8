"""Organisations never see each other's anything: another organisation's
lead, conversation and agent ids, guessed in the API or the socket, are
"not found" and never data; and nothing of theirs reaches a socket."""

import json
import uuid

import pytest

from chatserver import actions
from chatserver.models import MessageCategory, Note, Template
from tests.chatserver.leads_support import api, drain, login, make_lead
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401
    connect,
    db,
)

SECRET = "Whitfield"  # appears in everything of the first organisation


@pytest.fixture
def two_orgs(org, sender, make_agent, text_in):
    alice = make_agent("alice", access="all", first_name="Alice")
    conversation = text_in(f"Hi, Dana {SECRET} here").conversation
    lead = conversation.lead
    lead.name = f"Dana {SECRET}"
    lead.save()
    actions.add_note(alice, lead, f"{SECRET} prefers mornings")
    category = MessageCategory.objects.create(organisation=org, name="Quote")
    Template.objects.create(organisation=org, name="Hi", body="Hi {lead.first_name}")
    rival = actions.add_organisation("Rival Roofing")
    actions.add_number("+12125550100", "simulator", rival)
    mallory = make_agent("mallory", access="all", organisation=rival, admin=True)
    own = make_lead(rival, "Mona Rival")
    return alice, lead, conversation, category, mallory, own


@pytest.mark.django_db
def test_another_organisations_ids_are_not_found_through_the_api(two_orgs):
    alice, lead, conversation, category, mallory, own = two_orgs
    client = login(mallory)
    probes = [
        ("GET", f"/api/leads/{lead.id}", None),
        ("GET", f"/api/leads/{lead.id}/notes", None),
        ("POST", f"/api/leads/{lead.id}/notes", {"body": "hi"}),
        ("POST", f"/api/leads/{lead.id}/assign", {"agent": mallory.id}),
        ("POST", f"/api/leads/{lead.id}/close", {}),
        ("POST", f"/api/leads/{lead.id}/reopen", {}),
        ("POST", f"/api/leads/{lead.id}/share", {"agent": mallory.id}),
        ("POST", f"/api/leads/{lead.id}/contacts", {"first_name": "X"}),
        ("POST", f"/api/leads/{lead.id}/conversations", {"number": "+14155550111"}),
        ("POST", f"/api/conversations/{conversation.id}/close", {}),
        ("POST", f"/api/conversations/{conversation.id}/reopen", {}),
        ("GET", "/api/templates", {"lead": lead.id}),
        ("GET", "/api/templates", {"conversation": conversation.id}),
        # Their agents are not ours to assign or share with.
        ("POST", f"/api/leads/{own.id}/assign", {"agent": alice.id}),
        ("POST", f"/api/leads/{own.id}/share", {"agent": alice.id}),
        # Nor their categories ours to file a text under.
        (
            "POST",
            "/api/leads",
            {
                "first_name": "Ned",
                "number": "+12125550142",
                "category": category.id,
                "body": "Hi Ned",
                "assignee": mallory.id,
            },
        ),
    ]
    for method, path, data in probes:
        response_status, answer = api(client, method, path, data)
        assert response_status == 404, (path, answer)
        assert answer["error"]["code"] == "not_found"
        assert SECRET not in json.dumps(answer)
    # Lists, search, agents and reports hold only their own.
    for path, data in [
        ("/api/leads", None),
        ("/api/search", {"q": SECRET}),
        ("/api/search", {"q": "Dana"}),
        ("/api/agents", None),
        ("/api/reports/engagements", None),
        ("/api/templates", None),
    ]:
        response_status, answer = api(client, "GET", path, data)
        assert response_status == 200
        text = json.dumps({k: v for k, v in answer.items() if k != "q"})
        assert SECRET not in text and "alice" not in text and '"Hi {lead' not in text
    assert api(client, "GET", "/api/search", {"q": SECRET})[1]["leads"] == []
    # Nothing changed on the first organisation's side.
    lead.refresh_from_db()
    assert lead.assignee is None and lead.status == "open"
    assert Note.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db(transaction=True)
async def test_another_organisations_ids_are_not_found_over_the_socket(layer, two_orgs):
    alice, lead, conversation, category, mallory, own = two_orgs
    mallorys = await connect(mallory)
    assert SECRET not in json.dumps(mallorys.hello)
    probes = [
        {"type": "lead.assign", "lead": lead.id, "agent": mallory.id},
        {"type": "lead.assign", "lead": own.id, "agent": alice.id},
        {"type": "lead.close", "lead": lead.id},
        {"type": "lead.reopen", "lead": lead.id},
        {"type": "lead.share", "lead": own.id, "agent": alice.id},
        {"type": "note.add", "lead": lead.id, "body": "hello"},
        {"type": "conversation.close", "conversation": conversation.id},
        {"type": "lead.open_conversation", "lead": lead.id, "number": "+14155550111"},
        {
            "type": "message.send",
            "conversation": conversation.id,
            "body": "hello",
            "client_id": str(uuid.uuid4()),
        },
    ]
    for number, probe in enumerate(probes):
        await mallorys.send(**{"client_id": f"p{number}", **probe})
        error = await mallorys.until("error")
        assert error["code"] == "not_found", (probe, error)
        assert SECRET not in json.dumps(error)

    # Their activity reaches none of our sockets.
    alices = await connect(alice)

    def activity():
        actions.add_note(alice, lead, f"Called {SECRET}")
        actions.assign_lead(lead, alice, actor=alice)
        actions.close_lead(lead, alice)

    await db(activity)()
    assert len([f for f in await drain(alices) if f.get("cursor")]) >= 3
    assert await drain(mallorys) == []
    for console in (alices, mallorys):
        await console.close()


@pytest.mark.django_db
def test_a_hidden_lead_of_the_same_organisation_is_not_found_like_a_missing_one(
    org, sender, make_agent
):
    owner = make_agent("owner", access="mine")
    peeker = make_agent("peeker", access="mine")
    lead = make_lead(org, "Paula Private", assignee=owner)
    client = login(peeker)
    hidden = api(client, "POST", f"/api/leads/{lead.id}/close", {})
    missing = api(client, "POST", "/api/leads/999999/close", {})
    assert (
        hidden
        == missing
        == (404, {"error": {"code": "not_found", "reason": "No such lead."}})
    )

"""Leads changing hands live: assignment over the socket and the API, the
previous assignee's chatbox greying, bucket counts, claiming by replying,
closing, notes, and the assignee's email."""

import uuid

import pytest
from django.core import mail

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.actions.assignment import claim_lead
from chatserver.models import Lead, LeadClosure, Message
from tests.chatserver.leads_support import (
    api,
    drain,
    lead_id_of,
    login,
    make_lead,
    number_of,
)
from tests.chatserver.leads_support import (
    api as call,
)
from tests.conftest import SENDER_NUMBER
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401
    connect,
    db,
)


@pytest.fixture
def crew(org, sender, make_agent, authorized):
    """alice sees everything; bob and carol see their own leads; bob has one."""
    alice = make_agent(
        "alice", access="all", first_name="Alice", email="alice@example.com"
    )
    bob = make_agent("bob", access="mine", first_name="Bob", email="bob@example.com")
    carol = make_agent(
        "carol", access="mine", first_name="Carol", email="carol@example.com"
    )
    lead = make_lead(org, "Dana Whitfield", assignee=bob)
    authorized(number_of(lead))
    mail.outbox.clear()
    return alice, bob, carol, lead


def text_from(lead, body, sid=None):
    return actions.receive_inbound(
        InboundMessage(
            carrier="simulator",
            carrier_message_id=sid or f"SM{uuid.uuid4().hex}",
            from_number=number_of(lead),
            to_number=SENDER_NUMBER,
            body=body,
        )
    )


@pytest.mark.django_db(transaction=True)
async def test_reassigning_greys_the_previous_assignee_live_then_tells_them_nothing(
    layer, crew
):
    alice, bob, carol, lead = crew
    alices, bobs, carols = [await connect(a) for a in (alice, bob, carol)]
    assert bobs.hello["buckets"]["mine"] == 1 and carols.hello["buckets"]["mine"] == 0

    await alices.send(type="lead.assign", lead=lead.id, agent=carol.id, client_id="a1")
    ack = await alices.until("ack", client_id="a1")
    assert ack["of"] == "lead.assign" and ack["result"]["lead"]["assignee"] == carol.id

    # Bob hears that the lead left him: his chatbox greys out, his Mine shrinks.
    update = await bobs.until("lead.updated")
    assert update["lead"]["id"] == lead.id
    assert (update["change"], update["previous_assignee"]) == ("assigned", bob.id)
    assert (update["lead"]["assignee"], update["lead"]["assignee_name"]) == (
        carol.id,
        "Carol",
    )
    assert bob.id not in update["audience"]["agents"]
    assert "mine" not in update["audience"]["access"]
    counts = await bobs.until("buckets.changed")
    assert counts["buckets"]["mine"] == 0
    # Carol gains it, live.
    assert (await carols.until("lead.updated"))["lead"]["assignee"] == carol.id
    assert (await carols.until("buckets.changed"))["buckets"]["mine"] == 1
    # Alice (all leads) sees it move from Assigned (to Bob) to Assigned (to Carol).
    assert (await alices.until("lead.updated"))["by"] == alice.id

    # From now on Bob gets nothing about the lead; Carol and Alice do.
    message = await db(text_from)(lead, "Is Thursday still fine?")
    for console in (carols, alices):
        created = await console.until("message.created")
        assert created["message"]["id"] == message.id and created["lead"] == lead.id
    await db(actions.add_note)(alice, lead, "Carol takes over")
    await carols.until("note.created")
    frames = await drain(bobs)
    assert not [f for f in frames if lead_id_of(f) == lead.id], frames
    # And he cannot text it any more.
    status, answer = await db(lambda: api(login(bob), "GET", f"/api/leads/{lead.id}"))()
    assert status == 404
    for console in (alices, bobs, carols):
        await console.close()


@pytest.mark.django_db(transaction=True)
async def test_an_agent_who_still_sees_a_reassigned_lead_gets_its_chatbox_greyed(
    layer, org, sender, make_agent
):
    dave = await db(make_agent)("dave", access="all", first_name="Dave")
    erin = await db(make_agent)("erin", access="all", first_name="Erin")
    lead = await db(make_lead)(org, "Frank Ocean", assignee=dave)
    daves = await connect(dave)
    status, detail = await db(
        lambda: api(login(dave), "GET", f"/api/leads/{lead.id}")
    )()
    assert detail["lead"]["cannot_text"] is None

    status, _ = await db(
        lambda: api(
            login(erin), "POST", f"/api/leads/{lead.id}/assign", {"agent": erin.id}
        )
    )()
    assert status == 200
    update = await daves.until("lead.updated")
    assert update["lead"]["assignee"] == erin.id  # the console greys the box...
    status, detail = await db(
        lambda: api(login(dave), "GET", f"/api/leads/{lead.id}")
    )()
    assert detail["lead"]["cannot_text"] == "This lead is assigned to Erin."  # ...why
    assert (await daves.until("buckets.changed"))["buckets"] == {
        "unassigned": 0,
        "mine": 0,
        "assigned": 1,
        "closed": 0,
    }
    await daves.close()


@pytest.mark.django_db(transaction=True)
async def test_replying_to_an_unassigned_lead_claims_it_live_for_everyone(
    layer, org, sender, make_agent, text_in
):
    alice = await db(make_agent)("alice", access="all", first_name="Alice")
    una = await db(make_agent)("una", access="unassigned", first_name="Una")
    inbound = await db(text_in)("Hi, do you do gutters?")
    conversation = inbound.conversation
    alices, unas = await connect(alice), await connect(una)
    assert unas.hello["buckets"]["unassigned"] == 1

    await alices.send(
        type="message.send",
        client_id=str(uuid.uuid4()),
        conversation=conversation.id,
        body="We do! When can we come by?",
    )
    update = await unas.until("lead.updated")
    assert update["lead"]["assignee"] == alice.id and update["reason"] == "replied"
    assert (await unas.until("buckets.changed"))["buckets"]["unassigned"] == 0
    assert (await alices.until("buckets.changed"))["buckets"]["mine"] == 1
    # Una no longer sees it (an "unassigned" agent): she cannot text it either.
    await unas.send(
        type="message.send",
        client_id=str(uuid.uuid4()),
        conversation=conversation.id,
        body="Me too",
    )
    assert (await unas.until("error"))["code"] == "not_found"
    assert mail.outbox == []  # nobody is emailed about taking a lead themselves
    for console in (alices, unas):
        await console.close()


@pytest.mark.django_db
def test_two_agents_replying_at_once_to_an_unassigned_lead_one_gets_it(
    org, sender, make_agent, text_in
):
    alice = make_agent("alice", access="all", first_name="Alice")
    bert = make_agent("bert", access="all", first_name="Bert")
    conversation = text_in("Hello?").conversation
    stale = Lead.objects.get(pk=conversation.lead_id)  # Bert's view, still free
    actions.send_message(alice, conversation, "Hi, Alice here", uuid.uuid4())
    with pytest.raises(actions.ActionError, match="assigned to Alice"):
        actions.send_message(bert, conversation, "Hi, Bert here", uuid.uuid4())
    # Even from a view read before Alice's reply, the claim sees she has it.
    with pytest.raises(actions.ActionError, match="Alice took this lead"):
        claim_lead(stale, bert)
    assert Lead.objects.get(pk=stale.pk).assignee == alice
    assert not Message.objects.filter(author=bert).exists()


@pytest.mark.django_db
def test_the_new_assignee_gets_an_email_and_nobody_else_does(
    crew, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = "https://chat.example.com"
    alice, bob, carol, lead = crew
    client = login(alice)

    def api(*args):  # the email goes once the assignment is committed
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args)

    status, answer = api(
        client, "POST", f"/api/leads/{lead.id}/assign", {"agent": carol.id}
    )
    assert status == 200 and answer["lead"]["assignee"] == carol.id
    [email] = mail.outbox
    assert email.to == ["carol@example.com"]
    assert "Dana Whitfield" in email.subject
    assert "assigned to you by Alice" in email.body
    assert f"https://chat.example.com/?lead={lead.id}\n" in email.body
    # The same assignment again changes nothing and sends nothing.
    api(client, "POST", f"/api/leads/{lead.id}/assign", {"agent": carol.id})
    assert len(mail.outbox) == 1
    # Unassigning emails nobody; taking a lead oneself neither.
    api(client, "POST", f"/api/leads/{lead.id}/assign", {"agent": None})
    api(client, "POST", f"/api/leads/{lead.id}/assign", {"agent": alice.id})
    assert len(mail.outbox) == 1
    assert Lead.objects.get(pk=lead.pk).assignee == alice


@pytest.mark.django_db
def test_assignment_refuses_bad_input_clearly_and_changes_nothing(
    crew, org, make_agent, django_capture_on_commit_callbacks
):
    from chatserver.actions import add_organisation

    alice, bob, carol, lead = crew
    client = login(alice)
    gone = make_agent("gone", access="mine")
    gone.user.is_active = False
    gone.user.save()
    outsider = make_agent("outsider", organisation=add_organisation("Rival Roofing"))
    cases = [
        ({"agent": "bob"}, 400, "'agent' must be an id or null."),
        ({"agent": True}, 400, "'agent' must be an id or null."),
        ({}, 400, "'agent' is missing."),
        ({"agent": outsider.id}, 404, "No such agent."),
        ({"agent": 987654}, 404, "No such agent."),
        ({"agent": gone.id}, 409, "deactivated"),
    ]
    for body, status, reason in cases:
        with django_capture_on_commit_callbacks(execute=True):
            got, answer = api(client, "POST", f"/api/leads/{lead.id}/assign", body)
        assert got == status and reason in answer["error"]["reason"], (body, answer)
    response = client.post(
        f"/api/leads/{lead.id}/assign", "not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert Lead.objects.get(pk=lead.pk).assignee == bob
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
async def test_closing_and_reopening_live_counts_engagements_for_the_assignee(
    layer, crew
):
    alice, bob, carol, lead = crew
    bobs, alices = await connect(bob), await connect(alice)
    await bobs.send(type="lead.close", lead=lead.id, client_id="c1")
    ack = await bobs.until("ack", client_id="c1")
    assert ack["result"]["lead"]["status"] == "closed"
    for console in (bobs, alices):
        update = await console.until("lead.updated", change="closed")
        assert update["by"] == bob.id and update["lead"]["closed_at"]
    assert (await bobs.until("buckets.changed"))["buckets"]["closed"] == 1
    # Closing again changes nothing (and counts once).
    await bobs.send(type="lead.close", lead=lead.id, client_id="c2")
    await bobs.until("ack", client_id="c2")
    await bobs.send(type="lead.reopen", lead=lead.id, client_id="r1")
    await alices.until("lead.updated", change="reopened")
    assert (await bobs.until("buckets.changed"))["buckets"] == {
        "unassigned": 0,
        "mine": 1,
        "assigned": 0,
        "closed": 0,
    }
    await bobs.send(type="lead.close", lead=lead.id, client_id="c3")
    await alices.until("lead.updated", change="closed")

    # One conversation closed on its own counts as an engagement too.
    conversation = await db(lambda: text_from(lead, "one more thing").conversation)()
    await alices.until("lead.updated", change="reopened")  # a lead who texts reopens
    await alices.send(type="conversation.close", conversation=conversation.id)
    closed = await bobs.until("conversation.updated")
    assert closed["lead"] == lead.id and closed["conversation"]["status"] == "closed"
    assert closed["by"] == alice.id

    def tallies():
        return sorted(
            LeadClosure.objects.values_list("agent__user__username", "conversation"),
            key=lambda row: (row[0], row[1] or 0),
        )

    # Alice closed the conversation of Bob's lead: it counts for Bob.
    assert await db(tallies)() == [("bob", None), ("bob", conversation.id)]
    for console in (alices, bobs):
        await console.close()


@pytest.mark.django_db
def test_admins_see_the_teams_engagements_and_agents_their_own(crew, make_agent, org):
    alice, bob, carol, lead = crew
    boss = make_agent("boss", access="all", admin=True)
    other = make_lead(org, "Gina Rae", assignee=carol)
    actions.close_lead(lead, bob)
    actions.close_lead(other, carol)
    actions.reopen_lead(other, carol)
    actions.close_lead(other, carol)  # the same lead again: still one engagement
    third = make_lead(org, "Hal Low", assignee=carol)
    actions.close_lead(third, alice)  # counts for carol, whose lead it is
    nobodys = make_lead(org, "Ida Nobody")
    actions.close_lead(nobodys, alice)  # nobody has it: counts for alice

    status, report = api(login(boss), "GET", "/api/reports/engagements")
    assert status == 200
    closed = {row["username"]: row["engagements_closed"] for row in report["agents"]}
    assert closed == {"alice": 1, "bob": 1, "boss": 0, "carol": 2}
    assert report["total"] == 4 and report["team"] is True
    status, report = api(
        login(boss), "GET", "/api/reports/engagements", {"month": "2001-02"}
    )
    assert report["month"] == "2001-02"
    assert all(row["engagements_closed"] == 0 for row in report["agents"])
    assert (
        api(login(boss), "GET", "/api/reports/engagements", {"month": "May"})[0] == 400
    )
    # Agents who are not admins see their own figure, not the team's.
    status, report = api(login(bob), "GET", "/api/reports/engagements")
    assert status == 200 and report["team"] is False
    assert [(r["username"], r["engagements_closed"]) for r in report["agents"]] == [
        ("bob", 1)
    ]

    # The Django admin lists the same figure per agent.
    from django.test import Client

    client = Client()
    client.force_login(boss.user)
    page = client.get("/admin/chatserver/agent/").content.decode()
    assert "Engagements closed this month" in page


@pytest.mark.django_db(transaction=True)
async def test_notes_reach_everyone_who_sees_the_lead_and_never_the_lead(
    layer, crew, org, make_agent
):
    alice, bob, carol, lead = crew
    partner = await db(make_agent)("partner", external=True)
    await db(actions.share_lead)(lead, partner, alice)
    consoles = {a.user.username: await connect(a) for a in (alice, bob, carol, partner)}
    client_id = str(uuid.uuid4())
    await consoles["bob"].send(
        type="note.add",
        lead=lead.id,
        body="  Prefers texts after 5pm  ",
        client_id=client_id,
    )
    ack = await consoles["bob"].until("ack", client_id=client_id)
    note = ack["result"]["note"]
    assert (note["body"], note["author"], note["author_name"]) == (
        "Prefers texts after 5pm",
        bob.id,
        "Bob",
    )
    for name in ("alice", "bob", "partner"):
        event = await consoles[name].until("note.created")
        assert event["lead"] == lead.id and event["note"]["id"] == note["id"]
    assert not [
        f for f in await drain(consoles["carol"]) if f["type"] == "note.created"
    ]
    # The same client id again adds nothing (a retry after a reconnect).
    await consoles["bob"].send(
        type="note.add",
        lead=lead.id,
        body="Prefers texts after 5pm",
        client_id=client_id,
    )
    again = await consoles["bob"].until("ack", client_id=client_id)
    assert again["result"]["note"]["id"] == note["id"]
    assert not [
        f for f in await drain(consoles["alice"]) if f["type"] == "note.created"
    ]
    # Bad input is refused clearly.
    await consoles["bob"].send(type="note.add", lead=lead.id, body="x", client_id="n-1")
    assert (await consoles["bob"].until("error"))[
        "reason"
    ] == "client_id must be a UUID."
    await consoles["alice"].send(type="note.add", lead=lead.id, body="Sent the quote")
    await consoles["alice"].until("ack")
    await consoles["alice"].send(type="note.add", lead=lead.id, body="   ")
    assert (await consoles["alice"].until("error"))["code"] == "empty"
    # Carol cannot note a lead she does not see: it does not exist for her.
    await consoles["carol"].send(type="note.add", lead=lead.id, body="Hi")
    assert (await consoles["carol"].until("error"))["code"] == "not_found"

    status, notes = await db(
        lambda: api(login(alice), "GET", f"/api/leads/{lead.id}/notes")
    )()
    assert [n["body"] for n in notes["notes"]] == [
        "Prefers texts after 5pm",
        "Sent the quote",
    ]
    # Notes are never texted.
    assert not await db(Message.objects.filter(direction="out").exists)()
    for console in consoles.values():
        await console.close()

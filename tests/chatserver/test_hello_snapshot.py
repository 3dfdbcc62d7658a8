"""A hello's shared part (chatserver.queries.snapshot): built once for the
hellos of agents with access All that read the same cursor, never when it
could show less than a fresh read."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from carriers.base import InboundMessage, MediaItem
from chatserver import actions
from chatserver.actions import attachments
from chatserver.models import Agent, Attachment, Event, Lead
from chatserver.queries import console, snapshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def builds(monkeypatch):
    """How many snapshots hellos built."""
    made = []
    real = console.build_snapshot

    def counting(agent, cursor):
        made.append(cursor)
        return real(agent, cursor)

    monkeypatch.setattr(console, "build_snapshot", counting)
    return made


def fresh(agent: Agent, settings) -> dict:
    """The agent's hello read without any shared part."""
    window = settings.HELLO_SHARE_SECONDS
    settings.HELLO_SHARE_SECONDS = 0
    try:
        return console.hello(agent)
    finally:
        settings.HELLO_SHARE_SECONDS = window


def test_agents_who_see_everything_share_one_build_and_get_their_own_buckets(
    alice, make_agent, text_in, builds, settings
):
    carol = make_agent("carol", first_name="Carol")
    for n in range(3):
        lead = text_in(f"Lead {n}").conversation.lead
        if n == 0:
            actions.assign_lead(lead, carol, actor=carol)
    closed = text_in("Closed one").conversation.lead
    actions.close_lead(closed, alice)

    alices, carols = console.hello(alice), console.hello(carol)

    assert len(builds) == 1
    assert alices["cursor"] == carols["cursor"]
    assert alices["conversations"] == carols["conversations"]
    assert alices["buckets"] == {"unassigned": 2, "mine": 0, "assigned": 1, "closed": 1}
    assert carols["buckets"] == {"unassigned": 2, "mine": 1, "assigned": 0, "closed": 1}
    assert alices == fresh(alice, settings)
    assert carols == fresh(carol, settings)


def test_a_new_event_makes_the_next_hello_read_afresh(alice, text_in, builds):
    text_in("First")
    before = console.hello(alice)
    text_in("Second", from_number="+14155550187")
    after = console.hello(alice)

    assert len(builds) == 2
    assert after["cursor"] > before["cursor"]
    assert len(after["conversations"]) == len(before["conversations"]) + 1
    assert after["conversations"][0]["last_message"]["body"] == "Second"


def test_an_event_committed_but_not_yet_numbered_is_never_missed(
    alice, text_in, builds
):
    """Between an event's commit and its numbering, the hello must read the
    state itself: the event may have been published before the socket joined."""
    text_in("First")
    console.hello(alice)
    lead = Lead.objects.get()
    with transaction.atomic():  # as an action's transaction commits...
        Lead.objects.filter(pk=lead.pk).update(name="Renamed")
        Event.objects.create(
            organisation_id=alice.organisation_id,
            lead_id=lead.pk,
            type="lead.updated",
            payload={},
        )
    # ...and before its flush numbered the event.
    hello = console.hello(alice)

    assert len(builds) == 2
    assert hello["conversations"][0]["lead_name"] == "Renamed"


def test_the_window_bounds_how_long_a_snapshot_serves(
    alice, text_in, builds, settings, monkeypatch
):
    text_in("First")
    clock = [1000.0]
    monkeypatch.setattr(snapshot.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(console.time, "monotonic", lambda: clock[0])
    console.hello(alice)
    clock[0] += settings.HELLO_SHARE_SECONDS / 2
    console.hello(alice)
    clock[0] += settings.HELLO_SHARE_SECONDS
    console.hello(alice)

    assert len(builds) == 2

    settings.HELLO_SHARE_SECONDS = 0
    console.hello(alice)
    console.hello(alice)
    assert len(builds) == 4


@pytest.mark.parametrize(
    "access", [Agent.Access.MINE, Agent.Access.UNASSIGNED, Agent.Access.ASSIGNED]
)
def test_agents_who_see_part_of_the_leads_read_their_own(
    alice, make_agent, text_in, builds, settings, access
):
    dave = make_agent("dave", access=access, first_name="Dave")
    first = text_in("Mine").conversation.lead
    actions.assign_lead(first, dave, actor=dave)
    text_in("Nobody's")
    console.hello(alice)

    hello = console.hello(dave)

    assert len(builds) == 1  # alice's only
    assert hello == fresh(dave, settings)


def test_an_agent_not_shown_images_gets_the_shared_list_without_their_urls(
    alice, make_agent, sender, settings
):
    from tests.mms.mms_support import png

    organisation = alice.organisation
    organisation.mms_enabled = True
    organisation.save()
    viewer, blind = make_agent("viewer"), make_agent("blind")
    Agent.objects.filter(pk=viewer.pk).update(display_images=True)
    Agent.objects.filter(pk=blind.pk).update(display_images=False)
    viewer.refresh_from_db()
    blind.refresh_from_db()
    actions.receive_inbound(
        InboundMessage(
            carrier="simulator",
            carrier_message_id="SMsnapshotphoto",
            from_number="+13035550171",
            to_number=sender.number,
            body="Photo",
            media=(MediaItem("simulator://media/" + "b" * 32, "image/png"),),
        )
    )
    attachments.accept(Attachment.objects.get(), png(), "image/png")

    seen, hidden = console.hello(viewer), console.hello(blind)

    shown = seen["conversations"][0]["last_message"]["attachments"][0]
    assert shown["url"]
    assert "url" not in hidden["conversations"][0]["last_message"]["attachments"][0]
    assert seen == fresh(viewer, settings)
    assert hidden == fresh(blind, settings)
    # As a socket sends them: the shared lists are made JSON once, not per hello.
    assert json.loads(snapshot.dumps(seen)) == seen
    assert json.loads(snapshot.dumps(hidden)) == hidden
    again = console.hello(viewer)
    snapshot.dumps(again)
    assert again["conversations"].__dict__["json"] is seen["conversations"].json

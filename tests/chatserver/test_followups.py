"""Follow-ups (issue 20): set on a lead from the chatbox, on the Outstanding
list of the lead's assignee once due, done by texting the lead or by hand,
snoozed, deleted, and moved with the lead; rights read when each runs.

The clock is a Tuesday morning in the lead's zone (a 415 number, Pacific).
"""

from __future__ import annotations

import datetime

import pytest
import time_machine

from chatserver import actions
from chatserver.actions import followups
from chatserver.commands import followups as commands
from chatserver.models import Event, FollowUp
from chatserver.queries import console
from chatserver.queries.followups import outstanding

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# Tuesday 3 March 2026, 10:00 in San Francisco.
MORNING = datetime.datetime(2026, 3, 3, 18, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(clock, text_in):
    return text_in(
        "Hi, a quote for the roof?", from_number="+14155550131"
    ).conversation.lead


def followup_events(change=None):
    rows = Event.objects.filter(type__startswith="followup.").order_by("id")
    return [e.payload for e in rows if change is None or e.payload["change"] == change]


def test_a_follow_up_lands_on_the_assignees_list_and_is_due_at_its_time(
    clock, lead, alice, bob
):
    actions.assign_lead(lead, bob, actor=alice)
    followup = followups.set_followup(
        alice, lead, MORNING + 2 * DAY, "Ask about the quote"
    )
    assert followup.assignee == bob and followup.created_by == alice
    # On Bob's list (the hello carries it; the console shows it when due)...
    listed = console.hello(bob)["followups"]
    assert [f["id"] for f in listed] == [followup.id]
    assert listed[0]["due"] == (MORNING + 2 * DAY).isoformat()
    assert listed[0]["note"] == "Ask about the quote"
    # ... not on Alice's, who set it for him.
    assert outstanding(alice) == []
    [event] = followup_events("created")
    assert event["followup"]["id"] == followup.id


def test_on_an_unassigned_lead_it_is_the_setters(clock, lead, alice):
    followup = followups.set_followup(alice, lead, MORNING + DAY)
    assert followup.assignee == alice
    assert [f["id"] for f in outstanding(alice)] == [followup.id]


def test_newest_due_first(clock, lead, alice):
    later = followups.set_followup(alice, lead, MORNING + 3 * DAY, "later")
    sooner = followups.set_followup(alice, lead, MORNING + DAY, "sooner")
    assert [f["id"] for f in outstanding(alice)] == [later.id, sooner.id]


def test_texting_the_lead_does_the_due_follow_ups_and_not_the_later_ones(
    clock, lead, alice, make_agent
):
    carol = make_agent("carol", access="all")
    due = followups.set_followup(alice, lead, MORNING + HOUR, "due in an hour")
    later = followups.set_followup(alice, lead, MORNING + 3 * DAY, "in three days")
    clock.shift(2 * HOUR)
    conversation = lead.conversations.get()
    # Any agent's text does it (Carol texts; the lead is nobody's until then).
    actions.send_message(carol, conversation, "Hi! Following up on the quote.")
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.done_at is not None and due.done_by == carol
    assert later.done_at is None
    assert [e["followup"]["id"] for e in followup_events("done")] == [due.id]


def test_mark_done_snooze_and_delete(clock, lead, alice):
    followup = followups.set_followup(alice, lead, MORNING + HOUR)
    snoozed = followups.snooze(alice, followup, MORNING + 5 * HOUR)
    assert snoozed.due_time == MORNING + 5 * HOUR
    assert outstanding(alice)[0]["due"] == (MORNING + 5 * HOUR).isoformat()
    done = followups.mark_done(alice, followup)
    assert done.done_at == MORNING
    # Done twice is once; a done one cannot be snoozed.
    assert followups.mark_done(alice, followup).done_at == MORNING
    assert len(followup_events("done")) == 1
    with pytest.raises(actions.ActionError):
        followups.snooze(alice, followup, MORNING + DAY)
    other = followups.set_followup(alice, lead, MORNING + DAY)
    followups.delete(alice, other)
    assert not FollowUp.objects.filter(pk=other.pk).exists()
    assert outstanding(alice) == []
    assert [e["change"] for e in followup_events()] == [
        "created", "snoozed", "done", "created", "deleted",
    ]  # fmt: skip


def test_the_same_client_id_sets_one_follow_up(clock, lead, alice):
    client_id = "6f1c2b8e-6c1e-4f9a-8f5e-0d9c3b1a2e44"
    first = commands.set_followup(
        alice,
        {
            "lead": lead.id,
            "due_at": "2026-03-05T10:00:00-08:00",
            "client_id": client_id,
        },
    )
    again = commands.set_followup(
        alice,
        {
            "lead": lead.id,
            "due_at": "2026-03-05T10:00:00-08:00",
            "client_id": client_id,
        },
    )
    assert first == again and FollowUp.objects.count() == 1
    assert first["followup"]["due_at"] == "2026-03-05T18:00:00+00:00"


@pytest.mark.parametrize(
    "due_at, reason",
    [
        ("2026-03-02T10:00:00-08:00", "has passed"),
        ("2026-03-05T10:00:00", "time zone"),
        ("next monday", "must be a time"),
        ("2028-03-05T10:00:00Z", "more than a year"),
        (5, "not a time"),
    ],
)
def test_a_bad_time_is_refused_and_stores_nothing(clock, lead, alice, due_at, reason):
    with pytest.raises(actions.ActionError) as refused:
        commands.set_followup(alice, {"lead": lead.id, "due_at": due_at})
    assert refused.value.code == "invalid" and reason in refused.value.reason
    assert FollowUp.objects.count() == 0 and followup_events() == []


def test_rights_are_read_when_it_runs(clock, lead, alice, bob, make_agent):
    """Bob (his own leads) cannot see an unassigned lead: not found; an
    external user sees a shared lead read-only: forbidden."""
    data = {"lead": lead.id, "due_at": "2026-03-05T10:00:00-08:00"}
    with pytest.raises(actions.ActionError) as refused:
        commands.set_followup(bob, data)
    assert refused.value.code == "not_found"
    followup = followups.set_followup(alice, lead, MORNING + DAY)
    with pytest.raises(actions.ActionError) as refused:
        commands.done(bob, {"followup": followup.id})
    assert refused.value.code == "not_found"
    partner = make_agent("pat", external=True)
    actions.share_lead(lead, partner, actor=alice)
    with pytest.raises(actions.ActionError) as refused:
        commands.done(partner, {"followup": followup.id})
    assert refused.value.code == "forbidden"
    followup.refresh_from_db()
    assert followup.done_at is None


def test_assigning_the_lead_moves_its_pending_follow_ups(clock, lead, alice, bob):
    followup = followups.set_followup(alice, lead, MORNING + DAY, "call back")
    done = followups.set_followup(alice, lead, MORNING + HOUR)
    followups.mark_done(alice, done)
    actions.assign_lead(lead, bob, actor=alice)
    followup.refresh_from_db()
    done.refresh_from_db()
    assert followup.assignee == bob and done.assignee == alice
    assert [f["id"] for f in outstanding(bob)] == [followup.id]
    assert outstanding(alice) == []
    [moved] = followup_events("moved")
    assert moved["followup"]["assignee"] == bob.id
    # Unassigning leaves them with Bob, who no longer sees the lead (his
    # own leads only): on nobody's list until it is his again.
    actions.assign_lead(lead, None, actor=alice)
    assert outstanding(bob) == []
    actions.assign_lead(lead, bob, actor=alice)
    assert [f["id"] for f in outstanding(bob)] == [followup.id]


def test_the_api_sets_snoozes_and_marks_done(clock, lead, alice, bob):
    from tests.chatserver.leads_support import api, login

    client = login(alice)
    status, body = api(
        client,
        "POST",
        f"/api/leads/{lead.id}/followups",
        {"due_at": "2026-03-03T11:00:00-08:00", "note": "Quote"},
    )
    assert status == 201, body
    followup_id = body["followup"]["id"]
    status, body = api(
        client,
        "POST",
        f"/api/followups/{followup_id}/snooze",
        {"until": "2026-03-04T09:00:00-08:00"},
    )
    assert status == 200 and body["followup"]["due"] == "2026-03-04T17:00:00+00:00"
    status, body = api(client, "POST", f"/api/followups/{followup_id}/done")
    assert status == 200 and body["followup"]["done_at"] == MORNING.isoformat()
    status, body = api(login(bob), "DELETE", f"/api/followups/{followup_id}")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = api(
        client, "POST", f"/api/leads/{lead.id}/followups", {"due_at": "soon"}
    )
    assert status == 400

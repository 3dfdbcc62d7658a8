"""Follow-up workflows (issue 20): admins define them; a lead is enrolled
by hand or when it is created from a workflow's source; automatic steps are
scheduled texts released through every check a send has then, manual steps
follow-ups on the assignee's list; the lead's reply, an opt-out or closing
the lead stops the automatic steps.

The clock is a Tuesday morning in the lead's zone (a 415 number, Pacific).
"""

from __future__ import annotations

import datetime

import pytest
import time_machine

from chatserver import actions
from chatserver.actions import scheduled
from chatserver.commands import followups as commands
from chatserver.models import Enrollment, Event, FollowUp, Message, Template
from chatserver.queries.followups import outstanding
from tests.chatserver.consent_support import inbound

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MORNING = datetime.datetime(2026, 3, 3, 18, 0, tzinfo=UTC)  # 10:00 Pacific
DAY = datetime.timedelta(days=1)
NUMBER = "+14155550141"


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin(make_agent):
    return make_agent("ada", access="all", admin=True, first_name="Ada")


@pytest.fixture
def three_steps(org, admin):
    """Day 0 a text, day 2 a reminder to call, day 5 a text."""
    hello = Template.objects.create(
        organisation=org,
        name="Hello",
        body="Hi {lead.first_name}, it's {agent.first_name}.",
    )
    again = Template.objects.create(
        organisation=org, name="Again", body="Still thinking about the roof?"
    )
    result = commands.save_workflow(
        admin,
        {
            "name": "New roof leads",
            "steps": [
                {"kind": "text", "delay_days": 0, "template": hello.id},
                {"kind": "call", "delay_days": 2, "note": "Call about the quote"},
                {"kind": "text", "delay_days": 5, "template": again.id},
            ],
        },
    )
    return result["workflow"]


@pytest.fixture
def conversation(clock, text_in, admin):
    """A lead who texted first (consent given), named Dana, Ada's."""
    conversation = text_in("Hi, a quote please", from_number=NUMBER).conversation
    contact = conversation.contact_number.contact
    actions.update_contact(admin, conversation.lead, contact, first_name="Dana")
    actions.assign_lead(conversation.lead, admin, actor=admin)
    return conversation


def texts(conversation):
    return list(
        Message.objects.filter(conversation=conversation, direction="out").order_by(
            "id"
        )
    )


def attach(agent, conversation, workflow):
    return commands.attach_workflow(
        agent, {"conversation": conversation.id, "workflow": workflow["id"]}
    )["enrollment"]


def test_attaching_lays_out_the_steps(clock, conversation, admin, three_steps):
    enrollment = attach(admin, conversation, three_steps)
    assert enrollment["stopped_at"] is None
    first, last = texts(conversation)
    assert (first.status, first.send_after) == ("scheduled", MORNING)
    assert first.body.endswith("Hi Dana, it's Ada.")  # after the intro
    assert first.author is None  # the workflow texts for the team
    assert (last.status, last.send_after) == ("scheduled", MORNING + 5 * DAY)
    [call] = FollowUp.objects.all()
    assert (call.kind, call.note, call.due_at) == (
        "call", "Call about the quote", MORNING + 2 * DAY
    )  # fmt: skip
    assert call.assignee == admin
    assert [f["id"] for f in outstanding(admin)] == [call.id]
    # Twice at once: refused, nothing more laid out.
    with pytest.raises(actions.ActionError) as refused:
        attach(admin, conversation, three_steps)
    assert refused.value.code == "already_enrolled"
    assert len(texts(conversation)) == 2 and FollowUp.objects.count() == 1


def test_automatic_texts_go_at_their_time_through_the_release(
    clock, conversation, admin, three_steps
):
    attach(admin, conversation, three_steps)
    assert scheduled.release_scheduled() == 1
    first, last = texts(conversation)
    first.refresh_from_db()
    assert first.status == "queued" and last.status == "scheduled"
    clock.shift(5 * DAY)  # Sunday 8 March, 10:00 Pacific (after DST began)
    assert scheduled.release_scheduled() == 1
    last.refresh_from_db()
    assert last.status == "queued"


def test_the_leads_reply_stops_the_automatic_steps(
    clock, conversation, admin, three_steps, sender
):
    attach(admin, conversation, three_steps)
    scheduled.release_scheduled()
    clock.shift(DAY)
    inbound(sender, NUMBER, "Thanks, tell me more")
    first, last = texts(conversation)
    last.refresh_from_db()
    assert first.status == "queued"  # gone before the reply: untouched
    assert (last.status, last.error_code) == ("failed", "workflow_stopped")
    assert "the lead replied" in last.error_reason
    enrollment = Enrollment.objects.get()
    assert enrollment.stopped_at == MORNING + DAY
    assert enrollment.stop_reason == "the lead replied"
    # The manual step stays on the list: an agent decides about it.
    assert FollowUp.objects.get().done_at is None
    stopped = Event.objects.filter(type="enrollment.updated").order_by("id").last()
    assert stopped.payload["change"] == "stopped"
    # Nothing more is released, ever.
    clock.shift(6 * DAY)
    assert scheduled.release_scheduled() == 0


def test_an_opt_out_stops_it(clock, conversation, admin, three_steps, sender):
    attach(admin, conversation, three_steps)
    inbound(sender, NUMBER, "STOP")
    assert {m.status for m in texts(conversation) if m.kind == "text"} == {"failed"}
    assert Enrollment.objects.get().stop_reason == "the lead opted out"


def test_closing_the_lead_stops_it(clock, conversation, admin, three_steps):
    attach(admin, conversation, three_steps)
    actions.close_lead(conversation.lead, admin)
    assert {m.status for m in texts(conversation)} == {"failed"}
    assert Enrollment.objects.get().stop_reason == "the lead was closed"


def test_an_agent_stops_it(clock, conversation, admin, three_steps):
    enrollment = attach(admin, conversation, three_steps)
    stopped = commands.stop_workflow(admin, {"enrollment": enrollment["id"]})
    assert stopped["enrollment"]["stop_reason"] == "Ada stopped it"
    assert {m.status for m in texts(conversation)} == {"failed"}


def test_attaching_needs_the_right_to_text_and_consent(
    clock, org, sender, admin, bob, three_steps, make_agent
):
    from tests.chatserver.consent_support import manual_lead

    fresh = manual_lead(org, sender, "+14155550142")  # no consent yet
    with pytest.raises(actions.ActionError) as refused:
        attach(admin, fresh, three_steps)
    assert refused.value.code.startswith("consent_")
    # Bob (his own leads only) does not see it.
    with pytest.raises(actions.ActionError) as refused:
        attach(bob, fresh, three_steps)
    assert refused.value.code == "not_found"
    muted = make_agent("mute", access="all", sms="deny")
    with pytest.raises(actions.ActionError) as refused:
        attach(muted, fresh, three_steps)
    assert refused.value.code == "forbidden"
    assert Enrollment.objects.count() == 0 and texts(fresh) == []


def test_a_new_lead_from_the_workflows_source_is_enrolled(
    clock, org, admin, three_steps, sender, text_in
):
    other = actions.add_number("+14155550109", "simulator", org)
    commands.save_workflow(
        admin,
        {
            **three_steps,
            "workflow": three_steps["id"],
            "source": "SMS",
            "sender": sender.id,
        },
    )
    first = text_in("Hi there", from_number="+14155550143")
    [enrollment] = Enrollment.objects.all()
    assert enrollment.lead == first.conversation.lead
    assert enrollment.started_by is None
    # Nobody has the lead: its reminder is on the list of whoever sees it.
    assert FollowUp.objects.get().assignee is None
    assert [f["kind"] for f in outstanding(admin)] == ["call"]
    # Its own first text does not stop it; a lead texting another number
    # of ours is not enrolled.
    assert Enrollment.objects.get().stopped_at is None
    text_in("Hello?", from_number="+14155550144", to_number=other.number)
    assert Enrollment.objects.count() == 1
    # Nor one whose first word is STOP.
    text_in("STOP", from_number="+14155550146")
    assert Enrollment.objects.count() == 1


def test_a_lead_an_agent_creates_with_the_source_is_enrolled(
    clock, sender, admin, three_steps, authorized
):
    commands.save_workflow(
        admin, {**three_steps, "workflow": three_steps["id"], "source": "website"}
    )
    authorized("+14155550145")
    lead, conversation, *_ = actions.create_lead_for_agent(
        admin, first_name="Lee", number="+14155550145", source="Website"
    )
    assert Enrollment.objects.get().lead == lead
    assert texts(conversation)[0].body.endswith("Hi Lee, it's Ada.")


def test_only_admins_define_workflows_and_steps_are_checked(
    org, admin, alice, three_steps
):
    steps = [{"kind": "call", "delay_days": 1}]
    with pytest.raises(actions.ActionError) as refused:
        commands.save_workflow(alice, {"name": "Mine", "steps": steps})
    assert refused.value.code == "forbidden"
    for bad in (
        [],
        [{"kind": "fax"}],
        [{"kind": "call", "delay_days": -1}],
        [{"kind": "call", "delay_hours": 24}],
        [{"kind": "text", "template": 987654}],
        [{"kind": "call"}] * 11,
    ):
        with pytest.raises(actions.ActionError):
            commands.save_workflow(admin, {"name": "Bad", "steps": bad})
    with pytest.raises(actions.ActionError):
        commands.save_workflow(admin, {"name": "", "steps": steps})
    assert [w.name for w in org.workflows.all()] == ["New roof leads"]


def test_deleting_a_workflow_stops_its_enrollments(
    clock, conversation, admin, three_steps
):
    attach(admin, conversation, three_steps)
    commands.delete_workflow(admin, {"workflow": three_steps["id"]})
    enrollment = Enrollment.objects.get()
    assert enrollment.stop_reason == "the workflow was deleted"
    assert enrollment.workflow_name == "New roof leads"
    assert {m.status for m in texts(conversation)} == {"failed"}

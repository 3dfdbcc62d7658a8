"""Follow-ups and workflows over the console's socket (issue 20): the lead
commands set, snooze, do and delete a follow-up, start and stop a workflow,
each acknowledged with its result; the agent's other tab hears each as an
event; a fresh hello lists what is pending."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from chatserver.models import FollowUp, Template, Workflow
from tests.consumers.console_support import connect, db

pytestmark = pytest.mark.django_db(transaction=True)


def later(**delta) -> str:
    return (timezone.now() + datetime.timedelta(**delta)).isoformat()


async def command(console, client_id: str, **frame) -> dict:
    # A UUID: setting a follow-up twice with it sets one.
    client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, client_id))
    await console.send(client_id=client_id, **frame)
    answer = await console.until("ack", client_id=client_id)
    return answer["result"]


async def test_a_follow_up_over_the_socket(alice, text_in):
    inbound = await db(text_in)("Hi, a quote?", from_number="+14155550191")
    lead = inbound.conversation.lead_id
    console, other_tab = await connect(alice), await connect(alice)

    result = await command(
        console,
        "f1",
        type="followup.set",
        lead=lead,
        due_at=later(days=2),
        note="Quote",
    )
    followup = result["followup"]
    assert (followup["lead"], followup["assignee"], followup["note"]) == (
        lead,
        alice.id,
        "Quote",
    )
    event = await other_tab.until("followup.created")
    assert event["followup"]["id"] == followup["id"]
    hello = (await connect(alice)).hello
    assert [f["id"] for f in hello["followups"]] == [followup["id"]]

    until = later(days=3)
    result = await command(
        console, "f2", type="followup.snooze", followup=followup["id"], until=until
    )
    assert result["followup"]["due"] == result["followup"]["snoozed_until"]
    await command(console, "f3", type="followup.done", followup=followup["id"])
    event = await other_tab.until("followup.updated", change="done")
    assert event["followup"]["done_at"] is not None
    assert (await connect(alice)).hello["followups"] == []

    second = await command(
        console, "f4", type="followup.set", lead=lead, due_at=later(hours=1)
    )
    await command(
        console, "f5", type="followup.delete", followup=second["followup"]["id"]
    )
    assert not await db(FollowUp.objects.filter(pk=second["followup"]["id"]).exists)()

    await console.send(client_id="f6", type="followup.set", lead=lead, due_at="soon")
    error = await console.until("error", client_id="f6")
    assert error["code"] == "invalid"
    await console.close()
    await other_tab.close()


async def test_a_workflow_over_the_socket(alice, text_in, org):
    def define():
        template = Template.objects.create(organisation=org, name="Hi", body="Hi!")
        workflow = Workflow.objects.create(organisation=org, name="Roof")
        workflow.steps.create(position=0, kind="text", delay_days=1, template=template)
        return workflow.id

    workflow = await db(define)()
    inbound = await db(text_in)("Hello", from_number="+14155550192")
    console = await connect(alice)
    result = await command(
        console,
        "w1",
        type="workflow.attach",
        conversation=inbound.conversation_id,
        workflow=workflow,
    )
    enrollment = result["enrollment"]
    assert enrollment["workflow_name"] == "Roof"
    scheduled = await console.until("message.created")
    assert scheduled["message"]["status"] == "scheduled"
    result = await command(
        console, "w2", type="workflow.stop", enrollment=enrollment["id"]
    )
    assert result["enrollment"]["stop_reason"] == "Alice stopped it"
    status = await console.until("message.status", message=scheduled["message"]["id"])
    assert status["error_code"] == "workflow_stopped"
    await console.close()

"""Fan-out: an event costs a few group sends whatever the number of connected
agents, and every socket gets each event once, in cursor order."""

import datetime
import uuid
from collections import Counter

import pytest
from channels.layers import get_channel_layer

from carriers.base import DeliveryStatus, StatusUpdate
from chatserver import actions
from chatserver.models import Agent, Message, Organisation
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    connect,
    db,
    lead_number,
)

pytestmark = pytest.mark.django_db(transaction=True)

# The events of this protocol (socket-made frames such as unread.changed aside).
EVENTS = {
    "message.created",
    "message.status",
    "lead.created",
    "lead.updated",
    "consent.changed",
    "note.created",
    "conversation.updated",
}


def count_group_sends() -> list[tuple[str, str]]:
    """Record every group_send the channel layer makes from now on."""
    channel_layer = get_channel_layer()
    original = channel_layer.group_send
    sends = []

    async def counting(group, message):
        sends.append((group, message["type"]))
        await original(group, message)

    channel_layer.group_send = counting
    return sends


async def test_an_event_costs_the_same_group_sends_for_two_agents_or_twelve(
    layer, org, make_agent, text_in
):
    number = lead_number()
    await db(text_in)("First text: a new lead", from_number=number)
    few = [await db(make_agent)(access=access) for access in ("all", "unassigned")]
    consoles = [await connect(agent) for agent in few]
    sends = count_group_sends()

    await db(text_in)("Second text", from_number=number)
    for console in consoles:
        await console.until("message.created")
    with_two = sorted(sends)
    sends.clear()

    accesses = ["all", "unassigned", "assigned", "mine"] * 3
    more = [await db(make_agent)(access=access) for access in accesses[:10]]
    consoles += [await connect(agent) for agent in more]
    await db(text_in)("Third text", from_number=number)
    seeing = [
        c
        for c, a in zip(consoles, few + more, strict=True)
        if a.access in ("all", "unassigned")
    ]
    for console in seeing:
        assert (await console.until("message.created"))["message"][
            "body"
        ] == "Third text"

    assert sorted(sends) == with_two  # the same sends, to the same groups
    assert len(with_two) <= 3
    for console in consoles:
        await console.close()


@pytest.fixture
def open_hours(org):
    Organisation.objects.filter(pk=org.pk).update(
        quiet_hours_start=datetime.time(0), quiet_hours_end=datetime.time(0)
    )


async def test_an_agent_reached_through_two_groups_gets_each_event_once(
    layer, alice, make_agent, text_in
):
    # Carol's access is "unassigned": her socket joins that group and her own.
    # When a lead is assigned to her, the event goes to both.
    carol = await db(make_agent)("carol", access=Agent.Access.UNASSIGNED)
    message = await db(text_in)("Hello", from_number=lead_number())
    console = await connect(carol)

    lead = message.conversation.lead
    await db(lambda: actions.assign_lead(lead, carol, actor=alice))()
    await db(text_in)(
        "Still there?", from_number=message.conversation.contact_number.number
    )
    await console.until("message.created")
    frames = console.frames + await console.drain()

    events = [f for f in frames if f["type"] in EVENTS]
    assert Counter(f["type"] for f in events) == {
        "lead.updated": 1,
        "message.created": 1,
    }
    assert len({f["cursor"] for f in events}) == len(events)
    await console.close()


async def test_every_event_carries_a_cursor_and_its_lead_in_cursor_order(
    layer, open_hours, alice, text_in
):
    console = await connect(alice)
    inbound = await db(text_in)("Hello", from_number=lead_number())  # a new lead
    await console.until("message.created")
    await console.send(
        type="message.send",
        conversation=inbound.conversation_id,
        body="Hi!",
        client_id=str(uuid.uuid4()),
    )
    ack = await console.until("ack")

    def delivered():
        Message.objects.filter(pk=ack["message"]).update(carrier_message_id="SIM-9")
        actions.record_status(
            StatusUpdate("simulator", "SIM-9", DeliveryStatus.DELIVERED)
        )

    await db(delivered)()
    await console.until("message.status")
    frames = console.frames + await console.drain()

    events = [f for f in frames if f["type"] in EVENTS]
    assert {f["type"] for f in events} >= {
        "lead.created",
        "message.created",
        "consent.changed",
        "lead.updated",
        "message.status",
    }
    lead_id = inbound.conversation.lead_id
    for event in events:
        lead = event["lead"]
        assert (lead["id"] if isinstance(lead, dict) else lead) == lead_id, event
    cursors = [f["cursor"] for f in events]
    assert cursors == sorted(set(cursors)), cursors
    # Every frame at all carries a cursor.
    assert all(isinstance(f.get("cursor"), int) for f in frames), frames
    await console.close()

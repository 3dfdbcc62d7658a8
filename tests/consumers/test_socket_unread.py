"""Unread counts: per agent, from stored read state, live on every socket."""

import datetime
import uuid

import pytest

from chatserver.models import Agent, Organisation
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    connect,
    db,
    fresh_hello,
    lead_number,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def carol(make_agent):
    return make_agent("carol", access=Agent.Access.ALL, first_name="Carol")


@pytest.fixture
def open_hours(org):
    Organisation.objects.filter(pk=org.pk).update(
        quiet_hours_start=datetime.time(0), quiet_hours_end=datetime.time(0)
    )


def counts(total, **conversations):
    return {
        "total": total,
        "conversations": {k[1:]: v for k, v in conversations.items()},
    }


async def test_a_read_in_one_tab_clears_the_badge_in_the_others(layer, alice, text_in):
    number = lead_number()
    first = await db(text_in)("Hello", from_number=number)
    tab_a, tab_b = await connect(alice), await connect(alice)
    c = f"c{first.conversation_id}"
    assert tab_a.hello["unread"] == tab_b.hello["unread"] == counts(1, **{c: 1})

    second = await db(text_in)("Are you there?", from_number=number)
    for tab in (tab_a, tab_b):
        # The counts ride in the text's own frame: one frame per text.
        created = await tab.until("message.created")
        assert created["unread"] == {"total": 2, "conversation": 2}
        assert not [f for f in await tab.drain() if f["type"] == "unread.changed"]

    await tab_a.send(
        type="conversation.read", conversation=first.conversation_id, message=second.id
    )
    for tab in (tab_a, tab_b):
        assert (await tab.until("unread.changed"))["unread"] == counts(0)
        await tab.quiet()

    # A refresh (a new socket, as after a restart or on another device) agrees.
    phone = await connect(alice)
    assert phone.hello["unread"] == counts(0)
    for console in (tab_a, tab_b, phone):
        await console.close()


async def test_one_agents_read_leaves_another_agents_counts_alone(
    layer, alice, carol, text_in
):
    message = await db(text_in)("Hello", from_number=lead_number())
    c = f"c{message.conversation_id}"
    alices, carols = await connect(alice), await connect(carol)

    await alices.send(
        type="conversation.read",
        conversation=message.conversation_id,
        message=message.id,
    )
    assert (await alices.until("unread.changed"))["unread"] == counts(0)
    await carols.quiet()
    assert (await fresh_hello(carol))["unread"] == counts(1, **{c: 1})

    # A new text counts for each agent from where they read.
    await db(text_in)(
        "One more", from_number=message.conversation.contact_number.number
    )
    assert (await alices.until("message.created"))["unread"] == {
        "total": 1,
        "conversation": 1,
    }
    assert (await carols.until("message.created"))["unread"] == {
        "total": 2,
        "conversation": 2,
    }
    await alices.close()
    await carols.close()


async def test_own_replies_never_count_and_mark_the_conversation_read(
    layer, open_hours, alice, carol, text_in
):
    message = await db(text_in)("Hello", from_number=lead_number())
    c = f"c{message.conversation_id}"
    alices, carols = await connect(alice), await connect(carol)
    assert alices.hello["unread"] == carols.hello["unread"] == counts(1, **{c: 1})

    await alices.send(
        type="message.send",
        conversation=message.conversation_id,
        body="Hi there",
        client_id=str(uuid.uuid4()),
    )
    await alices.until("ack")
    # Alice answered: read for her. Carol's count stays: a reply is not unread.
    assert (await alices.until("unread.changed"))["unread"] == counts(0)
    created = await carols.until("message.created")
    assert created["message"]["direction"] == "out"
    frames = await carols.drain()
    assert not [f for f in frames if f["type"] == "unread.changed"], frames
    assert (await fresh_hello(alice))["unread"] == counts(0)
    assert (await fresh_hello(carol))["unread"] == counts(1, **{c: 1})
    await alices.close()
    await carols.close()


async def test_reading_only_moves_forward(alice, text_in):
    number = lead_number()
    first = await db(text_in)("One", from_number=number)
    second = await db(text_in)("Two", from_number=number)
    console = await connect(alice)
    await console.send(
        type="conversation.read", conversation=first.conversation_id, message=second.id
    )
    assert (await console.until("unread.changed"))["unread"] == counts(0)
    await console.send(
        type="conversation.read", conversation=first.conversation_id, message=first.id
    )
    await console.quiet()
    assert (await fresh_hello(alice))["unread"] == counts(0)
    await console.close()


async def test_a_lead_leaving_an_agents_view_leaves_their_counts(
    layer, alice, make_agent, text_in
):
    from chatserver import actions

    dana = await db(make_agent)("dana", access=Agent.Access.UNASSIGNED)
    message = await db(text_in)("Hello", from_number=lead_number())
    console = await connect(dana)
    assert console.hello["unread"]["total"] == 1

    await db(
        lambda: actions.assign_lead(message.conversation.lead, alice, actor=alice)
    )()

    update = await console.until("lead.updated")
    assert update["lead"]["assignee"] == alice.id
    assert (await console.until("unread.changed"))["unread"] == counts(0)
    await console.close()

"""Resume: a console that reconnects gets what it missed, in order, from the
database; or a fresh state when the gap cannot be replayed."""

import datetime

import pytest
from channels.layers import get_channel_layer
from django.utils import timezone

from carriers.base import DeliveryStatus, StatusUpdate
from chatserver import actions
from chatserver.actions.messages import queue_message
from chatserver.models import Event, Message
from chatserver.queries import buckets, replay, unread
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    connect,
    db,
    lead_number,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def settled_cursor(console) -> int:
    """The console's resume point once nothing more is arriving: the highest
    cursor it received."""
    await console.drain()
    return max([console.hello["cursor"], *(f["cursor"] for f in console.frames)])


async def test_a_reconnecting_console_gets_what_it_missed_in_order(
    layer, alice, bob, text_in
):
    bobs_first = await db(text_in)("Bob's lead", from_number=lead_number())
    bobs_lead = bobs_first.conversation.lead
    await db(lambda: actions.assign_lead(bobs_lead, bob, actor=alice))()
    bobs_number = bobs_first.conversation.contact_number.number
    console = await connect(bob)
    await db(text_in)("Seen live", from_number=bobs_number)
    await console.until("message.created")
    cursor = await settled_cursor(console)
    await console.close()

    # While Bob is away: two texts on his lead, and another lead he cannot see.
    missed = [
        await db(text_in)("Missed one", from_number=bobs_number),
        await db(text_in)("Not Bob's", from_number=lead_number()),
        await db(text_in)("Missed two", from_number=bobs_number),
    ]
    back = await connect(bob)
    await back.send(type="resume", cursor=cursor)
    resumed = await back.until("resumed")
    replayed = [f for f in back.frames if f["type"] != "resumed"]

    assert [f["type"] for f in replayed] == ["message.created", "message.created"]
    assert [f["message"]["id"] for f in replayed] == [missed[0].id, missed[2].id]
    assert all(f["lead"] == bobs_lead.id for f in replayed)
    assert replayed[0]["cursor"] < replayed[1]["cursor"]
    assert resumed["replayed"] == 2
    latest = await db(lambda: Event.objects.order_by("cursor").last().cursor)()
    assert resumed["cursor"] == latest  # later events were for others
    unread = await back.until("unread.changed")
    assert unread["unread"]["conversations"] == {str(bobs_first.conversation_id): 4}

    # Live again, and nothing twice.
    live = await db(text_in)("Live again", from_number=bobs_number)
    assert (await back.until("message.created"))["message"]["id"] == live.id
    frames = await back.drain()
    assert not [f for f in frames if f["type"] == "message.created"], frames
    await back.close()


async def test_a_replayed_event_matches_the_live_one_exactly(layer, alice, text_in):
    live = await connect(alice)
    cursor = live.hello["cursor"]
    away = await connect(alice)
    await away.close()
    await db(text_in)("Hello", from_number=lead_number())
    created = await live.until("message.created")

    back = await connect(alice)
    await back.send(type="resume", cursor=cursor)
    replayed = await back.until("message.created")
    # The same event; live, the socket added its agent's counts, which a
    # resume sends after the replay instead (unread.changed).
    assert created.pop("unread")["total"] == 1
    assert replayed == created
    assert (await back.until("unread.changed"))["unread"]["total"] == 1
    await live.close()
    await back.close()


async def test_an_event_the_channel_layer_dropped_comes_back_on_resume(
    layer, alice, text_in
):
    console = await connect(alice)
    first = await db(text_in)("Hello", from_number=lead_number())
    await console.until("message.created")
    cursor = await settled_cursor(console)

    channel_layer = get_channel_layer()
    delivering = channel_layer.group_send

    async def dropping(group, message):
        """A layer that loses messages (a Redis failover, a full channel)."""

    channel_layer.group_send = dropping
    lost = await db(text_in)(
        "Lost on the way", from_number=first.conversation.contact_number.number
    )
    channel_layer.group_send = delivering
    await console.quiet()

    await console.send(type="resume", cursor=cursor)
    found = await console.until("message.created")
    assert found["message"]["id"] == lost.id
    await console.until("resumed")
    assert (await console.until("unread.changed"))["unread"]["total"] == 2
    await console.close()


async def test_a_resume_straight_after_the_hello_sends_its_counts_uncounted(
    alice, text_in, monkeypatch
):
    """What every console does after a restart: its hello already counted
    each event of the gap, so the resume replays them and sends the hello's
    counts without counting again (2,000 recounts in a reconnect storm)."""
    cursor = await away_while(alice, ["Missed one", "Missed two"], text_in)
    back = await connect(alice)
    recounts = []
    for module, name in ((buckets, "counts"), (unread, "unread_counts")):
        count = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda agent, n=name, f=count: recounts.append(n) or f(agent)
        )
    await back.send(type="resume", cursor=cursor)
    await back.until("resumed")
    replayed = [f for f in back.frames if f["type"] == "message.created"]
    assert [f["message"]["body"] for f in replayed] == ["Missed one", "Missed two"]
    assert (await back.until("unread.changed"))["unread"] == back.hello["unread"]
    assert back.hello["unread"]["total"] == 2
    assert recounts == []

    # A gap past the hello is counted again: its events never moved them (the
    # live copy of one may have: the unread counts may be read twice).
    away = await connect(alice)
    await away.close()
    await db(text_in)("While the socket was busy", from_number=lead_number())
    await back.send(type="resume", cursor=back.hello["cursor"])
    await back.until("resumed")
    assert (await back.until("unread.changed"))["unread"]["total"] == 3
    await back.drain()
    assert "counts" in recounts and "unread_counts" in recounts
    await back.close()


async def test_a_resume_from_the_hellos_own_cursor_reads_nothing(
    alice, text_in, monkeypatch
):
    """After a restart during which nothing happened, every console resumes
    from the cursor its new hello has: nothing is missing, nothing is read."""
    await db(text_in)("Before the restart", from_number=lead_number())
    back = await connect(alice)
    reads = []
    real = replay.missed_events
    monkeypatch.setattr(
        replay, "missed_events", lambda *args: reads.append(args) or real(*args)
    )
    await back.send(type="resume", cursor=back.hello["cursor"])
    resumed = await back.until("resumed")
    assert resumed == {"type": "resumed", "cursor": back.hello["cursor"], "replayed": 0}
    assert reads == []
    # What comes next comes live.
    await db(text_in)("After it", from_number=lead_number())
    assert (await back.until("message.created"))["message"]["body"] == "After it"
    await back.close()


async def away_while(agent, texts, text_in) -> tuple[int, list]:
    """Connect, note the cursor, disconnect; then the texts arrive."""
    console = await connect(agent)
    cursor = console.hello["cursor"]
    await console.close()
    number = lead_number()
    for body in texts:
        await db(text_in)(body, from_number=number)
    return cursor


async def expect_reload(agent, cursor):
    back = await connect(agent)
    await back.send(type="resume", cursor=cursor)
    reload = await back.until("reload")
    assert not [f for f in back.frames if f["type"] in ("message.created", "resumed")]
    return back, reload


async def test_a_gap_with_too_many_events_gets_a_reload(
    layer, alice, text_in, monkeypatch
):
    monkeypatch.setattr(replay, "RESUME_MAX_EVENTS", 3)
    cursor = await away_while(alice, ["one", "two", "three", "four"], text_in)
    back, reload = await expect_reload(alice, cursor)
    # A reload is a full fresh state, as a hello.
    assert reload["agent"]["id"] == alice.id
    assert reload["unread"]["total"] == 4
    assert reload["cursor"] == await db(replay.latest_cursor)(alice)
    assert len(reload["conversations"]) == 1
    # ...and the socket goes on from it.
    await db(text_in)("five", from_number=lead_number())
    assert (await back.until("message.created"))["cursor"] > reload["cursor"]
    await back.close()


async def test_a_gap_older_than_six_hours_gets_a_reload(alice, text_in):
    cursor = await away_while(alice, ["one"], text_in)
    long_ago = timezone.now() - datetime.timedelta(hours=7)
    await db(lambda: Event.objects.update(created_at=long_ago))()
    back, reload = await expect_reload(alice, cursor)
    assert reload["unread"]["total"] == 1
    await back.close()


async def test_a_cursor_this_server_never_gave_gets_a_reload(alice, text_in):
    # After the database was reset, say: the console's cursor is from the future.
    await away_while(alice, ["one"], text_in)
    back, reload = await expect_reload(alice, 10_000)
    assert reload["cursor"] < 10_000
    await back.close()


async def test_a_gap_reaching_deleted_events_gets_a_reload(alice, text_in):
    cursor = await away_while(alice, ["one", "two"], text_in)
    await db(lambda: Event.objects.filter(cursor=cursor + 1).delete())()
    back, _ = await expect_reload(alice, cursor)
    await back.close()


async def test_a_replay_ends_with_the_newest_state_of_each_message(
    layer, alice, text_in
):
    # The "sent" receipt is lost on the layer, the "delivered" one arrives live:
    # the replay must not leave the console showing "sent".
    inbound = await db(text_in)("Hello", from_number=lead_number())

    def queued_reply():
        message = queue_message(inbound.conversation, "Hi")
        Message.objects.filter(pk=message.pk).update(carrier_message_id="SIM-7")
        return message

    reply = await db(queued_reply)()
    console = await connect(alice)
    cursor = console.hello["cursor"]

    def carrier_reports(status):
        actions.record_status(StatusUpdate("simulator", "SIM-7", status))

    channel_layer = get_channel_layer()
    delivering = channel_layer.group_send

    async def dropping(group, message):
        pass

    channel_layer.group_send = dropping
    await db(carrier_reports)(DeliveryStatus.SENT)
    channel_layer.group_send = delivering
    await db(carrier_reports)(DeliveryStatus.DELIVERED)
    live = await console.until("message.status")
    assert live["status"] == "delivered"

    await console.send(type="resume", cursor=cursor)
    await console.until("resumed")
    statuses = [
        f["status"]
        for f in console.frames
        if f["type"] == "message.status" and f["message"] == reply.id
    ]
    assert statuses == ["delivered", "sent", "delivered"]
    await console.close()

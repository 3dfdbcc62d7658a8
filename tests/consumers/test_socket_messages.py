"""Texting over the socket: message.send, its ack and errors, and the events
every console that sees the lead receives."""

import datetime
import json
import uuid

import pytest

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


@pytest.fixture
def open_hours(org):
    """No quiet hours for the organisation, so texts may go at any test time."""
    Organisation.objects.filter(pk=org.pk).update(
        quiet_hours_start=datetime.time(0), quiet_hours_end=datetime.time(0)
    )


@pytest.fixture
def carol(make_agent):
    return make_agent("carol", access=Agent.Access.ALL, first_name="Carol")


def stored(**filters) -> int:
    return Message.objects.filter(**filters).count()


async def test_a_send_is_acked_and_reaches_every_console_that_sees_the_lead(
    layer, open_hours, alice, carol, bob, text_in
):
    inbound = await db(text_in)("Can you quote a roof?", from_number=lead_number())
    conversation = inbound.conversation_id
    mine, colleague, outsider = (
        await connect(alice),
        await connect(carol),
        await connect(bob),
    )
    client_id = str(uuid.uuid4())

    await mine.send(
        type="message.send",
        conversation=conversation,
        body="Sure, Friday?",
        client_id=client_id,
    )

    ack = await mine.until("ack")
    message = await db(Message.objects.get)(client_id=client_id)
    assert ack == {
        "type": "ack",
        "client_id": client_id,
        "message": message.id,
        "status": "queued",
        "scheduled_for": None,
        "cursor": ack["cursor"],
    }
    for console in (mine, colleague):
        created = await console.until("message.created")
        assert created["lead"] == inbound.conversation.lead_id
        assert created["conversation"] == conversation
        sent = created["message"]
        assert sent["id"] == message.id
        assert sent["conversation"] == conversation
        assert sent["direction"] == "out"
        assert sent["status"] == "queued"
        assert sent["body"].endswith("Sure, Friday?")
        assert sent["client_id"] == client_id
        assert sent["segments"] >= 1 and sent["encoding"] == "GSM-7"
        assert datetime.datetime.fromisoformat(sent["created_at"]).tzinfo is not None
        assert isinstance(created["cursor"], int)
        # Replying claimed the unassigned lead.
        updated = await console.until("lead.updated")
        assert updated["lead"]["assignee"] == alice.id
    # Bob sees only his own leads: nothing about this one reaches him.
    await outsider.quiet()
    for console in (mine, colleague, outsider):
        await console.close()


async def test_message_status_moves_reach_the_consoles(
    layer, open_hours, alice, text_in
):
    inbound = await db(text_in)("Hello", from_number=lead_number())
    console = await connect(alice)
    client_id = str(uuid.uuid4())
    await console.send(
        type="message.send",
        conversation=inbound.conversation_id,
        body="Hi!",
        client_id=client_id,
    )
    ack = await console.until("ack")

    def carrier_reports(status):
        message = Message.objects.get(pk=ack["message"])
        if not message.carrier_message_id:
            Message.objects.filter(pk=message.pk).update(carrier_message_id="SIM-1")
        actions.record_status(
            StatusUpdate(carrier="simulator", carrier_message_id="SIM-1", status=status)
        )

    await db(carrier_reports)(DeliveryStatus.SENT)
    sent = await console.until("message.status")
    await db(carrier_reports)(DeliveryStatus.DELIVERED)
    delivered = await console.until("message.status")
    assert (sent["message"], sent["status"]) == (ack["message"], "sent")
    assert (delivered["message"], delivered["status"]) == (ack["message"], "delivered")
    assert delivered["lead"] == inbound.conversation.lead_id
    assert delivered["conversation"] == inbound.conversation_id
    assert sent["cursor"] < delivered["cursor"]
    # A late "sent" after "delivered" moves nothing and says nothing.
    await db(carrier_reports)(DeliveryStatus.SENT)
    await console.quiet()
    await console.close()


async def test_resending_a_client_id_never_makes_a_second_message(
    layer, open_hours, alice, carol, text_in
):
    inbound = await db(text_in)("Hello", from_number=lead_number())
    mine, colleague = await connect(alice), await connect(carol)
    frame = {
        "type": "message.send",
        "conversation": inbound.conversation_id,
        "body": "Only once, please",
        "client_id": str(uuid.uuid4()),
    }
    await mine.send(**frame)
    first = await mine.until("ack")
    await mine.send(**frame)
    again = await mine.until("ack")
    await mine.close()
    # The same message sent again after a reconnect, as the console does.
    reconnected = await connect(alice)
    await reconnected.send(**frame)
    third = await reconnected.until("ack")

    assert first["message"] == again["message"] == third["message"]
    assert await db(stored)(client_id=frame["client_id"]) == 1
    created = await colleague.until("message.created")
    assert created["message"]["id"] == first["message"]
    await colleague.until("lead.updated")  # the reply claimed the lead
    await colleague.quiet()  # and no second message.created
    await colleague.close()
    await reconnected.close()


CONV, CID = object(), object()  # the conversation's id and a fresh client_id
SEND = {"type": "message.send", "conversation": CONV, "body": "Hi", "client_id": CID}
BAD_FRAMES = [
    ("not json", "invalid", None),
    ("[1, 2]", "invalid", None),
    ({"type": "dance"}, "invalid", None),
    ({"conversation": CONV}, "invalid", None),
    ({**SEND, "conversation": "12"}, "invalid", CID),
    ({**SEND, "conversation": True}, "invalid", CID),
    ({**SEND, "body": 42}, "invalid", CID),
    ({**SEND, "client_id": "x-1"}, "invalid", "x-1"),
    ({k: v for k, v in SEND.items() if k != "client_id"}, "invalid", None),
    (
        {"type": "conversation.read", "conversation": CONV, "message": "last"},
        "invalid",
        None,
    ),
    ({"type": "resume", "cursor": "5"}, "invalid", None),
    ({"type": "resume", "cursor": -1}, "invalid", None),
    ({**SEND, "body": "   "}, "empty", CID),
]


@pytest.mark.parametrize("text, code, named", BAD_FRAMES)
async def test_bad_messages_get_an_error_and_store_nothing(
    open_hours, alice, text_in, text, code, named
):
    inbound = await db(text_in)("Hello", from_number=lead_number())
    console = await connect(alice)
    client_id = str(uuid.uuid4())
    before = await db(stored)()
    if isinstance(text, dict):
        values = {CONV: inbound.conversation_id, CID: client_id}
        text = json.dumps({k: values.get(v, v) for k, v in text.items()})

    await console.send_text(text)
    error = await console.until("error")

    assert error["code"] == code
    assert isinstance(error["reason"], str) and error["reason"].endswith((".", "!"))
    assert error.get("client_id") == (client_id if named is CID else named)
    assert await db(stored)() == before
    # The socket is still there for the next message.
    await console.send(type="resume", cursor=console.hello["cursor"])
    await console.until("resumed")
    await console.close()


async def test_a_huge_frame_is_refused_with_its_client_id_and_the_socket_lives_on(
    open_hours, alice, text_in
):
    inbound = await db(text_in)("Hello", from_number=lead_number())
    console = await connect(alice)
    client_id = str(uuid.uuid4())
    frame = {
        "type": "message.send",
        "conversation": inbound.conversation_id,
        "client_id": client_id,
        "body": "x" * 20_000,
    }
    await console.send(**frame)
    error = await console.until("error")
    assert error["code"] == "too_large" and error["client_id"] == client_id
    assert "too large" in error["reason"]
    assert await db(stored)(client_id=client_id) == 0

    await console.send(**{**frame, "body": "A normal text"})
    assert (await console.until("ack"))["client_id"] == client_id
    await console.close()


async def test_leads_the_agent_may_not_see_are_not_found_alike(
    open_hours, org, alice, bob, text_in
):
    # Bob sees only his own leads; the other organisation's are nobody's here.
    unassigned = await db(text_in)("Hello", from_number=lead_number())

    def other_organisations_conversation():
        other = actions.add_organisation("Other Co")
        sender = actions.add_number("+13125550177", "simulator", other)
        return text_in("Hi", from_number=lead_number(), to_number=sender.number)

    foreign = await db(other_organisations_conversation)()
    bobs, alices = await connect(bob), await connect(alice)
    before = await db(stored)()
    attempts = [
        (bobs, unassigned.conversation_id),
        (alices, foreign.conversation_id),
        (alices, 987654),
    ]
    reasons = set()
    for console, conversation in attempts:
        client_id = str(uuid.uuid4())
        await console.send(
            type="message.send",
            conversation=conversation,
            body="Hi",
            client_id=client_id,
        )
        error = await console.until("error")
        assert error["code"] == "not_found" and error["client_id"] == client_id
        reasons.add(error["reason"])
        await console.send(
            type="conversation.read", conversation=conversation, message=unassigned.id
        )
        assert (await console.until("error"))["code"] == "not_found"
    assert reasons == {"No such conversation."}
    assert await db(stored)() == before
    await bobs.close()
    await alices.close()


async def test_an_agent_without_sms_permission_is_told_why(org, make_agent, text_in):
    inbound = await db(text_in)("Hello", from_number=lead_number())
    viewer = await db(make_agent)("viewer", access=Agent.Access.ALL, sms="deny")
    console = await connect(viewer)
    client_id = str(uuid.uuid4())
    await console.send(
        type="message.send",
        conversation=inbound.conversation_id,
        body="Hi",
        client_id=client_id,
    )
    error = await console.until("error")
    assert error["code"] == "forbidden" and error["client_id"] == client_id
    assert error["reason"] == "You do not have permission to send SMS."
    assert await db(stored)(direction="out") == 0
    await console.close()


async def test_sending_too_fast_is_refused_by_client_id(
    layer, open_hours, alice, text_in
):
    inbound = await db(text_in)("Hello", from_number=lead_number())
    console = await connect(alice)
    # A burst of 10 goes through; then about one a second (the refill while a
    # slow database handles the burst lets a few more through).
    client_ids = [str(uuid.uuid4()) for _ in range(20)]
    for client_id in client_ids:
        await console.send(
            type="message.send",
            conversation=inbound.conversation_id,
            body="One more thing",
            client_id=client_id,
        )
    answers = {}
    while len(answers) < len(client_ids):
        frame = await console.next()
        if frame["type"] in ("ack", "error"):
            answers[frame["client_id"]] = frame
    kinds = [answers[client_id]["type"] for client_id in client_ids]
    assert kinds[:10] == ["ack"] * 10
    refused = [a for a in answers.values() if a["type"] == "error"]
    assert len(refused) >= 5
    assert {(a["code"], a["reason"]) for a in refused} == {
        ("rate_limited", "You are sending too fast: wait a moment.")
    }
    assert await db(stored)(direction="out") == kinds.count("ack")
    await console.close()


async def test_a_flood_of_frames_is_cut_off(alice):
    console = await connect(alice)
    for _ in range(150):  # 60 at once are allowed, then 20 a second
        await console.send_text(json.dumps({"type": "nothing"}))
    codes = [(await console.until("error"))["code"] for _ in range(150)]
    assert codes[:60] == ["invalid"] * 60
    assert codes.count("rate_limited") >= 20
    assert set(codes) == {"invalid", "rate_limited"}
    await console.close()

"""Consent over the console's socket: what agents see live, and the client
messages consent.request, consent.confirm_optout and message.send's schedule."""

import datetime
import uuid

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chatserver.models import Consent, Message
from consumers.console import ConsoleConsumer
from tests.chatserver.consent_support import inbound, manual_lead, outbound, state
from tests.conftest import fictional_number

pytestmark = pytest.mark.django_db(transaction=True)

LOS_ANGELES = "+14155550123"
NIGHT = datetime.datetime(2025, 1, 15, 5, 30, tzinfo=datetime.UTC)  # 21:30 there


@pytest.fixture(params=["memory", "redis"])
def layer(request):
    """Each live test runs on the in-memory layer and on a real Redis."""
    if request.param == "redis":
        request.getfixturevalue("redis_layer")
    return request.param


async def connect(agent):
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = agent.user
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator, hello


async def receive_until(communicator, wanted, timeout=5.0):
    """Frames up to and including the first for which ``wanted`` is true."""
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        frames.append(frame)
        if wanted(frame):
            return frames


def of_type(kind, **fields):
    return lambda f: f["type"] == kind and all(f.get(k) == v for k, v in fields.items())


async def test_a_lead_texting_stop_is_shown_live_to_every_agent_who_sees_it(
    layer, org, sender, alice, make_agent
):
    number = fictional_number()
    await database_sync_to_async(inbound)(sender, number, "Hi, quote please")
    colleague = await database_sync_to_async(make_agent)("carol")
    alices, hello = await connect(alice)
    carols, _ = await connect(colleague)
    [listed] = [c for c in hello["conversations"] if c["contact_number"] == number]
    assert (listed["consent"], listed["consent_notice"]) == ("authorized", None)

    stop = await database_sync_to_async(inbound)(sender, number, "Stop")

    for socket in (alices, carols):
        frames = await receive_until(socket, of_type("consent.changed"))
        created = [f for f in frames if f["type"] == "message.created"]
        assert created[0]["message"]["id"] == stop.id  # the STOP itself first
        changed = frames[-1]
        assert changed["lead"] == listed["lead"]
        assert (changed["number"], changed["state"]) == (number, "revoked")
        assert changed["reason"] == "lead texted STOP" and changed["message"] == stop.id
        assert "opted out" in changed["notice"]
        reply = await receive_until(
            socket,
            lambda f: (
                f["type"] == "message.created" and f["message"]["kind"] == "auto_reply"
            ),
        )
        assert "unsubscribed" in reply[-1]["message"]["body"]
        await socket.disconnect()


async def test_an_agent_requests_authorization_and_sees_the_answer_live(
    org, sender, alice
):
    number = fictional_number()
    conversation = await database_sync_to_async(manual_lead)(org, sender, number)
    socket, hello = await connect(alice)
    [listed] = [c for c in hello["conversations"] if c["id"] == conversation.id]
    assert listed["consent"] == "not_authorized"
    assert "authorization request" in listed["consent_notice"]

    # Texting first is refused with the reason, and stores nothing.
    await socket.send_json_to(
        {
            "type": "message.send",
            "client_id": str(uuid.uuid4()),
            "conversation": conversation.id,
            "body": "Hi Dana",
        }
    )
    [error] = (await receive_until(socket, of_type("error")))[-1:]
    assert error["code"] == "consent_not_authorized"
    assert "authorization request" in error["reason"]

    client_id = str(uuid.uuid4())
    await socket.send_json_to(
        {
            "type": "consent.request",
            "conversation": conversation.id,
            "client_id": client_id,
        }
    )
    frames = await receive_until(socket, of_type("ack", client_id=client_id))
    ack = frames[-1]
    assert ack["status"] == "queued"
    await receive_until(socket, of_type("consent.changed", state="pending"))

    await database_sync_to_async(inbound)(sender, number, " YES ")
    changed = (
        await receive_until(socket, of_type("consent.changed", state="authorized"))
    )[-1]
    assert changed["previous"] == "pending" and changed["reason"] == "lead texted YES"
    requests = await database_sync_to_async(outbound)(
        number, kind=Message.Kind.AUTHORIZATION_REQUEST
    )
    assert [m.id for m in requests] == [ack["message"]]
    await socket.disconnect()


async def test_an_agent_confirms_a_possible_opt_out_over_the_socket(org, sender, alice):
    number = fictional_number()
    await database_sync_to_async(inbound)(sender, number, "Hi")
    socket, _ = await connect(alice)
    message = await database_sync_to_async(inbound)(
        sender, number, "Please stop texting me"
    )
    created = (
        await receive_until(
            socket,
            lambda f: (
                f["type"] == "message.created" and f["message"]["id"] == message.id
            ),
        )
    )[-1]
    assert created["message"]["possible_optout"] is True

    await socket.send_json_to({"type": "consent.confirm_optout", "message": message.id})
    # The ack and the live event, in either order.
    seen = {}
    while len(seen) < 2:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] in ("ack", "consent.changed"):
            seen[frame["type"]] = frame
    assert seen["ack"]["consent"] == "revoked" and seen["ack"]["message"] == message.id
    changed = seen["consent.changed"]
    assert (changed["state"], changed["by"], changed["message"]) == (
        "revoked",
        alice.id,
        message.id,
    )
    assert await database_sync_to_async(state)(org, number) == Consent.State.REVOKED
    await socket.disconnect()


async def test_quiet_hours_over_the_socket_refuse_or_schedule(
    settings, org, sender, alice
):
    settings.ENFORCE_QUIET_HOURS = True
    with time_machine.travel(NIGHT - datetime.timedelta(hours=10)):
        conversation = (
            await database_sync_to_async(inbound)(sender, LOS_ANGELES, "Quote?")
        ).conversation
    socket, _ = await connect(alice)
    with time_machine.travel(NIGHT):
        await socket.send_json_to(
            {
                "type": "message.send",
                "client_id": str(uuid.uuid4()),
                "conversation": conversation.id,
                "body": "Here it is",
            }
        )
        error = (await receive_until(socket, of_type("error")))[-1]
        assert error["code"] == "quiet_hours"
        assert "21:30 (America/Los_Angeles)" in error["reason"]
        assert error["details"]["next_allowed"] == "2025-01-15T16:00:00+00:00"

        client_id = str(uuid.uuid4())
        await socket.send_json_to(
            {
                "type": "message.send",
                "client_id": client_id,
                "conversation": conversation.id,
                "body": "Here it is",
                "schedule": True,
            }
        )
        ack = (await receive_until(socket, of_type("ack", client_id=client_id)))[-1]
    assert ack["status"] == "scheduled"
    assert ack["scheduled_for"] == "2025-01-15T16:00:00+00:00"

    await socket.send_json_to(
        {
            "type": "message.send",
            "client_id": str(uuid.uuid4()),
            "conversation": conversation.id,
            "body": "x",
            "schedule": "yes",
        }
    )
    error = (await receive_until(socket, of_type("error")))[-1]
    assert error["code"] == "invalid" and "schedule" in error["reason"]
    await socket.disconnect()

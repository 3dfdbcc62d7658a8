"""Consent end to end: a real Daphne process, a real WebSocket client, a lead
texting from the simulator's phone network, and the in-process outbox."""

import asyncio
import json
import time
import urllib.parse
import urllib.request
import uuid

import pytest
import websockets

from tests.conftest import SENDER_NUMBER
from tests.servers import Browserless

pytestmark = pytest.mark.e2e

PHONE = "+14155550177"


def text_as_lead(client: Browserless, body: str) -> None:
    """The lead's phone texts the company through the simulator page."""
    data = urllib.parse.urlencode(
        {"phone": PHONE, "company": SENDER_NUMBER, "body": body}
    ).encode()
    request = urllib.request.Request(
        client.base_url + "/simulator/text",
        data=data,
        headers={
            "X-CSRFToken": client.cookie("csrftoken"),
            "Referer": client.base_url + "/simulator/",
        },
    )
    with client.opener.open(request, timeout=10) as response:
        assert response.status == 200


def phone_thread(client: Browserless) -> list[dict]:
    status, text = client.get("/simulator/state?phone=" + urllib.parse.quote(PHONE))
    assert status == 200, text
    return json.loads(text)["messages"]


async def frame_until(socket, wanted, timeout=15.0):
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await socket.recv())
            if wanted(frame):
                return frame


def test_a_lead_who_texts_stop_is_revoked_live_and_confirmed_once(stack):
    server = stack.start_server(OUTBOX_IN_PROCESS="true")
    client = Browserless(server.url)
    client.login("alice", "alice-pass-1")
    client.get("/simulator/")  # the CSRF cookie for the simulator's form

    async def scenario():
        async with websockets.connect(
            server.ws_url, additional_headers=client.ws_headers()
        ) as socket:
            hello = json.loads(await socket.recv())
            assert hello["type"] == "hello"

            await asyncio.to_thread(text_as_lead, client, "Hi, I need a roof quote")
            authorized = await frame_until(
                socket,
                lambda f: f["type"] == "consent.changed" and f["number"] == PHONE,
            )
            assert authorized["state"] == "authorized"
            assert authorized["reason"] == "lead texted first"

            await asyncio.to_thread(text_as_lead, client, "  Stop. ")
            revoked = await frame_until(
                socket,
                lambda f: f["type"] == "consent.changed" and f["state"] == "revoked",
            )
            assert revoked["reason"] == "lead texted STOP"
            assert "opted out" in revoked["notice"]
            reply = await frame_until(
                socket,
                lambda f: (
                    f["type"] == "message.created"
                    and f["message"]["kind"] == "auto_reply"
                ),
            )
            conversation = reply["conversation"]

            client_id = str(uuid.uuid4())
            await socket.send(
                json.dumps(
                    {
                        "type": "message.send",
                        "client_id": client_id,
                        "conversation": conversation,
                        "body": "Are you sure?",
                    }
                )
            )
            error = await frame_until(socket, lambda f: f["type"] in ("error", "ack"))
            assert (error["type"], error["code"]) == ("error", "consent_revoked")

    asyncio.run(scenario())

    # The phone got the opt-out confirmation, once, and nothing else.
    deadline = time.monotonic() + 15
    while True:
        received = [m for m in phone_thread(client) if m["direction"] == "to_phone"]
        if received or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [m["body"] for m in received] == [
        "Acme Roofing: You are unsubscribed and will get no more messages. "
        "Reply START to resubscribe."
    ]

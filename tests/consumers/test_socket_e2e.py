"""End to end: two real Daphne processes sharing a database and Redis, real
WebSocket clients logged in through the real login form, and a signed carrier
webhook sent to one process reaching sockets on both."""

import asyncio
import json
import time
import uuid

import pytest
import websockets

from tests.conftest import SENDER_NUMBER
from tests.servers import Browserless, next_of, open_console, text_through_simulator

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LEAD = "+12065550144"


def text_from_lead(server, secret_key: str, body: str) -> int:
    return text_through_simulator(server, secret_key, LEAD, SENDER_NUMBER, body)


async def test_a_webhook_to_one_process_reaches_sockets_on_the_other(redis_url, stack):
    shared = {"REDIS_URL": redis_url, "REDIS_PREFIX": f"e2e{uuid.uuid4().hex[:10]}"}
    webhook_server = stack.start_server(**shared)
    console_server = stack.start_server(**shared)
    _, laptop, _ = await open_console(console_server, "alice", "alice-pass-1")
    _, phone, _ = await open_console(webhook_server, "alice", "alice-pass-1")

    started = time.monotonic()
    status = await asyncio.to_thread(
        text_from_lead, webhook_server, stack.env["SECRET_KEY"], "Is Friday ok?"
    )
    assert status == 204
    created = await next_of(laptop, "message.created")
    elapsed = time.monotonic() - started
    # Figures for information (bench/ measures properly), never asserted on.
    print(f"\nwebhook -> socket on the other process, first: {elapsed * 1000:.0f} ms")

    assert created["message"]["body"] == "Is Friday ok?"
    assert created["message"]["direction"] == "in"
    assert created["unread"] == {"total": 1, "conversation": 1}
    assert (await next_of(phone, "message.created"))["cursor"] == created["cursor"]

    # Reading on the laptop clears the badge on the phone, across processes.
    await laptop.send(
        json.dumps(
            {
                "type": "conversation.read",
                "conversation": created["conversation"],
                "message": created["message"]["id"],
            }
        )
    )
    await next_of(phone, "unread.changed", where=lambda f: f["unread"]["total"] == 0)

    # A console on the other process resumes from the database.
    await phone.close()
    await asyncio.to_thread(
        text_from_lead, webhook_server, stack.env["SECRET_KEY"], "Hello?"
    )
    missed = await next_of(laptop, "message.created")
    _, back, hello = await open_console(console_server, "alice", "alice-pass-1")
    await back.send(json.dumps({"type": "resume", "cursor": created["cursor"]}))
    replayed = await next_of(back, "message.created")
    missed.pop("unread")  # live only: after a replay, unread.changed says it
    assert replayed == missed
    assert (await next_of(back, "resumed"))["cursor"] >= missed["cursor"]
    warm = []
    for n in range(5):
        started = time.monotonic()
        await asyncio.to_thread(
            text_from_lead, webhook_server, stack.env["SECRET_KEY"], f"Warm {n}"
        )
        await next_of(
            back,
            "message.created",
            where=lambda f, n=n: f"Warm {n}" == (f["message"]["body"]),
        )
        warm.append(time.monotonic() - started)
    print(f"...then: median {sorted(warm)[2] * 1000:.0f} ms of 5")
    await laptop.close()
    await back.close()

    # A page of another site cannot open a socket, even with the cookie...
    client = Browserless(console_server.url)
    await asyncio.to_thread(client.login, "alice", "alice-pass-1")
    headers = {**client.ws_headers(), "Origin": "https://evil.example.net"}
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(console_server.ws_url, additional_headers=headers)
    assert refused.value.response.status_code == 403
    # ...and a socket without a session is closed with 4401 before any data.
    anonymous = await websockets.connect(
        console_server.ws_url, additional_headers={"Origin": console_server.url}
    )
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(anonymous.recv(), 10)
    assert closed.value.rcvd.code == 4401

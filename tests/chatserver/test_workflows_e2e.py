"""Workflows end to end (issue 20): a real Daphne process with its outbox, a
real WebSocket client, the lead's phone on the simulator's network. A lead
enrolled in a three-step workflow gets its day-0 text from the outbox; an
opt-out stops the workflow (its later text fails, live, and never reaches
the phone); for another lead, a reply stops it the same way."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request

import pytest
import websockets

from tests.conftest import SENDER_NUMBER
from tests.servers import Browserless

pytestmark = pytest.mark.e2e

OPTS_OUT = "+14155550181"
REPLIES = "+14155550182"

SETUP = """
from chatserver.actions import workflows
from chatserver.models import Organisation, Template
org = Organisation.objects.get(name="Acme Roofing")
make = Template.objects.create
hello = make(organisation=org, name="Hello", body="Hi from {org.name}!")
later = make(organisation=org, name="Later", body="Still want that quote?")
workflows.save_workflow(org, None, "New roof leads", [
    {"kind": "text", "delay_days": 0, "template": hello.id},
    {"kind": "call", "delay_days": 2, "note": "Call about the quote"},
    {"kind": "text", "delay_days": 5, "template": later.id},
])
"""


def post(client: Browserless, path: str, form: dict | None = None, data=None):
    """A POST as the logged-in agent: a form (the simulator's page) or JSON."""
    body = (
        urllib.parse.urlencode(form).encode()
        if form is not None
        else json.dumps(data or {}).encode()
    )
    request = urllib.request.Request(
        client.base_url + path,
        data=body,
        headers={
            "X-CSRFToken": client.cookie("csrftoken"),
            "Referer": client.base_url + ("/simulator/" if form is not None else "/"),
            **({} if form is not None else {"Content-Type": "application/json"}),
        },
    )
    with client.opener.open(request, timeout=15) as response:
        answer = response.read()
    return json.loads(answer) if form is None else None


def text_as(client: Browserless, phone: str, body: str) -> None:
    post(
        client,
        "/simulator/text",
        {"phone": phone, "company": SENDER_NUMBER, "body": body},
    )


def received(client: Browserless, phone: str) -> list[str]:
    status, text = client.get("/simulator/state?phone=" + urllib.parse.quote(phone))
    assert status == 200, text
    return [
        m["body"] for m in json.loads(text)["messages"] if m["direction"] == "to_phone"
    ]


async def frame_until(socket, wanted, timeout=20.0):
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await socket.recv())
            if wanted(frame):
                return frame


def test_an_opt_out_and_a_reply_stop_a_workflow(stack):
    stack.command("shell", "-c", SETUP)
    server = stack.start_server(OUTBOX_IN_PROCESS="true")
    client = Browserless(server.url)
    client.login("alice", "alice-pass-1")
    client.get("/simulator/")  # the CSRF cookie for the simulator's form
    workflow = json.loads(client.get("/api/workflows")[1])["workflows"][0]["id"]

    async def enroll(socket, phone: str) -> int:
        """The lead texts in; Alice starts the workflow; its day-0 text goes."""
        await asyncio.to_thread(text_as, client, phone, "Hi, a quote for my roof?")
        created = await frame_until(
            socket,
            lambda f: (
                f["type"] == "message.created"
                and f["summary"].get("contact_number") == phone
            ),
        )
        conversation = created["conversation"]
        started = await asyncio.to_thread(
            post,
            client,
            f"/api/conversations/{conversation}/workflows",
            None,
            {"workflow": workflow},
        )
        assert started["enrollment"]["stopped_at"] is None
        first = await frame_until(
            socket,
            lambda f: (
                f["type"] == "message.created"
                and f["conversation"] == conversation
                and f["message"]["body"].endswith("Hi from Acme Roofing!")
            ),
        )
        later = await frame_until(
            socket,
            lambda f: (
                f["type"] == "message.created"
                and f["conversation"] == conversation
                and f["message"]["body"] == "Still want that quote?"
            ),
        )
        assert later["message"]["status"] == "scheduled"
        # The outbox releases the day-0 text (through the checks) and sends it.
        await frame_until(
            socket,
            lambda f: (
                f["type"] == "message.status"
                and f["message"] == first["message"]["id"]
                and f["status"] in ("sent", "delivered")
            ),
        )
        return later["message"]["id"]

    async def scenario():
        async with websockets.connect(
            server.ws_url, additional_headers=client.ws_headers()
        ) as socket:
            hello = json.loads(await socket.recv())
            assert hello["type"] == "hello"

            # An opt-out stops it.
            later = await enroll(socket, OPTS_OUT)
            await asyncio.to_thread(text_as, client, OPTS_OUT, "STOP")
            failed = await frame_until(
                socket,
                lambda f: f["type"] == "message.status" and f["message"] == later,
            )
            assert failed["status"] == "failed"
            stopped = await frame_until(
                socket, lambda f: f["type"] == "enrollment.updated"
            )
            assert stopped["change"] == "stopped"
            assert stopped["enrollment"]["stop_reason"] == "the lead opted out"

            # The lead's reply stops it.
            later = await enroll(socket, REPLIES)
            await asyncio.to_thread(text_as, client, REPLIES, "Yes please, call me")
            failed = await frame_until(
                socket,
                lambda f: f["type"] == "message.status" and f["message"] == later,
            )
            assert (failed["status"], failed["error_code"]) == (
                "failed",
                "workflow_stopped",
            )
            assert "the lead replied" in failed["error_reason"]
            stopped = await frame_until(
                socket, lambda f: f["type"] == "enrollment.updated"
            )
            assert stopped["enrollment"]["stop_reason"] == "the lead replied"

    asyncio.run(scenario())

    # The day-0 texts reached the phones; the stopped ones never do.
    for phone in (OPTS_OUT, REPLIES):
        assert any("Hi from Acme Roofing!" in b for b in received(client, phone))
        assert not any("Still want that quote?" in b for b in received(client, phone))

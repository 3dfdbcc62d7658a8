"""End to end through a real Daphne process: agents logged in through the
login form, on real WebSockets, hand a lead around; the assignee is emailed
(the console email backend of `make run` prints it to the server's output)."""

import asyncio
import json
import time
import urllib.parse
import uuid

import pytest

from tests.servers import next_of, open_console

pytestmark = pytest.mark.e2e


def get_json(client, path, **params):
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    status, body = client.get(path + query)
    return status, json.loads(body)


async def test_a_lead_handed_from_agent_to_agent_over_real_sockets(stack):
    stack.command(
        "add_agent",
        "carol",
        "--password",
        "carol-pass-1",
        "--access",
        "mine",
        "--sms",
        "allow",
        "--first-name",
        "Carol",
        "--email",
        "carol@example.com",
    )
    server = stack.start_server()
    alice_http, alice, _ = await open_console(server, "alice", "alice-pass-1")
    carol_http, carol, carol_hello = await open_console(server, "carol", "carol-pass-1")
    assert carol_hello["buckets"] == {
        "unassigned": 0,
        "mine": 0,
        "assigned": 0,
        "closed": 0,
    }

    new_id = str(uuid.uuid4())
    await alice.send(
        json.dumps(
            {
                "type": "lead.create",
                "client_id": new_id,
                "first_name": "Dana",
                "last_name": "Whitfield",
                "number": "+14155550123",
            }
        )
    )
    lead = (await next_of(alice, "ack", client_id=new_id))["result"]["lead"]
    assert lead["assignee"] is None  # new leads land in Unassigned

    await alice.send(
        json.dumps({"type": "lead.assign", "lead": lead["id"], "agent": None})
    )
    agents = get_json(alice_http, "/api/agents")[1]["agents"]
    carol_id = next(a["id"] for a in agents if a["username"] == "carol")
    await alice.send(
        json.dumps({"type": "lead.assign", "lead": lead["id"], "agent": carol_id})
    )
    update = await next_of(carol, "lead.updated")
    assert update["lead"]["assignee"] == carol_id and update["change"] == "assigned"
    assert (await next_of(carol, "buckets.changed"))["buckets"]["mine"] == 1
    status, page = await asyncio.to_thread(
        get_json, carol_http, "/api/leads", bucket="mine"
    )
    assert status == 200 and [item["id"] for item in page["leads"]] == [lead["id"]]

    # Carol got an email (printed by the console backend under DEBUG).
    deadline = time.monotonic() + 10
    while "Lead assigned to you: Dana Whitfield" not in server.log():
        assert time.monotonic() < deadline, server.log()[-2000:]
        await asyncio.sleep(0.1)
    assert "To: carol@example.com" in server.log()

    # Handed back: Carol's chatbox greys, her Mine empties, the lead is gone for her.
    await alice.send(
        json.dumps({"type": "lead.assign", "lead": lead["id"], "agent": None})
    )
    update = await next_of(carol, "lead.updated")
    assert (
        update["lead"]["assignee"] is None
        and carol_id not in update["audience"]["agents"]
    )
    assert (await next_of(carol, "buckets.changed"))["buckets"]["mine"] == 0
    status, _ = await asyncio.to_thread(
        get_json, carol_http, f"/api/leads/{lead['id']}"
    )
    assert status == 404
    for socket in (alice, carol):
        await socket.close()

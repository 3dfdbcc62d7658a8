"""Real processes: the simulator round trip, and an outbox that loses nothing.

Daphne servers and outbox workers run as `make run` and the Procfile run them,
on a database of their own; the test acts only as people do (the console's
JSON API, the simulator page) and as a carrier does.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter

import pytest

from tests.conftest import SENDER_NUMBER
from tests.servers import Browserless, free_port

pytestmark = pytest.mark.e2e

PHONE = "+13125550177"


def request(client: Browserless, method: str, path: str, data=None, form=False):
    """An HTTP request with the client's session and CSRF token; returns
    (status, parsed JSON or text)."""
    headers = {"X-CSRFToken": client.cookie("csrftoken") or ""}
    body = None
    if data is not None and form:
        data = {**data, "csrfmiddlewaretoken": client.cookie("csrftoken")}
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(
        client.base_url + path, data=body, headers=headers, method=method
    )
    try:
        with client.opener.open(req, timeout=15) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_for(what, check, timeout=30.0):
    """Poll ``check`` until it returns something true; fail saying ``what``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def phone_thread(client: Browserless, phone: str = PHONE) -> list[dict]:
    status, state = request(
        client, "GET", "/simulator/state?" + urllib.parse.urlencode({"phone": phone})
    )
    assert status == 200, state
    return state["messages"]


def text_company_as_lead(client: Browserless, body: str, phone: str = PHONE):
    """Text the company from a simulated phone, with the simulator page."""
    status, _ = request(
        client,
        "POST",
        "/simulator/text",
        {"phone": phone, "company": SENDER_NUMBER, "body": body},
        form=True,
    )
    assert status == 200  # redirected back to the phone's page
    wait_for(
        "the company's webhook to take the text",
        lambda: any(
            m["body"] == body and m["status"] == "delivered"
            for m in phone_thread(client, phone)
        ),
    )


def conversation_with(client: Browserless, phone: str = PHONE) -> int:
    def find():
        status, state = request(client, "GET", "/api/state")
        assert status == 200, state
        return next(
            (c["id"] for c in state["conversations"] if c["contact_number"] == phone),
            None,
        )

    return wait_for(f"a conversation with {phone}", find)


def reply(client: Browserless, conversation: int, body: str) -> int:
    status, answer = request(
        client,
        "POST",
        f"/api/conversations/{conversation}/messages",
        {"body": body, "client_id": str(uuid.uuid4())},
    )
    assert status == 201, answer
    assert answer["message"]["status"] == "queued"
    return answer["message"]["id"]


def statuses(client: Browserless, conversation: int) -> dict[int, dict]:
    status, page = request(client, "GET", f"/api/conversations/{conversation}/messages")
    assert status == 200, page
    return {m["id"]: m for m in page["messages"]}


def received(client: Browserless, text: str, phone: str = PHONE) -> list[dict]:
    """The texts the phone got that contain ``text``."""
    return [
        m
        for m in phone_thread(client, phone)
        if m["direction"] == "to_phone" and text in m["body"]
    ]


def test_simulator_round_trip_through_a_server_as_make_run_starts_it(stack):
    server = stack.start_server(OUTBOX_IN_PROCESS="true")
    alice = Browserless(server.url)
    alice.login("alice", "alice-pass-1")
    status, page = alice.get("/simulator/?phone=" + urllib.parse.quote(PHONE))
    assert status == 200
    assert SENDER_NUMBER in page and 'type="module"' in page

    # A lead texts the company from the simulated phone...
    text_company_as_lead(alice, "Do you also do gutters?")
    conversation = conversation_with(alice)
    [inbound] = statuses(alice, conversation).values()
    assert inbound["body"] == "Do you also do gutters?"
    assert inbound["direction"] == "in"

    # ...the agent answers, and the phone gets it, reported as delivered.
    message_id = reply(alice, conversation, "We do! Shall we come by Thursday?")
    wait_for(
        "the reply to be delivered",
        lambda: statuses(alice, conversation)[message_id]["status"] == "delivered",
    )
    [on_phone] = received(alice, "Shall we come by Thursday?")
    assert on_phone["status"] == "delivered"

    # A phone the carrier cannot reach: the agent sees why.
    status, _ = request(
        alice, "POST", "/simulator/mode", {"phone": PHONE, "mode": "fail"}, form=True
    )
    assert status == 200
    failed_id = reply(alice, conversation, "Are you there?")
    failed = wait_for(
        "the failure to be reported",
        lambda: (
            (m := statuses(alice, conversation)[failed_id])["status"] == "failed" and m
        ),
    )
    assert failed["error_code"] == "30006"
    assert "landline" in failed["error_reason"]

    # The page is a staff tool.
    bob = Browserless(server.url)
    bob.login("bob", "bob-pass-1")
    assert bob.get("/simulator/")[0] == 403
    assert request(bob, "GET", "/simulator/state?phone=%2B13125550177")[0] == 403
    anonymous = Browserless(server.url)
    status, page = anonymous.get("/simulator/")
    assert status == 200 and 'name="username"' in page  # the login form


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(stack):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = stack.start_server(port, OUTBOX_IN_PROCESS="false", PUBLIC_BASE_URL=base)
    alice = Browserless(server.url)
    alice.login("alice", "alice-pass-1")
    text_company_as_lead(alice, "Can you quote a new roof?")
    conversation = conversation_with(alice)

    # The carrier will take the next text and then never answer.
    request(
        alice, "POST", "/simulator/mode", {"phone": PHONE, "mode": "timeout"}, form=True
    )
    workers = [stack.start_worker(PUBLIC_BASE_URL=base)]
    try:
        blocked = reply(alice, conversation, "Our quote is on its way.")
        wait_for(
            "the carrier to get it", lambda: received(alice, "quote is on its way")
        )
        # Stored while the worker is stuck: never claimed before the kill.
        waiting = reply(alice, conversation, "Call us with any question.")
        assert statuses(alice, conversation)[blocked]["status"] == "sending"

        workers[0].kill()  # kill -9, in the middle of the send
        workers[0].wait(10)
        assert statuses(alice, conversation)[waiting]["status"] == "queued"

        request(
            alice,
            "POST",
            "/simulator/mode",
            {"phone": PHONE, "mode": "deliver"},
            form=True,
        )
        workers.append(
            stack.start_worker(PUBLIC_BASE_URL=base, OUTBOX_SENDING_LEASE="1")
        )
        wait_for(
            "the restarted worker to settle both texts",
            lambda: (
                [
                    statuses(alice, conversation)[blocked]["status"],
                    statuses(alice, conversation)[waiting]["status"],
                ]
                == ["check", "delivered"]
            ),
        )
        checked = statuses(alice, conversation)[blocked]
        assert "may have been sent" in checked["error_reason"]
        time.sleep(2)  # room for a wrong second send to show up
        assert len(received(alice, "quote is on its way")) == 1
        assert len(received(alice, "Call us with any question")) == 1
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(10)


def test_every_sender_process_together_sends_each_text_once(stack):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # This one serves people and carriers, and sends nothing itself.
    server = stack.start_server(port, OUTBOX_IN_PROCESS="false", PUBLIC_BASE_URL=base)
    alice = Browserless(server.url)
    alice.login("alice", "alice-pass-1")
    text_company_as_lead(alice, "Please send me the details.")
    conversation = conversation_with(alice)
    first = [reply(alice, conversation, f"Detail {n} of 6") for n in range(6)]

    # A web process with the in-process outbox sends what was queued before
    # it started, without any request reaching it.
    sender_one = stack.start_server(OUTBOX_IN_PROCESS="true", PUBLIC_BASE_URL=base)
    wait_for(
        "the first web process to send the backlog",
        lambda: all(
            statuses(alice, conversation)[i]["status"] == "delivered" for i in first
        ),
    )

    # Then two web processes and two workers share the next batch.
    stack.start_server(OUTBOX_IN_PROCESS="true", PUBLIC_BASE_URL=base)
    workers = [stack.start_worker(PUBLIC_BASE_URL=base) for _ in range(2)]
    try:
        second = [reply(alice, conversation, f"Part {n} of 20") for n in range(20)]
        wait_for(
            "every text to be delivered",
            lambda: all(
                statuses(alice, conversation)[i]["status"] == "delivered"
                for i in second
            ),
            timeout=60,
        )
        # Stopped as a PaaS stops it (SIGTERM): it finishes and exits cleanly.
        for worker in workers:
            worker.terminate()
            assert worker.wait(10) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)

    sent = Counter(
        m["body"] for m in phone_thread(alice) if m["direction"] == "to_phone"
    )
    assert len(sent) == 26
    assert set(sent.values()) == {1}, sent
    assert "outbox running in the web process" in sender_one.log()

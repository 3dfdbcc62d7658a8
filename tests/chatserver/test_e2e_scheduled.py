"""Scheduled texts with real processes (issue 20): texts scheduled 5 s ahead
go once each, through two outbox workers of which one is killed (SIGKILL)
before their time and another started in its place; a lead's reply cancels
a scheduled text, which then never reaches their phone.

A Daphne and `chatserver run_outbox` workers as the Procfile runs them, on a
database of their own; the test acts as people do (the JSON API, the
simulator's phone)."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest

from tests.chatserver.test_e2e_carriers import (
    conversation_with,
    received,
    request,
    statuses,
    text_company_as_lead,
    wait_for,
)
from tests.servers import Browserless, free_port

pytestmark = pytest.mark.e2e


def schedule(client, conversation: int, body: str, send_at: datetime.datetime) -> int:
    status, answer = request(
        client,
        "POST",
        f"/api/conversations/{conversation}/messages",
        {"body": body, "client_id": str(uuid.uuid4()), "send_at": send_at.isoformat()},
    )
    assert status == 201, answer
    assert answer["message"]["status"] == "scheduled"
    assert answer["message"]["cancel_on_reply"] is True
    return answer["message"]["id"]


def test_texts_scheduled_5s_ahead_go_once_though_a_worker_is_killed(stack):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The web process sends nothing itself: only the workers do.
    server = stack.start_server(port, OUTBOX_IN_PROCESS="false", PUBLIC_BASE_URL=base)
    alice = Browserless(server.url)
    alice.login("alice", "alice-pass-1")
    text_company_as_lead(alice, "When can you come?")
    conversation = conversation_with(alice)

    workers = [stack.start_worker(PUBLIC_BASE_URL=base) for _ in range(2)]
    try:
        at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=5)
        ids = [
            schedule(alice, conversation, f"Visit plan {n} of 6", at) for n in range(6)
        ]
        time.sleep(1.5)
        workers[0].kill()  # SIGKILL, with every text still waiting for its time
        workers[0].wait(10)
        shown = statuses(alice, conversation)
        assert {shown[i]["status"] for i in ids} == {"scheduled"}
        assert not received(alice, "Visit plan")
        workers.append(stack.start_worker(PUBLIC_BASE_URL=base))  # its restart

        wait_for(
            "every scheduled text to be delivered",
            lambda: all(
                statuses(alice, conversation)[i]["status"] == "delivered" for i in ids
            ),
            timeout=60,
        )
        time.sleep(2)  # room for a wrong second send to show up
        for n in range(6):
            assert len(received(alice, f"Visit plan {n} of 6")) == 1, n
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)


def test_a_leads_reply_cancels_a_scheduled_text_before_it_goes(stack):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = stack.start_server(port, OUTBOX_IN_PROCESS="false", PUBLIC_BASE_URL=base)
    alice = Browserless(server.url)
    alice.login("alice", "alice-pass-1")
    text_company_as_lead(alice, "Send me a quote please.")
    conversation = conversation_with(alice)
    worker = stack.start_worker(PUBLIC_BASE_URL=base)
    try:
        at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=5)
        waiting = schedule(alice, conversation, "Just checking in on the quote.", at)
        text_company_as_lead(alice, "Got it already, thanks!")
        cancelled = wait_for(
            "the reply to cancel it",
            lambda: (
                (m := statuses(alice, conversation)[waiting])["status"] == "cancelled"
                and m
            ),
        )
        assert cancelled["error_reason"] == "Cancelled: the lead replied first."
        wait_for(
            "its time to pass",
            lambda: (
                datetime.datetime.now(datetime.UTC) > at + datetime.timedelta(seconds=3)
            ),
        )
        assert not received(alice, "checking in on the quote")
        assert statuses(alice, conversation)[waiting]["status"] == "cancelled"
    finally:
        worker.kill()
        worker.wait(10)

"""The outbox: queued first, sent once by exactly one sender, nothing lost."""

from __future__ import annotations

import datetime
import threading
import time
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.utils import timezone

from carriers import phone_network
from carriers.base import SendResult
from chatserver import actions
from chatserver.actions import delivery as sending
from chatserver.models import Event, Message
from chatserver.worker import loop as outbox


@pytest.fixture
def network(settings, tmp_path):
    settings.SIMULATOR_DIR = tmp_path / "simulator"
    return phone_network.network()


def require_postgresql():
    from tests.conftest import require_or_skip

    if connection.vendor != "postgresql":
        require_or_skip("needs PostgreSQL (set DATABASE_URL) for concurrent senders")


def test_a_text_is_stored_as_queued_and_published_before_anything_is_sent(
    conversation, alice, network
):
    message = actions.send_message(alice, conversation, "Hi Dana!")
    assert message.status == Message.Status.QUEUED
    created = Event.objects.filter(type="message.created").latest("id")
    assert created.payload["message"]["id"] == message.id
    assert created.payload["message"]["status"] == "queued"
    assert network.messages() == []


def test_a_sender_that_died_mid_send_leaves_the_text_for_an_agent_to_check(
    conversation, alice, network, settings
):
    settings.OUTBOX_SENDING_LEASE = 60
    message = actions.send_message(alice, conversation, "Hi Dana!")
    assert sending.claim(message.id) is not None
    # Its sender died here. Within the lease nobody touches the text...
    outbox.run_once()
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING

    # ...after it, an agent is asked to check: it may have reached the
    # carrier, so it is never sent a second time automatically.
    Message.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - datetime.timedelta(seconds=61)
    )
    outbox.run_once()
    outbox.run_once()
    message.refresh_from_db()
    assert message.status == Message.Status.CHECK
    assert "may have been sent" in message.error_reason
    assert network.messages() == []
    status = Event.objects.filter(type="message.status").latest("id")
    assert status.payload["status"] == "check"


def test_the_worker_does_the_clocks_work_once_a_second_not_every_pass(
    conversation, alice, network
):
    now = [100.0]
    maintenance = outbox.Maintenance(clock=lambda: now[0])
    assert maintenance.due()  # at start
    now[0] += 0.5
    assert not maintenance.due()
    now[0] += 0.5
    assert maintenance.due()

    # A pass in between still sends what is due, and leaves a dead
    # sender's text for the next pass that does the clock's work.
    stale = actions.send_message(alice, conversation, "Hi Dana!")
    sending.claim(stale.id)
    Message.objects.filter(pk=stale.pk).update(
        updated_at=timezone.now() - datetime.timedelta(hours=1)
    )
    fresh = actions.send_message(alice, conversation, "Still there?")
    outbox.run_once(maintain=False)
    assert [m["body"] for m in network.messages()] == ["Still there?"]
    stale.refresh_from_db()
    assert stale.status == Message.Status.SENDING
    outbox.run_once(maintain=True)
    stale.refresh_from_db()
    assert stale.status == Message.Status.CHECK
    fresh.refresh_from_db()
    assert fresh.status == Message.Status.SENT


def test_a_late_receipt_settles_a_text_marked_for_checking(
    client, conversation, alice, network
):
    message = actions.send_message(alice, conversation, "Hi Dana!")
    sending.claim(message.id)
    message.refresh_from_db()
    actions.messages.move_status(message, Message.Status.CHECK, "", "check")

    # The carrier had it: its receipt names our id in the callback URL.
    from django.conf import settings

    path = f"/carriers/simulator/status?ref={message.id}"
    body = urlencode({"MessageId": "SIM" + "b" * 32, "Status": "delivered"}).encode()
    headers = phone_network.signed_headers(settings.PUBLIC_BASE_URL + path, body)
    response = client.post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SIMULATOR_TIMESTAMP=headers["X-Simulator-Timestamp"],
        HTTP_X_SIMULATOR_NONCE=headers["X-Simulator-Nonce"],
        HTTP_X_SIMULATOR_SIGNATURE=headers["X-Simulator-Signature"],
    )
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert message.carrier_message_id == "SIM" + "b" * 32


def test_a_slow_send_flagged_meanwhile_is_settled_by_the_carriers_answer(
    conversation, alice
):
    message = actions.send_message(alice, conversation, "Hi Dana!")
    claimed = sending.claim(message.id)
    # Another process's lease check flags it while the carrier thinks...
    Message.objects.filter(pk=message.pk).update(status=Message.Status.CHECK)
    # ...then the carrier accepts it: that is better knowledge.
    sending.record_sent(claimed, SendResult(carrier_message_id="SIM" + "c" * 32))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.error_reason == ""


def test_a_text_waiting_for_its_retry_cannot_be_claimed_early(conversation, alice):
    message = actions.send_message(alice, conversation, "Hi Dana!")
    Message.objects.filter(pk=message.pk).update(
        send_after=timezone.now() + datetime.timedelta(seconds=30)
    )
    assert sending.claim(message.id) is None
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now())
    assert sending.claim(message.id) is not None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_claim_each_text_exactly_once(conversation, alice, network):
    require_postgresql()
    ids = [
        actions.send_message(alice, conversation, f"Text number {n}").id
        for n in range(40)
    ]
    claims: list[int] = []
    start = threading.Barrier(8)

    def sender():
        try:
            start.wait()
            for message_id in ids:
                if sending.claim(message_id) is not None:
                    claims.append(message_id)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(claims) == sorted(ids)  # each once, none lost


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_outboxes_text_each_message_once(conversation, alice, network):
    require_postgresql()
    ids = [
        actions.send_message(alice, conversation, f"Reminder {n}").id for n in range(24)
    ]
    start = threading.Barrier(4)

    def worker():
        try:
            start.wait()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and outbox.run_once():
                pass
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    phone = conversation.contact_number.number
    bodies = Counter(m["body"] for m in network.messages(phone))
    assert all(count == 1 for count in bodies.values()), bodies
    assert len(bodies) == len(ids)
    statuses = set(Message.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses <= {Message.Status.SENT, Message.Status.DELIVERED}

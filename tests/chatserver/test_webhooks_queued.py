"""Queued webhooks (``WEBHOOKS_QUEUED``, the Procfile's web process): the
carrier is answered once its webhook is stored, and the worker turns it into
messages and statuses; nothing is lost or applied twice on the way."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from django.db import OperationalError, connection

from chatserver import actions, doorbell
from chatserver.actions import webhooks as inbox
from chatserver.models import Event, Message, WebhookReceipt
from chatserver.worker import loop as outbox
from tests.carriers.twilio_support import (
    INBOUND,
    LEAD_NUMBER,
    inbound,
    outbound,  # noqa: F401 (fixture)
    post_twilio,
    status,
    twilio_sender,  # noqa: F401 (fixture)
)
from tests.conftest import SENDER_NUMBER, require_or_skip
from tests.servers import next_of, open_console, text_through_simulator


@pytest.fixture
def queued(settings):
    settings.WEBHOOKS_QUEUED = True


def test_a_text_is_answered_once_stored_and_applied_by_the_worker(
    client, queued, twilio_sender
):
    response = post_twilio(client, INBOUND, inbound(Body="Is Friday ok?"))
    assert response.status_code == 200
    assert b"<Response" in response.content  # the same TwiML as ever
    assert WebhookReceipt.objects.count() == 1
    assert not Message.objects.exists()

    assert outbox.run_once() >= 1
    message = Message.objects.get()
    assert message.body == "Is Friday ok?"
    assert message.conversation.contact_number.number == LEAD_NUMBER
    assert Event.objects.filter(type="message.created").count() == 1
    assert not WebhookReceipt.objects.exists()


def test_a_redelivered_text_is_stored_once(client, queued, twilio_sender):
    params = inbound(Body="Twice?")
    for _ in range(2):
        assert post_twilio(client, INBOUND, params).status_code == 200
    outbox.run_once()
    assert Message.objects.filter(body="Twice?").count() == 1
    assert not WebhookReceipt.objects.exists()


def test_what_can_be_refused_is_refused_before_anything_is_stored(
    client, queued, twilio_sender
):
    not_ours = post_twilio(client, INBOUND, inbound(To="+14155550199"))
    assert not_ours.status_code == 404
    malformed = post_twilio(client, INBOUND, inbound(MessageSid=None))
    assert malformed.status_code == 400
    forged = post_twilio(client, INBOUND, inbound(), signature="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403
    assert not WebhookReceipt.objects.exists()


def test_a_status_callback_moves_the_message_once_applied(client, settings, outbound):
    message, sid = outbound()  # texted in and answered, applied at once
    settings.WEBHOOKS_QUEUED = True
    assert status(client, message, sid, "delivered").status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    inbox.process_pending()
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_a_receipt_that_cannot_be_applied_is_kept_with_why_and_can_be_retried(
    client, queued, twilio_sender
):
    post_twilio(client, INBOUND, inbound(Body="first"))
    post_twilio(client, INBOUND, inbound(Body="second"))
    first = WebhookReceipt.objects.order_by("id").first()
    # The number stopped being ours between the answer and the worker.
    twilio_sender.delete()
    assert inbox.process_pending() == 2
    assert not Message.objects.exists()
    kept = WebhookReceipt.objects.order_by("id")
    assert [r.failed_at is not None for r in kept] == [True, True]
    assert "is not one of our twilio numbers" in kept[0].error

    # Mended (the number is back): the admin's action puts them back in line.
    actions.add_number(twilio_sender.number, "twilio", twilio_sender.organisation)
    assert inbox.retry(WebhookReceipt.objects.filter(pk=first.pk)) == 1
    inbox.process_pending()
    assert list(Message.objects.values_list("body", flat=True)) == ["first"]
    assert WebhookReceipt.objects.get().error  # the second is still kept


def test_a_database_failure_takes_the_whole_batch_back(
    client, queued, twilio_sender, monkeypatch
):
    for body in ("one", "two", "three"):
        post_twilio(client, INBOUND, inbound(Body=body))
    real = inbox.apply
    calls = []

    def fail_on_the_second(parsed, arrived=None):
        calls.append(parsed)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        real(parsed, arrived)

    monkeypatch.setattr(inbox, "apply", fail_on_the_second)
    with pytest.raises(OperationalError):
        inbox.process_pending()
    assert not Message.objects.exists()
    assert WebhookReceipt.objects.filter(failed_at__isnull=True).count() == 3

    monkeypatch.setattr(inbox, "apply", real)
    inbox.process_pending()
    assert sorted(Message.objects.values_list("body", flat=True)) == [
        "one",
        "three",
        "two",
    ]


def test_one_bad_receipt_in_a_batch_is_kept_and_the_others_are_applied(
    client, queued, twilio_sender, monkeypatch
):
    """The batch is applied without a savepoint per receipt; when one of them
    fails, the others still land (once each) and the bad one is kept with why."""
    for body in ("one", "broken", "three"):
        post_twilio(client, INBOUND, inbound(Body=body))
    real = inbox.apply

    def a_bug_on_broken(parsed, arrived=None):
        if parsed[0].body == "broken":
            raise ValueError("a bug in applying it")
        real(parsed, arrived)

    monkeypatch.setattr(inbox, "apply", a_bug_on_broken)
    assert inbox.process_pending() == 3
    assert sorted(Message.objects.values_list("body", flat=True)) == ["one", "three"]
    assert Event.objects.filter(type="message.created").count() == 2
    kept = WebhookReceipt.objects.get()
    assert kept.failed_at is not None
    assert "a bug in applying it" in kept.error
    assert inbox.process_pending() == 0  # nothing applied twice


def wait_until(what: str, condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


def test_a_leads_text_is_applied_while_the_worker_waits_on_a_slow_carrier(
    transactional_db, client, queued, twilio_sender, alice, twilio_errors, settings
):
    """The worker's webhooks and its sends run apart: a lead's text does not
    wait for Twilio to answer an agent's send (nor a slow media host)."""
    if connection.vendor != "postgresql":
        require_or_skip("needs PostgreSQL (set DATABASE_URL) for the worker's threads")
    settings.TWILIO_API_URL = twilio_errors.url
    settings.TWILIO_TIMEOUT = 10
    twilio_errors.answers = ["hang"]
    post_twilio(client, INBOUND, inbound(Body="Do you do gutters?"))
    outbox.apply_webhooks()
    conversation = Message.objects.get(body="Do you do gutters?").conversation
    reply = actions.send_message(alice, conversation, "We do. When suits you?")

    stop = threading.Event()
    worker = threading.Thread(target=outbox.run_forever, args=(stop,))
    worker.start()
    try:
        wait_until("the send to reach Twilio", lambda: twilio_errors.requests)
        post_twilio(client, INBOUND, inbound(Body="Tomorrow at 9?"))
        wait_until(
            "the lead's text to be stored",
            lambda: Message.objects.filter(body="Tomorrow at 9?").exists(),
        )
        reply.refresh_from_db()
        assert reply.status == Message.Status.SENDING  # Twilio still silent
    finally:
        stop.set()
        doorbell.wake()
        twilio_errors.release()
        worker.join(20)
    assert not worker.is_alive()
    reply.refresh_from_db()
    assert reply.status == Message.Status.CHECK  # no answer: an agent checks


class WebhookPasses:
    """The worker's webhook loop (``repeat`` as ``run_forever`` starts it) in
    a thread, counting its passes that found nothing; ``during_pass`` runs
    inside the next pass, after it took its receipts. It hears of webhooks
    by PostgreSQL's NOTIFY only, as a worker process hears of the web
    process's: this process's own wake-up is kept for stopping it."""

    def __init__(self, monkeypatch):
        self.empty = 0
        self.wake = doorbell.wake
        monkeypatch.setattr(doorbell, "wake", lambda channel=None: None)
        self.during_pass = None
        take = inbox._take

        def take_then_act(limit, savepoints):
            taken = take(limit, savepoints)
            act, self.during_pass = self.during_pass, None
            if act is not None:
                act()
            return taken

        monkeypatch.setattr(inbox, "_take", take_then_act)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=outbox.repeat,
            args=("webhooks", doorbell.WEBHOOKS, self.step, self.stop),
            kwargs={"more": outbox.webhooks_left},
        )

    def step(self) -> int:
        handled = outbox.apply_webhooks()
        self.empty += handled == 0
        return handled

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.wake()
        self.thread.join(10)


def test_the_worker_looks_for_webhooks_once_per_text_it_is_told_of(
    transactional_db, client, queued, twilio_sender, monkeypatch
):
    """A pass that took fewer receipts than a batch took all there were: the
    worker waits for the next announce instead of looking again at once (a
    second pass per text cost three round trips that found nothing)."""
    if connection.vendor != "postgresql":
        require_or_skip("needs PostgreSQL (set DATABASE_URL) for LISTEN/NOTIFY")
    monkeypatch.setattr(outbox, "POLL_SECONDS", 30.0)
    with WebhookPasses(monkeypatch) as worker:
        wait_until("the worker to listen", lambda: worker.empty >= 1)
        time.sleep(0.2)  # its LISTEN is in place
        # Passes before any text (a wake-up left over from an earlier test
        # adds one) are not the texts'.
        before = worker.empty
        for n in range(5):
            post_twilio(client, INBOUND, inbound(Body=f"text {n}"))
            wait_until(
                f"text {n} to be applied",
                lambda n=n: Message.objects.filter(body=f"text {n}").exists(),
            )
        time.sleep(0.2)
        assert worker.empty == before


def test_a_webhook_stored_while_the_worker_applies_another_waits_for_no_poll(
    transactional_db, client, queued, twilio_sender, monkeypatch
):
    """A text announced while the worker is busy with the one before is
    applied at once: the announce waits on the listening connection."""
    if connection.vendor != "postgresql":
        require_or_skip("needs PostgreSQL (set DATABASE_URL) for LISTEN/NOTIFY")
    monkeypatch.setattr(outbox, "POLL_SECONDS", 30.0)
    with WebhookPasses(monkeypatch) as worker:
        wait_until("the worker to listen", lambda: worker.empty >= 1)
        time.sleep(0.2)
        worker.during_pass = lambda: post_twilio(
            client, INBOUND, inbound(Body="the second, mid-pass")
        )
        post_twilio(client, INBOUND, inbound(Body="the first"))
        wait_until(
            "the text stored mid-pass to be applied",
            lambda: Message.objects.filter(body="the second, mid-pass").exists(),
            timeout=3.0,
        )


def test_the_admin_lists_receipts_and_retries_them(admin_client, org):
    from django.utils import timezone

    receipt = WebhookReceipt.objects.create(
        carrier="twilio",
        kind="inbound",
        url="https://x/",
        form={},
        error="broken",
        failed_at=timezone.now(),
    )
    changelist = "/admin/chatserver/webhookreceipt/"
    page = admin_client.get(changelist)
    assert page.status_code == 200
    assert b"broken" in page.content
    answer = admin_client.post(
        changelist, {"action": "retry", "_selected_action": [receipt.pk]}
    )
    assert answer.status_code == 302
    receipt.refresh_from_db()
    assert receipt.failed_at is None and receipt.error == ""


def lead_texts(server, secret_key: str, body: str) -> int:
    return text_through_simulator(server, secret_key, LEAD_NUMBER, SENDER_NUMBER, body)


@pytest.mark.e2e
@pytest.mark.integration
async def test_queued_webhooks_reach_sockets_and_survive_a_killed_worker(
    redis_url, stack
):
    """The Procfile's processes: web answers, the worker applies; a worker
    killed while texts wait loses none of them."""
    env = {
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": f"e2e{uuid.uuid4().hex[:10]}",
        "OUTBOX_IN_PROCESS": "false",
        "WEBHOOKS_QUEUED": "true",
    }
    web = stack.start_server(**env)
    worker = stack.start_worker(**env)
    try:
        _, console, _ = await open_console(web, "alice", "alice-pass-1")
        secret = stack.env["SECRET_KEY"]
        assert await asyncio.to_thread(lead_texts, web, secret, "Queued hi") == 204
        created = await next_of(console, "message.created", timeout=15)
        assert created["message"]["body"] == "Queued hi"

        worker.kill()
        worker.wait(10)
        for n in range(3):
            assert await asyncio.to_thread(lead_texts, web, secret, f"W{n}") == 204
        with pytest.raises(TimeoutError):
            await next_of(console, "message.created", timeout=1.5)

        worker = stack.start_worker(**env)
        bodies = [
            (await next_of(console, "message.created", timeout=20))["message"]["body"]
            for _ in range(3)
        ]
        assert bodies == ["W0", "W1", "W2"]
        await console.close()
    finally:
        worker.kill()
        worker.wait(10)

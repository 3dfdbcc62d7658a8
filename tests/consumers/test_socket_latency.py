"""Each socket measures how long a carrier's webhook took to reach it (the
``/metrics`` histogram): a lead's text and a delivery status alike, from the
time the webhook arrived; events no webhook caused are not measured."""

import time
import uuid

import pytest

from carriers.base import DeliveryStatus, InboundMessage, StatusUpdate
from chatserver import metrics
from chatserver.actions import webhooks
from chatserver.models import Message
from tests.conftest import SENDER_NUMBER
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    connect,
    db,
    lead_number,
)

pytestmark = pytest.mark.django_db(transaction=True)


def measured(event: str) -> tuple[float, float]:
    """How many relays of ``event`` were measured, and their total seconds."""
    histogram = metrics.WEBHOOK_TO_SOCKET.labels(event)
    samples = {s.name: s.value for s in histogram.collect()[0].samples}
    return (
        samples["chatserver_webhook_to_socket_seconds_count"],
        samples["chatserver_webhook_to_socket_seconds_sum"],
    )


async def test_a_webhooks_events_are_timed_from_its_arrival(alice, sender):
    console = await connect(alice)
    texts, _ = measured("message.created")
    statuses, _ = measured("message.status")
    arrived = time.time() - 2.0  # it waited two seconds in the queue

    inbound = InboundMessage(
        carrier="simulator",
        carrier_message_id=f"SIM{uuid.uuid4().hex}",
        from_number=lead_number(),
        to_number=SENDER_NUMBER,
        body="Timed",
    )
    await db(lambda: webhooks.apply([inbound], arrived))()
    created = await console.until("message.created")
    count, total = measured("message.created")
    assert count == texts + 1 and total >= 2.0

    # The agent answers: their own send is no webhook, and is not timed.
    await console.send(
        type="message.send",
        conversation=created["conversation"],
        body="Thanks!",
        client_id=str(uuid.uuid4()),
    )
    ack = await console.until("ack")
    if not any(
        f["type"] == "message.created" and f["message"]["id"] == ack["message"]
        for f in console.frames
    ):
        await console.until("message.created")  # the agent's text, relayed
    assert measured("message.created")[0] == texts + 1
    assert measured("message.status")[0] == statuses

    def delivered():
        Message.objects.filter(pk=ack["message"]).update(carrier_message_id="SIM-L1")
        update = StatusUpdate("simulator", "SIM-L1", DeliveryStatus.DELIVERED)
        webhooks.apply([update], time.time())

    await db(delivered)()
    await console.until("message.status", status="delivered")
    assert measured("message.status")[0] == statuses + 1
    await console.close()


async def test_a_text_is_timed_once_per_process_however_many_sockets_relay_it(
    alice, sender
):
    """Timed at the first of the process's sockets to relay it: an
    observation per socket cost 8% of the process's CPU for a text to 100."""
    consoles = [await connect(alice) for _ in range(3)]
    texts, _ = measured("message.created")
    inbound = InboundMessage(
        carrier="simulator",
        carrier_message_id=f"SIM{uuid.uuid4().hex}",
        from_number=lead_number(),
        to_number=SENDER_NUMBER,
        body="Once",
    )
    await db(lambda: webhooks.apply([inbound], time.time()))()
    for console in consoles:
        await console.until("message.created")
    assert measured("message.created")[0] == texts + 1
    for console in consoles:
        await console.close()

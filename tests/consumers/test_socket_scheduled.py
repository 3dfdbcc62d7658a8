"""Scheduled texts over the socket (issue 20): ``message.send`` with
``send_at``, ``message.reschedule`` and ``message.cancel``, their acks and
error frames; and a scheduled text that a check refuses when its time comes,
whose failure and reason reach its author's consoles live."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from chatserver.actions import scheduled
from chatserver.models import Agent, Consent, Message
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    connect,
    db,
    lead_number,
)

pytestmark = pytest.mark.django_db(transaction=True)


def in_a_day() -> str:
    return (timezone.now() + datetime.timedelta(days=1)).isoformat()


async def schedule(console, conversation: int, body: str, **fields) -> dict:
    client_id = str(uuid.uuid4())
    await console.send(
        type="message.send",
        conversation=conversation,
        body=body,
        client_id=client_id,
        **{"send_at": in_a_day(), **fields},
    )
    return await console.until("ack", client_id=client_id)


async def test_send_later_edit_and_cancel_over_the_socket(
    layer, alice, make_agent, text_in
):
    carol = await db(make_agent)("carol", access=Agent.Access.ALL, first_name="Carol")
    inbound = await db(text_in)("Roof quote?", from_number=lead_number())
    conversation = inbound.conversation_id
    mine, colleague = await connect(alice), await connect(carol)

    ack = await schedule(mine, conversation, "Tomorrow at 9?", cancel_on_reply=False)
    assert ack["status"] == "scheduled"
    assert ack["scheduled_for"] is not None and ack["cancel_on_reply"] is False
    created = await colleague.until("message.created")
    assert created["message"]["scheduled_for"] == ack["scheduled_for"]
    assert created["message"]["lead_time_zone"]  # the lead's clock, to show it

    await mine.send(
        type="message.reschedule",
        message=ack["message"],
        body="Tomorrow at 10?",
        client_id="edit-1",
    )
    done = await mine.until("ack", client_id="edit-1")
    assert done["of"] == "message.reschedule"
    assert done["result"]["message"]["body"].endswith("Tomorrow at 10?")
    updated = await colleague.until("message.updated")
    assert updated["message"]["body"].endswith("Tomorrow at 10?")

    # A colleague who may not text Alice's lead may not touch it.
    await colleague.send(type="message.cancel", message=ack["message"], client_id="c-1")
    refused = await colleague.until("error", client_id="c-1")
    assert refused["code"] == "forbidden"
    assert refused["reason"] == "This lead is assigned to Alice."

    await mine.send(type="message.cancel", message=ack["message"], client_id="c-2")
    await mine.until("ack", client_id="c-2")
    status = await colleague.until("message.status")
    assert (status["status"], status["error_reason"]) == (
        "cancelled",
        "Cancelled by Alice.",
    )
    # Gone: no longer to be changed, and said why.
    await mine.send(
        type="message.reschedule", message=ack["message"], body="x", client_id="e-2"
    )
    late = await mine.until("error", client_id="e-2")
    assert late["code"] == "not_scheduled" and "cancelled" in late["reason"]
    await mine.close()
    await colleague.close()


async def test_a_time_refused_is_an_error_frame_and_stores_nothing(
    layer, alice, text_in
):
    inbound = await db(text_in)("Hello", from_number=lead_number())
    console = await connect(alice)
    for send_at, words in [
        ((timezone.now() - datetime.timedelta(hours=1)).isoformat(), "passed"),
        ("2025-01-16T09:00:00", "offset"),
        (True, "ISO 8601"),
    ]:
        client_id = str(uuid.uuid4())
        await console.send(
            type="message.send",
            conversation=inbound.conversation_id,
            body="Hi",
            client_id=client_id,
            send_at=send_at,
        )
        error = await console.until("error", client_id=client_id)
        assert error["code"] == "invalid" and words in error["reason"]
    assert await db(Message.objects.filter(direction="out").count)() == 0
    await console.close()


async def test_refused_at_its_time_the_author_sees_why_live(layer, alice, text_in):
    number = lead_number()
    inbound = await db(text_in)("Hello", from_number=number)
    console = await connect(alice)
    ack = await schedule(
        console,
        inbound.conversation_id,
        "Due soon",
        send_at=timezone.now().isoformat(),
        cancel_on_reply=False,
    )
    # The lead opted out by a way no text of theirs shows (an admin's edit).
    await db(Consent.objects.filter(number=number).update)(state=Consent.State.REVOKED)
    await db(scheduled.release_scheduled)()
    status = await console.until("message.status", message=ack["message"])
    assert status["status"] == "failed"
    assert status["error_code"] == "consent_revoked"
    assert "opted out" in status["error_reason"]
    await console.close()

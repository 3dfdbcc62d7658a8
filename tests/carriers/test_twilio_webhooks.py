"""Twilio's webhooks: signed as Twilio signs them, refused otherwise, stored once."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.conf import settings

from carriers import get_adapter
from carriers.base import SendResult, WebhookRequest
from chatserver import actions
from chatserver.actions import delivery as sending
from chatserver.models import Consent, Event, Lead, Message
from tests.carriers.twilio_support import (
    INBOUND,
    LEAD_NUMBER,
    STATUS,
    inbound,
    outbound,  # noqa: F401 (fixture)
    post_twilio,
    status,
    twilio_sender,  # noqa: F401 (fixture)
)
from tests.twilio_mock import sign_like_twilio


def test_the_sdk_signs_as_twilio_documents():
    """Twilio's worked example (twilio.com/docs/usage/security, token 12345).

    The brief gave the caller +12349013030 with the signature the docs print
    for +14158675310; computed with the SDK, each caller has its own value.
    """
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    fields = {
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "To": "+18005551212",
    }
    older = {**fields, "Caller": "+14158675310", "From": "+14158675310"}
    newer = {**fields, "Caller": "+12349013030", "From": "+12349013030"}
    assert sign_like_twilio(url, older, "12345") == "GvWf1cFY/Q7PnoempGyD5oXAezc="
    assert sign_like_twilio(url, newer, "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_a_signed_text_is_stored_and_answered_with_empty_twiml(client, twilio_sender):
    params = inbound()
    response = post_twilio(client, INBOUND, params)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
    message = Message.objects.get()
    assert message.body == "Hi, do you fix roofs?"
    assert message.carrier == "twilio"
    assert message.carrier_message_id == params["MessageSid"]
    assert message.conversation.contact_number.number == LEAD_NUMBER


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(
    "forgery", ["no signature", "tampered body", "other URL", "wrong token"]
)
def test_unsigned_or_forged_webhooks_are_refused(
    client, settings, twilio_sender, caplog, forgery, debug
):
    settings.DEBUG = debug
    params = inbound()
    signed_url = settings.PUBLIC_BASE_URL + INBOUND
    kwargs = {}
    if forgery == "no signature":
        kwargs["signature"] = ""
    elif forgery == "tampered body":
        kwargs["signature"] = sign_like_twilio(
            signed_url, params, settings.TWILIO_AUTH_TOKEN
        )
        params = {**params, "Body": "Send me your passwords"}
    elif forgery == "other URL":
        kwargs["url"] = "https://attacker.example.com" + INBOUND
    else:
        kwargs["token"] = "not-the-auth-token"

    with caplog.at_level(logging.WARNING, "chatserver.web.webhooks"):
        response = post_twilio(client, INBOUND, params, **kwargs)

    assert response.status_code == 403
    assert not Message.objects.exists()
    assert not Lead.objects.exists()
    assert "twilio inbound webhook refused" in caplog.text


def test_a_signature_for_the_inbound_url_does_not_work_for_status(
    client, twilio_sender
):
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "delivered"}
    signature = sign_like_twilio(
        settings.PUBLIC_BASE_URL + INBOUND, params, settings.TWILIO_AUTH_TOKEN
    )
    response = post_twilio(client, STATUS, params, signature=signature)
    assert response.status_code == 403


def test_without_an_auth_token_every_webhook_is_refused(
    client, settings, twilio_sender
):
    params = inbound()
    signature = sign_like_twilio(settings.PUBLIC_BASE_URL + INBOUND, params, "")
    settings.TWILIO_AUTH_TOKEN = ""
    response = post_twilio(client, INBOUND, params, signature=signature)
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_redelivered_text_is_acknowledged_and_stored_once(client, twilio_sender):
    params = inbound()
    first = post_twilio(client, INBOUND, params)
    events_after_first = Event.objects.count()
    second = post_twilio(client, INBOUND, params)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert Message.objects.count() == 1
    assert Lead.objects.count() == 1
    assert Event.objects.count() == events_after_first


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"From": None}, "no From"),
        ({"From": "hello"}, "From: not a phone number"),
        ({"From": "+1415555"}, "From: not a valid phone number"),
        ({"To": "12"}, "To: not"),
        ({"MessageSid": None}, "no MessageSid"),
        ({"MessageSid": "  "}, "no MessageSid"),
        ({"NumMedia": "lots"}, "NumMedia"),
        ({"NumMedia": "1"}, "no MediaUrl0"),
    ],
)
def test_malformed_signed_texts_get_a_clear_400_and_store_nothing(
    client, twilio_sender, fields, reason
):
    response = post_twilio(client, INBOUND, inbound(**fields))
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not Message.objects.exists()
    assert not Lead.objects.exists()


def test_a_text_to_a_number_that_is_not_ours_is_refused_with_a_log_line(
    client, twilio_sender, sender, caplog
):
    with caplog.at_level(logging.WARNING, "chatserver.web.webhooks"):
        unknown = post_twilio(client, INBOUND, inbound(To="+14155550188"))
        # The simulator's number is ours, but not on Twilio.
        other_carrier = post_twilio(client, INBOUND, inbound(To=sender.number))

    assert unknown.status_code == 404
    assert other_carrier.status_code == 404
    assert "+14155550188 is not one of our twilio numbers" in caplog.text
    assert not Message.objects.exists()
    assert not Lead.objects.exists()


def test_media_and_the_carriers_opt_out_are_read():
    params = inbound(
        Body="STOP",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME2",
        MediaContentType1="image/png",
        OptOutType="STOP",
    )
    request = WebhookRequest(
        url="https://chat.example.com" + INBOUND,
        method="POST",
        headers={},
        form={name: [value] for name, value in params.items()},
    )
    [message] = get_adapter("twilio").parse("inbound", request)
    assert [(m.url[-3:], m.content_type) for m in message.media] == [
        ("ME1", "image/jpeg"),
        ("ME2", "image/png"),
    ]
    assert message.carrier_keyword == "STOP"
    assert message.raw["Body"] == ["STOP"]  # the payload as it came


# -- status callbacks --------------------------------------------------------


def test_statuses_move_forward_only(client, outbound):
    message, sid = outbound()
    assert message.status == Message.Status.SENT

    assert status(client, message, sid, "delivered").status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    published = Event.objects.filter(type="message.status").count()

    late = status(client, message, sid, "sent")
    assert late.status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert Event.objects.filter(type="message.status").count() == published


def test_a_failure_carries_its_code_and_a_reason_an_agent_can_act_on(client, outbound):
    message, sid = outbound()
    response = status(
        client,
        message,
        sid,
        "undelivered",
        ErrorCode="30006",
        ErrorMessage="Landline or unreachable carrier",
    )
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.UNDELIVERED
    assert message.error_code == "30006"
    assert "landline" in message.error_reason

    event = Event.objects.filter(type="message.status").latest("id")
    assert event.payload["error_code"] == "30006"
    assert event.payload["status"] == "undelivered"


def test_an_unknown_error_code_keeps_twilios_own_words(client, outbound):
    message, sid = outbound()
    status(client, message, sid, "failed", ErrorCode="30999", ErrorMessage="Odd")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error_code == "30999"
    assert message.error_reason == "Twilio: Odd. (error 30999)"


def test_a_receipt_that_beats_the_send_answer_finds_its_message_by_ref(
    client, outbound
):
    message, sid = outbound(answered=False)
    assert message.status == Message.Status.SENDING

    status(client, message, sid, "delivered")
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert message.carrier_message_id == sid

    # The send's answer arriving afterwards moves nothing back.
    sending.record_sent(message, SendResult(carrier_message_id=sid))
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_an_opt_out_reported_by_twilio_revokes_consent(client, outbound):
    message, sid = outbound()
    status(client, message, sid, "failed", ErrorCode="21610")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error_reason == "The recipient has opted out (replied STOP)."
    consent = Consent.objects.get(number=LEAD_NUMBER)
    assert consent.state == Consent.State.REVOKED


def test_unknown_statuses_and_messages_change_nothing(client, outbound):
    message, sid = outbound()
    assert status(client, message, sid, "teleported").status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.SENT

    stranger = post_twilio(
        client,
        STATUS,
        {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"},
    )
    assert stranger.status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_a_status_callback_without_a_status_is_a_400(client, outbound):
    message, sid = outbound()
    response = post_twilio(client, STATUS, {"MessageSid": sid})
    assert response.status_code == 400
    assert "no MessageStatus" in response.content.decode()


@pytest.mark.parametrize("early", ["queued", "accepted", "scheduled"])
def test_an_early_queued_callback_during_the_send_sends_nothing_twice(
    client, twilio_sender, alice, early
):
    """Issue 16, finding 1: a callback saying ``queued`` that arrives while
    the send is still in flight (Twilio answered slowly) moved the text back
    to queued, and a second worker texted the lead again. Statuses never move
    back, so the text stays with the sender that has it."""
    post_twilio(client, INBOUND, inbound())
    conversation = Message.objects.get(direction="in").conversation
    reply = actions.send_message(alice, conversation, "We do!")
    claimed = sending.claim(reply.id)
    assert claimed is not None and claimed.status == Message.Status.SENDING

    sid = "SM" + uuid.uuid4().hex
    response = status(client, reply, sid, early)
    assert response.status_code < 300

    reply.refresh_from_db()
    assert reply.status == Message.Status.SENDING
    # No other sender may take it: it is not due again.
    assert reply.id not in sending.due_message_ids()
    assert sending.claim(reply.id) is None
    sending.record_sent(claimed, SendResult(carrier_message_id=sid))
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT
    assert reply.attempts == 1

"""Twilio's webhooks as tests send them: signed as Twilio signs them, with
the fields Twilio sends, to a Twilio number of the test organisation."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from django.conf import settings

from carriers.base import SendResult
from chatserver import actions
from chatserver.actions import delivery as sending
from chatserver.models import Message
from tests.twilio_mock import TEST_SID, sign_like_twilio

TWILIO_NUMBER = "+14155550101"
LEAD_NUMBER = "+14155550123"
INBOUND = "/carriers/twilio/inbound"
STATUS = "/carriers/twilio/status"


@pytest.fixture
def twilio_sender(org):
    return actions.add_number(TWILIO_NUMBER, "twilio", org)


def post_twilio(client, path, params, *, token=None, url=None, signature=None):
    """POST form fields as Twilio does, signed over ``url`` with ``token``."""
    if signature is None:
        signature = sign_like_twilio(
            url or settings.PUBLIC_BASE_URL + path,
            params,
            token or settings.TWILIO_AUTH_TOKEN,
        )
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post(
        path,
        urlencode(params, doseq=True),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def inbound(**fields):
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TEST_SID,
        "From": LEAD_NUMBER,
        "To": TWILIO_NUMBER,
        "Body": "Hi, do you fix roofs?",
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    params.update(fields)
    return {name: value for name, value in params.items() if value is not None}


@pytest.fixture
def outbound(client, twilio_sender, alice):
    """A text alice sent to a lead who texted the Twilio number first, handed
    to Twilio (its answer recorded unless the test says otherwise)."""

    def make(answered=True):
        post_twilio(client, INBOUND, inbound())
        conversation = Message.objects.get(direction="in").conversation
        message = actions.send_message(alice, conversation, "We do! When suits you?")
        claimed = sending.claim(message.id)
        sid = "SM" + uuid.uuid4().hex
        if answered:
            sending.record_sent(claimed, SendResult(carrier_message_id=sid))
        message.refresh_from_db()
        return message, sid

    return make


def status(client, message, sid, name, **fields):
    params = {"MessageSid": sid, "MessageStatus": name, "AccountSid": TEST_SID}
    params.update(fields)
    return post_twilio(client, f"{STATUS}?ref={message.id}", params)

"""The simulated phone network: signed webhooks, and a carrier's behaviours."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from carriers import get_adapter, phone_network, simulator
from carriers.base import InboundMessage
from chatserver import actions
from chatserver.models import Consent, Lead, Message
from chatserver.worker import loop as outbox
from tests.conftest import SENDER_NUMBER

INBOUND = "/carriers/simulator/inbound"
PHONE = "+13125550177"


@pytest.fixture
def network(settings, tmp_path):
    settings.SIMULATOR_DIR = tmp_path / "simulator"
    return phone_network.network()


def post_signed(client, path, fields, *, url=None, headers=None):
    body = urlencode(fields).encode()
    from django.conf import settings

    signed = phone_network.signed_headers(url or settings.PUBLIC_BASE_URL + path, body)
    if headers is not None:
        signed.update(headers)
    extra = {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in signed.items()
        if name != "Content-Type"
    }
    return client.post(
        path, body, content_type="application/x-www-form-urlencoded", **extra
    )


def text_from_phone(**fields):
    return {
        "MessageId": "SIM" + "a" * 32,
        "From": PHONE,
        "To": SENDER_NUMBER,
        "Body": "Do you also do gutters?",
        **fields,
    }


def test_a_signed_text_from_a_phone_is_stored_once(client, sender, network):
    fields = text_from_phone()
    assert post_signed(client, INBOUND, fields).status_code == 204
    assert post_signed(client, INBOUND, fields).status_code == 204
    message = Message.objects.get()
    assert message.body == "Do you also do gutters?"
    assert message.carrier == "simulator"
    assert Lead.objects.get().source == "sms"


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("forgery", ["unsigned", "tampered", "other URL", "stale"])
def test_nobody_outside_can_inject_texts(
    client, settings, sender, network, forgery, debug
):
    settings.DEBUG = debug
    fields = text_from_phone()
    if forgery == "unsigned":
        response = client.post(
            INBOUND, urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
    elif forgery == "tampered":
        good = phone_network.signed_headers(
            settings.PUBLIC_BASE_URL + INBOUND, urlencode(fields).encode()
        )
        fields["Body"] = "Transfer the money"
        response = post_signed(client, INBOUND, fields, headers=good)
    elif forgery == "other URL":
        response = post_signed(
            client, INBOUND, fields, url="https://elsewhere.example.com" + INBOUND
        )
    else:
        old = str(int(time.time()) - simulator.MAX_AGE_SECONDS - 60)
        body = urlencode(fields).encode()
        url = settings.PUBLIC_BASE_URL + INBOUND
        response = post_signed(
            client,
            INBOUND,
            fields,
            headers={
                "X-Simulator-Timestamp": old,
                "X-Simulator-Signature": phone_network.signature(url, old, body),
            },
        )
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_signature_made_with_another_secret_key_is_refused(
    client, settings, sender, network
):
    fields = text_from_phone()
    settings.SECRET_KEY = "another-installation"
    headers = phone_network.signed_headers(
        settings.PUBLIC_BASE_URL + INBOUND, urlencode(fields).encode()
    )
    settings.SECRET_KEY = "tests-only-not-a-secret"
    response = post_signed(client, INBOUND, fields, headers=headers)
    assert response.status_code == 403


def test_malformed_texts_are_refused_and_store_nothing(client, sender, network):
    response = post_signed(client, INBOUND, text_from_phone(From="my phone"))
    assert response.status_code == 400
    assert "From: not a phone number" in response.content.decode()
    assert not Message.objects.exists()


# -- the network as a carrier -----------------------------------------------


@pytest.fixture
def reply(conversation, alice):
    """Queue alice's reply in a conversation a lead started."""

    def send(body="Yes we do."):
        return actions.send_message(alice, conversation, body)

    return send


def phone_of(conversation) -> str:
    return conversation.contact_number.number


def test_a_sent_text_lands_on_the_leads_phone_once(reply, conversation, network):
    message = reply()
    assert network.messages(phone_of(conversation)) == []  # queued, not sent

    outbox.run_once()
    outbox.run_once()

    message.refresh_from_db()
    [received] = network.messages(phone_of(conversation))
    assert received["body"] == message.body
    assert received["company"] == SENDER_NUMBER
    assert message.status == Message.Status.SENT
    assert message.carrier_message_id == received["id"]


def test_a_carrier_outage_is_retried_later(reply, conversation, network):
    network.set_mode(phone_of(conversation), "down")
    message = reply()
    outbox.run_once()
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert "cannot be reached" in message.error_reason
    assert network.messages(phone_of(conversation)) == []

    network.set_mode(phone_of(conversation), "deliver")
    Message.objects.filter(pk=message.pk).update(send_after=None)
    outbox.run_once()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(network.messages(phone_of(conversation))) == 1


def test_a_carrier_opt_out_fails_the_text_and_revokes_consent(
    reply, conversation, network
):
    network.set_mode(phone_of(conversation), "opted_out")
    message = reply()
    outbox.run_once()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error_code == "21610"
    consent = Consent.objects.get(number=phone_of(conversation))
    assert consent.state == Consent.State.REVOKED


def test_a_carrier_that_never_answers_leaves_the_text_for_an_agent_to_check(
    reply, conversation, network, monkeypatch
):
    monkeypatch.setattr(get_adapter("simulator"), "hold_seconds", 0.2)
    network.set_mode(phone_of(conversation), "timeout")
    message = reply()
    outbox.run_once()
    outbox.run_once()
    message.refresh_from_db()
    assert message.status == Message.Status.CHECK
    assert "may have been sent" in message.error_reason
    # The phone did get it, once: sending again would have texted it twice.
    assert len(network.messages(phone_of(conversation))) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("mode", "final", "code"),
    [
        ("deliver", Message.Status.DELIVERED, ""),
        ("undelivered", Message.Status.UNDELIVERED, "30003"),
        ("fail", Message.Status.FAILED, "30006"),
    ],
)
def test_the_network_reports_delivery_through_the_status_webhook(
    live_server, settings, network, sender, alice, mode, final, code
):
    # The network POSTs its receipts to a real server, as a carrier would.
    settings.PUBLIC_BASE_URL = live_server.url
    lead_phone = "+16175550108"
    network.set_mode(lead_phone, mode)
    actions.receive_inbound(
        InboundMessage(
            carrier="simulator",
            carrier_message_id="SIM" + mode,
            from_number=lead_phone,
            to_number=sender.number,
            body="Can someone come today?",
        )
    )
    conversation = Message.objects.get().conversation
    message = actions.send_message(alice, conversation, "On our way!")
    outbox.run_once()

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == final:
            break
        time.sleep(0.1)
    assert message.status == final
    assert message.error_code == code
    assert len(network.messages(lead_phone)) == 1


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"text": "hi \\ud800"}', "application/json"),
        (b'{"text": "nul \\u0000"}', "application/json"),
    ],
)
def test_json_webhooks_holding_what_no_database_stores_are_malformed(body, content_type):
    """A JSON gateway's body may spell a lone surrogate or a NUL as an escape
    (issue 16, finding 5): refused as a malformed request before any field is
    read, never a 500."""
    from carriers.base import BadRequest, WebhookRequest

    request = WebhookRequest(
        url="https://x/", method="POST", headers={}, form={}, body=body,
        content_type=content_type,
    )
    with pytest.raises(BadRequest):
        request.json()

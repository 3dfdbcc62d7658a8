"""Bandwidth beyond the contract: its credentials check, its callback batches,
the SDK's answers and failures, and its media."""

from __future__ import annotations

import json

import pytest

from carriers import HalfConfigured, get_adapter, offered
from carriers.base import (
    BadRequest,
    DeliveryStatus,
    ErrorKind,
    Forbidden,
    InboundMessage,
    OutboundMessage,
    StatusUpdate,
    WebhookRequest,
)
from chatserver import actions
from chatserver.models import Consent, Lead, Message
from chatserver.worker import loop as outbox
from tests.carriers.contract import LEAD_NUMBER
from tests.carriers.test_contract_bandwidth import (
    ACCOUNT_ID,
    APPLICATION_ID,
    CALLBACK_PASSWORD,
    CALLBACK_USER,
    JSON,
    Bandwidth,
    basic,
    callback,
)
from tests.twilio_mock import closed_port_url

OTHER_LEAD = "+12125550188"


@pytest.fixture
def gw(settings, org):
    gateway = Bandwidth()
    gateway.configure(settings)
    actions.add_number(gateway.number, gateway.name, org)
    return gateway


@pytest.fixture
def adapter():
    return get_adapter("bandwidth")


@pytest.fixture
def fake(gw, settings):
    with gw.api(settings) as api:
        yield api


def request(body, authorization=None, content_type=JSON) -> WebhookRequest:
    authorization = authorization or basic(CALLBACK_USER, CALLBACK_PASSWORD)
    return WebhookRequest(
        url="https://chat.example.com/carriers/bandwidth/inbound",
        method="POST",
        headers={"authorization": authorization},
        form={},
        body=json.dumps(body).encode(),
        content_type=content_type,
    )


def received(gw, message_id=None, **message):
    message = {"direction": "in", "to": [gw.number], "from": LEAD_NUMBER, **message}
    return callback(
        "message-received",
        message_id=message_id or gw.new_message_id(),
        to=gw.number,
        message={"owner": gw.number, "text": "Hi", **message},
    )


def receipt(gw, kind, message_id="1764919815000abcdef", tag="", **extra):
    message = {"owner": gw.number, "direction": "out", "to": [LEAD_NUMBER]}
    message.update({"from": gw.number, "text": "", "tag": tag})
    return callback(
        kind, message_id=message_id, to=LEAD_NUMBER, message=message, **extra
    )


# -- the credentials Bandwidth sends ----------------------------------------


def test_the_basic_credentials_of_bandwidths_own_example_pass(adapter, settings):
    # dev.bandwidth.com's example header: "username" / "password".
    settings.BANDWIDTH_CALLBACK_USERNAME = "username"
    settings.BANDWIDTH_CALLBACK_PASSWORD = "password"
    adapter.verify(request([], "Basic dXNlcm5hbWU6cGFzc3dvcmQ="))
    adapter.verify(request([], "basic dXNlcm5hbWU6cGFzc3dvcmQ="))


@pytest.mark.parametrize(
    "authorization",
    [
        basic(CALLBACK_USER, "wrong"),
        basic("wrong", CALLBACK_PASSWORD),
        basic(CALLBACK_USER, CALLBACK_PASSWORD + "x"),
        basic(CALLBACK_USER + ":" + CALLBACK_PASSWORD, ""),
        "Basic " + "bm8tY29sb24=",  # "no-colon"
        "Basic not base64!",
        "Bearer " + CALLBACK_PASSWORD,
        "Basic",
    ],
)
def test_wrong_credentials_are_refused(adapter, gw, authorization):
    with pytest.raises(Forbidden):
        adapter.verify(request([], authorization))


def test_without_callback_credentials_nothing_passes(adapter, gw, settings):
    settings.BANDWIDTH_CALLBACK_PASSWORD = ""
    with pytest.raises(Forbidden):
        adapter.verify(request([], basic(CALLBACK_USER, "")))


def test_half_configured_bandwidth_names_what_is_missing(settings):
    values = {"BANDWIDTH_ACCOUNT_ID": ACCOUNT_ID, "BANDWIDTH_USERNAME": "id"}
    with pytest.raises(HalfConfigured, match="BANDWIDTH_CALLBACK_PASSWORD"):
        offered(lambda name: values.get(name, getattr(settings, name, "")))


# -- callbacks ---------------------------------------------------------------


def test_every_callback_of_a_batch_is_parsed(adapter, gw):
    media = f"https://messaging.bandwidth.com/api/v2/users/{ACCOUNT_ID}/media/1/0/a.jpg"
    batch = [
        received(gw, text="Roof pic", media=[media]),
        receipt(gw, "message-delivered", tag="42"),
        receipt(gw, "message-failed", errorCode=4720, description="invalid"),
        receipt(gw, "message-failed", errorCode=9902),
    ]
    inbound, delivered, failed, unconfirmed = adapter.parse("status", request(batch))

    assert isinstance(inbound, InboundMessage)
    assert (inbound.from_number, inbound.to_number) == (LEAD_NUMBER, gw.number)
    assert inbound.body == "Roof pic"
    assert inbound.media[0].url == media
    assert isinstance(delivered, StatusUpdate)
    assert (delivered.status, delivered.reference) == (DeliveryStatus.DELIVERED, "42")
    assert failed.status == DeliveryStatus.FAILED
    assert failed.error.kind == ErrorKind.INVALID_NUMBER
    # Bandwidth stopped waiting for the receipt: not a failure.
    assert (unconfirmed.status, unconfirmed.error) == (DeliveryStatus.UNKNOWN, None)


def test_one_object_is_taken_as_a_batch_of_one(adapter, gw):
    (event,) = adapter.parse("inbound", request(received(gw)))
    assert isinstance(event, InboundMessage)


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("message-sending", DeliveryStatus.SENDING),
        ("message-sent", DeliveryStatus.SENT),
        ("message-read", DeliveryStatus.DELIVERED),
        ("message-something-new", DeliveryStatus.UNKNOWN),
    ],
)
def test_status_names_are_mapped_with_an_unknown_fallback(adapter, gw, kind, status):
    (update,) = adapter.parse("status", request([receipt(gw, kind)]))
    assert update.status == status


def test_an_unknown_error_code_fails_with_bandwidths_words(adapter, gw):
    failed = receipt(gw, "message-failed", errorCode=4999, description="odd thing")
    (update,) = adapter.parse("status", request([failed]))
    assert update.error.kind == ErrorKind.PERMANENT
    assert "odd thing" in update.error.reason and update.error.code == "4999"


def test_an_rbm_response_concerns_no_text(adapter, gw):
    response = received(gw)
    response["type"] = "suggestion-response"
    assert adapter.parse("inbound", request([response])) == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        [{"type": "message-received"}],
        [{"type": "message-received", "message": {"id": "1", "from": LEAD_NUMBER}}],
        ["not an object"],
        [{"type": 7, "message": {"id": "1"}}],
        [{"type": "message-delivered", "message": {"id": "x" * 65}}],
    ],
)
def test_unreadable_batches_are_bad_requests(adapter, gw, body):
    with pytest.raises(BadRequest):
        adapter.parse("inbound", request(body))


def test_a_form_post_is_a_bad_request(adapter, gw):
    with pytest.raises(BadRequest):
        adapter.parse("inbound", request([], content_type="text/plain"))


def test_a_batch_is_stored_whole_through_either_url(client, gw):
    texts = [received(gw, text="One"), received(gw, text="Two")]
    response = gw.post(gw.status_path, texts).post(client)
    assert response.status_code == 200, response.content
    assert sorted(Message.objects.values_list("body", flat=True)) == ["One", "Two"]


def test_a_batch_with_one_bad_callback_stores_nothing(client, gw):
    bad = received(gw)
    del bad["message"]["from"]
    response = gw.post(gw.inbound_path, [received(gw), bad]).post(client)
    assert response.status_code == 400
    assert not Message.objects.exists() and not Lead.objects.exists()


def test_a_batch_with_a_text_to_a_number_not_ours_stores_nothing(client, gw):
    stranger = received(gw)
    stranger["to"] = "+14155550199"
    response = gw.post(gw.inbound_path, [received(gw), stranger]).post(client)
    assert response.status_code == 404
    assert not Message.objects.exists()


def test_a_receipt_before_the_sends_answer_finds_its_message_by_tag(client, gw, alice):
    response = gw.inbound(
        message_id=gw.new_message_id(),
        from_number=LEAD_NUMBER,
        to_number=gw.number,
        body="Hi",
    ).post(client)
    assert response.status_code == 200
    conversation = Message.objects.get().conversation
    reply = actions.send_message(alice, conversation, "Hello!")
    update = receipt(
        gw, "message-delivered", message_id="1764919815000zz", tag=str(reply.id)
    )

    assert gw.post(gw.status_path, [update]).post(client).status_code == 200

    reply.refresh_from_db()
    assert reply.carrier_message_id == "1764919815000zz"
    assert reply.status == Message.Status.DELIVERED


# -- sending -----------------------------------------------------------------


def outbound(gw, **kw):
    fields = {"from_number": gw.number, "to_number": LEAD_NUMBER, "body": "Hello"}
    return OutboundMessage(**{**fields, **kw})


def test_a_send_carries_our_id_in_the_tag_with_one_token(adapter, gw, fake):
    first = adapter.send(outbound(gw, reference="41"), "https://unused")
    adapter.send(outbound(gw, reference="42", media_urls=("https://x.test/a.jpg",)), "")

    sent = fake.sends()
    assert sent[0] == {
        "applicationId": APPLICATION_ID,
        "to": [LEAD_NUMBER],
        "from": gw.number,
        "text": "Hello",
        "tag": "41",
    }
    assert sent[1]["media"] == ["https://x.test/a.jpg"] and sent[1]["tag"] == "42"
    assert first.carrier_message_id and first.status == DeliveryStatus.QUEUED
    assert len(fake.tokens) == 1  # the SDK's token, reused
    assert {r["authorization"] for r in fake.requests[1:]} == {
        f"Bearer {fake.tokens[0]}"
    }


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (
            (
                400,
                {
                    "type": "request-validation",
                    "description": "Your request could not be accepted",
                    "fieldErrors": [{"fieldName": "to", "description": "not E164"}],
                },
            ),
            ErrorKind.INVALID_NUMBER,
        ),
        ((400, {"type": "request-validation", "description": "No"}), "permanent"),
        ((401, {"type": "unauthorized", "description": "Nope"}), "permanent"),
        ((403, {"type": "forbidden", "description": "Access Denied"}), "permanent"),
        (
            (429, {"type": "max-message-queue-size-exceeded", "description": "Full"}),
            "retryable",
        ),
        ((500, {"type": "internal", "description": "Oops"}), "retryable"),
        ((503, "not json at all"), "retryable"),
        ("hang", "uncertain"),
    ],
)
def test_the_apis_answers_are_mapped(adapter, gw, fake, settings, answer, kind):
    settings.CARRIER_TIMEOUT = 1.0
    fake.answers = [answer]
    with pytest.raises(Exception) as refused:
        adapter.send(outbound(gw), "")
    assert refused.value.kind == kind, refused.value
    assert refused.value.reason
    assert len(refused.value.code) <= 16  # Message.error_code's length


def test_an_unreachable_bandwidth_is_retried(adapter, gw, settings):
    settings.BANDWIDTH_API_URL = closed_port_url()
    with pytest.raises(Exception) as refused:
        adapter.send(outbound(gw), "")
    assert refused.value.kind == ErrorKind.RETRYABLE


def test_credentials_the_token_endpoint_refuses_fail_the_send(
    adapter, gw, fake, settings
):
    settings.BANDWIDTH_PASSWORD = "not-our-secret"
    with pytest.raises(Exception) as refused:
        adapter.send(outbound(gw), "")
    assert refused.value.kind == ErrorKind.PERMANENT
    assert "BANDWIDTH_PASSWORD" in refused.value.reason
    assert fake.sends() == []


def test_a_token_endpoint_that_never_answers_holds_no_send(adapter, gw, fake, settings):
    settings.CARRIER_TIMEOUT = 0.5
    fake.token_hangs = True
    with pytest.raises(Exception) as refused:
        adapter.send(outbound(gw), "")
    # Nothing was sent: the outbox may try again later.
    assert refused.value.kind == ErrorKind.RETRYABLE
    assert fake.sends() == []


def test_a_text_too_long_for_bandwidth_is_not_sent(adapter, gw, fake):
    with pytest.raises(Exception) as refused:
        adapter.send(outbound(gw, body="x" * 2049), "")
    assert refused.value.kind == ErrorKind.PERMANENT
    assert fake.sends() == []


def test_an_opted_out_lead_found_by_the_outbox_revokes_consent(
    client, gw, alice, settings
):
    with gw.refusing(settings, "opted_out") as api:
        response = gw.inbound(
            message_id=gw.new_message_id(),
            from_number=LEAD_NUMBER,
            to_number=gw.number,
            body="Hi",
        ).post(client)
        assert response.status_code == 200
        conversation = Message.objects.get().conversation
        reply = actions.send_message(alice, conversation, "Hello!")
        outbox.run_once()
        reply.refresh_from_db()
        assert reply.status == Message.Status.SENT  # accepted: 202
        gw.settle(client, api, "opted_out")
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED
    assert reply.error_code == "4775"
    assert Consent.objects.get(number=LEAD_NUMBER).state == Consent.State.REVOKED


# -- media -------------------------------------------------------------------


def test_only_our_accounts_media_on_bandwidths_api_may_be_fetched(adapter, gw):
    ours = f"https://messaging.bandwidth.com/api/v2/users/{ACCOUNT_ID}/media/1/0/a.jpg"
    assert adapter.may_fetch_media(ours)
    for url in (
        ours.replace(ACCOUNT_ID, "9900001"),
        ours.replace("messaging.bandwidth.com", "evil.example.com"),
        ours.replace("/media/1/", "/media/../../messages/"),
        ours.replace("/media/1/", "/media/%2E%2E/"),
        ours.replace("https://", "http://"),
        f"https://u:p@messaging.bandwidth.com/api/v2/users/{ACCOUNT_ID}/media/a",
    ):
        assert not adapter.may_fetch_media(url), url


def test_media_are_fetched_with_the_oauth_token(adapter, gw, settings):
    with gw.media_host(settings) as host:
        url = host.serve(
            f"/api/v2/users/{ACCOUNT_ID}/media/1/0/a.jpg", b"jpg", "image/jpeg"
        )
        fetched = adapter.fetch_media(url, 1000)
        assert (fetched.content, fetched.content_type) == (b"jpg", "image/jpeg")
        assert gw.saw_credentials(host)


def test_media_credentials_refused_say_so(adapter, gw, settings):
    with gw.media_host(settings) as host:
        url = host.serve(
            f"/api/v2/users/{ACCOUNT_ID}/media/a.jpg", b"jpg", "image/jpeg"
        )
        settings.BANDWIDTH_PASSWORD = "not-our-secret"
        with pytest.raises(Exception) as refused:
            adapter.fetch_media(url, 1000)
        assert not refused.value.retryable
        assert "BANDWIDTH_PASSWORD" in refused.value.reason

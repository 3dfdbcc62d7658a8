"""The Vonage adapter beyond the contract: its JWT check, the shapes of Vonage's
webhooks (examples from its Messages API description, with fictional US
numbers), its error codes, and what the real SDK sends to FakeVonage."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from vonage_jwt import VonageVerifyJwtError, verify_signature

import carriers
from carriers.base import (
    BadRequest,
    DeliveryStatus,
    ErrorKind,
    Forbidden,
    OutboundMessage,
    WebhookRequest,
)
from carriers.vonage import VonageAdapter, private_key_pem
from tests.carriers.vonage_mock import (
    INTERNAL,
    INVALID_RECIPIENT,
    TEST_APPLICATION_ID,
    TEST_SIGNATURE_SECRET,
    THROTTLED,
    FakeVonage,
    sign_like_vonage,
    throwaway_key,
    throwaway_key_pem,
)
from tests.twilio_mock import closed_port_url

OURS, LEAD = "+14155550108", "+12125550187"
UUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
# The description's inbound SMS example, with fictional US numbers.
INBOUND_SMS = {
    "channel": "sms",
    "message_uuid": UUID,
    "to": "14155550108",
    "from": "12125550187",
    "timestamp": "2025-02-03T12:14:25Z",
    "text": "Hello From Vonage!",
    "sms": {"num_messages": "1", "keyword": "HELLO"},
}


@pytest.fixture
def adapter(settings) -> VonageAdapter:
    settings.VONAGE_APPLICATION_ID = TEST_APPLICATION_ID
    settings.VONAGE_PRIVATE_KEY = throwaway_key_pem()
    settings.VONAGE_SIGNATURE_SECRET = TEST_SIGNATURE_SECRET
    settings.VONAGE_API_URL = ""
    return VonageAdapter()


def webhook(data, header: str | None = None, url="https://chat.example.com/x"):
    body = json.dumps(data).encode() if not isinstance(data, bytes) else data
    headers = {"authorization": header if header is not None else sign(body)}
    return WebhookRequest(url, "POST", headers, {}, body, "application/json")


def sign(body: bytes, **claims) -> str:
    """Vonage's claims, some replaced or (given None) left out."""
    payload = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": "abcd1234",
        "application_id": TEST_APPLICATION_ID,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return "Bearer " + jwt.encode(payload, TEST_SIGNATURE_SECRET, algorithm="HS256")


# -- the signature ---------------------------------------------------------------


def test_a_jwt_signed_like_vonage_is_accepted_and_the_sdk_agrees(adapter):
    request = webhook(INBOUND_SMS, sign_like_vonage(json.dumps(INBOUND_SMS).encode()))
    adapter.verify(request)
    token = request.header("authorization").split(" ", 1)[1]
    assert verify_signature(token, TEST_SIGNATURE_SECRET) is True
    assert verify_signature(token, "another-secret-another-secret-0123") is False


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda b: "", id="no header"),
        pytest.param(lambda b: sign(b).replace("Bearer", "Basic"), id="not bearer"),
        pytest.param(lambda b: sign(b + b" "), id="another body"),
        pytest.param(lambda b: sign(b, payload_hash=None), id="no payload_hash"),
        pytest.param(lambda b: sign(b, jti=None), id="no jti"),
        pytest.param(lambda b: sign(b, iat=None), id="no iat"),
        pytest.param(lambda b: sign(b, iat="now"), id="iat not a number"),
        pytest.param(lambda b: sign(b, iat=time.time() - 301), id="expired"),
        pytest.param(lambda b: sign(b, iat=time.time() + 400), id="from the future"),
        pytest.param(lambda b: sign(b, application_id=str(uuid.uuid4())), id="app"),
        pytest.param(
            lambda b: (
                "Bearer "
                + jwt.encode(
                    {"iat": int(time.time()), "jti": "x"}, None, algorithm="none"
                )
            ),
            id="alg none",
        ),
        pytest.param(
            lambda b: (
                "Bearer "
                + jwt.encode(
                    {"iat": int(time.time()), "jti": "x"},
                    throwaway_key(),
                    algorithm="RS256",
                )
            ),
            id="RS256",
        ),
    ],
)
def test_anything_else_is_forbidden(adapter, header):
    body = json.dumps(INBOUND_SMS).encode()
    with pytest.raises(Forbidden):
        adapter.verify(webhook(body, header(body)))


def test_a_clock_a_little_ahead_is_tolerated_where_the_sdk_refuses(adapter):
    body = json.dumps(INBOUND_SMS).encode()
    header = sign(body, iat=int(time.time()) + 30)
    adapter.verify(webhook(body, header))
    with pytest.raises(VonageVerifyJwtError):
        verify_signature(header.split(" ", 1)[1], TEST_SIGNATURE_SECRET)


def test_a_jwt_is_used_once(adapter):
    request = webhook(INBOUND_SMS)
    adapter.verify(request)
    with pytest.raises(Forbidden):
        adapter.verify(request)


def test_nothing_is_accepted_without_the_signature_secret(adapter, settings):
    settings.VONAGE_SIGNATURE_SECRET = ""
    with pytest.raises(Forbidden):
        adapter.verify(webhook(INBOUND_SMS))


# -- webhooks' shapes ------------------------------------------------------------


def test_an_inbound_sms(adapter):
    (text,) = adapter.parse("inbound", webhook(INBOUND_SMS))
    assert (text.carrier_message_id, text.from_number, text.to_number) == (
        UUID,
        LEAD,
        OURS,
    )
    assert text.body == "Hello From Vonage!" and text.media == ()
    assert text.carrier_keyword == ""  # Vonage's sms.keyword is only a first word


def test_an_inbound_mms_with_one_image_and_with_several(adapter):
    url = "https://api-us.nexmo.com/v3/media/1b456509-974c-458b-aafa-45fc48a4d976"
    one = INBOUND_SMS | {
        "channel": "mms",
        "message_type": "image",
        "image": {"url": url, "caption": "The roof"},
    }
    one.pop("text")
    (mms,) = adapter.parse("inbound", webhook(one))
    assert mms.body == "The roof"
    assert [(m.url, m.content_type) for m in mms.media] == [(url, "")]
    several = one | {"content": [{"type": "image", "url": url + str(i)} for i in "12"]}
    (mms,) = adapter.parse("inbound", webhook(several))
    assert [m.url for m in mms.media] == [url + "1", url + "2"]


def test_other_channels_are_acknowledged_and_ignored(adapter):
    assert (
        adapter.parse("inbound", webhook(INBOUND_SMS | {"channel": "whatsapp"})) == []
    )


@pytest.mark.parametrize(
    "change",
    [
        {"from": None},
        {"message_uuid": None},
        {"message_uuid": "x" * 65},
        {"channel": None},
        {"to": "not a number"},
        {"text": "nul\x00"},
        {"text": "lone \ud800"},
        {"text": 5},
    ],
)
def test_malformed_inbound_webhooks(adapter, change):
    data = {k: v for k, v in (INBOUND_SMS | change).items() if v is not None}
    with pytest.raises(BadRequest):
        adapter.parse("inbound", webhook(data))


def status(name, **extra):
    return {
        "message_uuid": UUID,
        "to": "12125550187",
        "from": "14155550108",
        "timestamp": "2025-02-03T12:14:25Z",
        "status": name,
        "channel": "sms",
        "client_ref": "42",
    } | extra


@pytest.mark.parametrize(
    "name, expected",
    [
        ("submitted", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.DELIVERED),
        ("rejected", DeliveryStatus.FAILED),
        ("undeliverable", DeliveryStatus.UNDELIVERED),
        ("something new", DeliveryStatus.UNKNOWN),
    ],
)
def test_statuses(adapter, name, expected):
    # Either URL takes either kind of webhook: the body says which it is.
    (update,) = adapter.parse("inbound", webhook(status(name)))
    assert (update.status, update.reference) == (expected, "42")


def test_a_status_error_from_its_title_or_its_type(adapter):
    error = {"type": "https://developer.vonage.com/api-errors/messages#1240"}
    (update,) = adapter.parse(
        "status", webhook(status("rejected", error=error | {"title": "1240"}))
    )
    assert (update.error.kind, update.error.code) == (ErrorKind.OPTED_OUT, "1240")
    (update,) = adapter.parse(
        "status", webhook(status("rejected", error=error | {"title": "Illegal"}))
    )
    assert update.error.code == "1240"
    words = {"title": "9999", "detail": "Something odd."}
    (update,) = adapter.parse("status", webhook(status("rejected", error=words)))
    assert update.error.kind == ErrorKind.PERMANENT
    assert update.error.reason == "Vonage: Something odd. (error 9999)"


def test_the_reference_falls_back_to_the_webhook_urls_ref(adapter):
    data = status("delivered")
    data.pop("client_ref")
    url = "https://chat.example.com/carriers/vonage/status?ref=7"
    (update,) = adapter.parse("status", webhook(data, url=url))
    assert update.reference == "7"


def test_the_error_codes_the_contract_names():
    assert VonageAdapter.error_for("1240").kind == ErrorKind.OPTED_OUT
    assert VonageAdapter.error_for("1430").kind == ErrorKind.INVALID_NUMBER
    assert VonageAdapter.error_for("1000").kind == ErrorKind.RETRYABLE
    assert VonageAdapter.error_for("1320").kind == ErrorKind.PERMANENT


# -- sending through the SDK -------------------------------------------------------


@pytest.fixture
def api(adapter, settings):
    fake = FakeVonage()
    settings.VONAGE_API_URL = fake.url
    settings.CARRIER_TIMEOUT = 3
    yield fake
    fake.close()


def send(
    adapter, callback="https://chat.example.com/carriers/vonage/status?ref=9", **kw
):
    fields = {"from_number": OURS, "to_number": LEAD, "body": "Hi", "reference": "9"}
    return adapter.send(OutboundMessage(**(fields | kw)), callback)


def test_an_sms_goes_out_as_vonage_documents_it(adapter, api):
    result = send(adapter)
    ((message_uuid, body),) = api.accepted
    assert result.carrier_message_id == message_uuid
    assert body == {
        "to": "12125550187",
        "from": "14155550108",
        "client_ref": "9",
        "webhook_url": "https://chat.example.com/carriers/vonage/status?ref=9",
        "webhook_version": "v1",
        "text": "Hi",
        "channel": "sms",
        "message_type": "text",
    }


def test_a_callback_vonage_cannot_reach_is_left_to_the_applications(adapter, api):
    send(adapter, callback="http://127.0.0.1:8000/carriers/vonage/status?ref=9")
    assert "webhook_url" not in api.accepted[0][1]


def test_images_go_out_as_mms(adapter, api):
    urls = ("https://chat.example.com/m/1.jpg", "https://chat.example.com/m/2.jpg")
    send(adapter, media_urls=urls[:1])
    send(adapter, media_urls=urls, body="")
    (_, one), (_, two) = api.accepted
    assert (one["channel"], one["message_type"]) == ("mms", "image")
    assert one["image"] == {"url": urls[0], "caption": "Hi"}
    assert two["message_type"] == "content"
    assert [item["url"] for item in two["content"]] == list(urls)


@pytest.mark.parametrize(
    "answer, kind",
    [
        (INVALID_RECIPIENT, ErrorKind.INVALID_NUMBER),
        (THROTTLED, ErrorKind.RETRYABLE),
        (INTERNAL, ErrorKind.RETRYABLE),
        ((402, {"type": "https://developer.vonage.com/api-errors#low-balance"}), "402"),
        ("drop", ErrorKind.UNCERTAIN),
    ],
)
def test_refusals_and_silence(adapter, api, answer, kind):
    api.answers = [answer]
    with pytest.raises(carriers.base.CarrierError) as refused:
        send(adapter)
    if kind == "402":
        assert "balance" in refused.value.reason
    else:
        assert refused.value.kind == kind
    # Nothing is sent twice: neither urllib3 nor the SDK retried the POST.
    assert len(api.requests) == 1


def test_wrong_credentials_and_no_vonage(adapter, api, settings):
    other = rsa_pem(traditional=False, fresh=True)
    settings.VONAGE_PRIVATE_KEY = other
    with pytest.raises(carriers.base.CarrierError) as refused:
        send(adapter)
    assert "VONAGE_APPLICATION_ID" in refused.value.reason
    settings.VONAGE_API_URL = closed_port_url()
    with pytest.raises(carriers.base.CarrierError) as refused:
        send(adapter)
    assert refused.value.kind == ErrorKind.RETRYABLE


def rsa_pem(traditional: bool, fresh: bool = False) -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(65537, 2048) if fresh else throwaway_key()
    form = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if traditional
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(
        serialization.Encoding.PEM, form, serialization.NoEncryption()
    ).decode()


def test_the_private_key_as_text_escaped_text_a_file_or_pkcs1(tmp_path):
    pkcs8 = throwaway_key_pem()
    path = tmp_path / "private.key"
    path.write_text(pkcs8)
    assert private_key_pem(pkcs8) == pkcs8
    assert private_key_pem(pkcs8.replace("\n", "\\n")) == pkcs8
    assert private_key_pem(str(path)) == pkcs8
    assert private_key_pem(rsa_pem(traditional=True)) == pkcs8
    with pytest.raises(ValueError):
        private_key_pem("-----BEGIN " + "PRIVATE KEY-----\nnot a key\n")


# -- media and the registry ------------------------------------------------------


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://api-us.nexmo.com/v3/media/1b456509", True),
        ("https://api.nexmo.com/v3/media/1b456509", True),
        ("http://api.nexmo.com/v3/media/1b456509", False),
        ("https://api-us.nexmo.com/v1/messages", False),
        ("https://api-us.nexmo.com/v3/media/../../v1/x", False),
        ("https://media.example.com/v3/media/1b456509", False),
    ],
)
def test_media_only_from_vonages_media_servers(adapter, url, allowed):
    assert adapter.may_fetch_media(url) is allowed


def test_half_configured_vonage_says_what_is_missing():
    have = {"VONAGE_APPLICATION_ID": "app"}
    with pytest.raises(carriers.HalfConfigured) as refused:
        carriers.offered(lambda name: have.get(name, ""))
    assert "VONAGE_PRIVATE_KEY, VONAGE_SIGNATURE_SECRET" in str(refused.value)

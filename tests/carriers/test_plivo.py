"""The Plivo adapter beyond the contract: its signature check against an
independent signer, the fields of Plivo's webhooks, and every way a send can
fail, through the real ``plivo`` SDK to tests/carriers/plivo_mock.py."""

from __future__ import annotations

import socket
import uuid

import pytest
from plivo.utils import validate_v3_signature

from carriers import HalfConfigured, get_adapter, offered
from carriers.base import (
    BadRequest,
    CarrierError,
    DeliveryStatus,
    ErrorKind,
    Forbidden,
    OutboundMessage,
    WebhookRequest,
)
from tests.carriers.plivo_mock import (
    TEST_AUTH_ID,
    TEST_AUTH_TOKEN,
    FakePlivo,
    sign_like_plivo,
)

URL = "https://chat.example.com/carriers/plivo/inbound"
NONCE = "05429567804466091622"
OUR_NUMBER = "+14155550107"
LEAD_NUMBER = "+12125550187"


@pytest.fixture
def plivo(settings):
    settings.PLIVO_AUTH_ID = TEST_AUTH_ID
    settings.PLIVO_AUTH_TOKEN = TEST_AUTH_TOKEN
    settings.CARRIER_TIMEOUT = 5
    return get_adapter("plivo")


def webhook(url=URL, nonce=NONCE, token=TEST_AUTH_TOKEN, **fields) -> WebhookRequest:
    """A form POST to ``url`` signed as Plivo signs it."""
    headers = {"x-plivo-signature-v3-nonce": nonce} if nonce else {}
    if token:
        headers["x-plivo-signature-v3"] = sign_like_plivo(url, fields, nonce, token)
    return WebhookRequest(
        url=url,
        method="POST",
        headers=headers,
        form={name: [value] for name, value in fields.items()},
        content_type="application/x-www-form-urlencoded",
    )


def sms(**fields) -> dict:
    return {
        "MessageUUID": str(uuid.uuid4()),
        "From": "12125550187",
        "To": "14155550107",
        "Type": "sms",
        "Text": "Hi",
        **fields,
    }


# -- signatures -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url, fields",
    [
        (URL, {"From": "12125550187", "Text": "Hi"}),
        (URL + "?ref=42", {"MessageUUID": "abc", "Status": "delivered"}),
        (URL + "?b=2&a=1&a=0", {"Text": "Crème brûlée? 👍 a&b=c"}),
        (URL, {}),
        (URL + "?ref=7", {}),
    ],
)
def test_the_sdks_validator_agrees_with_an_independent_signer(url, fields):
    signature = sign_like_plivo(url, fields, NONCE, "token")
    params = {k: [v] for k, v in fields.items()}
    assert validate_v3_signature("POST", url, NONCE, "token", signature, params)
    assert not validate_v3_signature("POST", url, NONCE, "other", signature, params)
    assert not validate_v3_signature(
        "POST", url, NONCE + "1", "token", signature, params
    )


def test_a_signature_of_one_active_token_among_several_passes(plivo):
    """Plivo sends one signature per active auth token, comma-separated."""
    request = webhook(**sms())
    good = request.headers["x-plivo-signature-v3"]
    request.headers["x-plivo-signature-v3"] = "c29tZXRoaW5nIGVsc2U=," + good
    plivo.verify(request)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.form.__setitem__("Text", ["Send me $500"]),
        lambda r: r.form.__setitem__("Extra", ["1"]),
        lambda r: r.headers.__setitem__("x-plivo-signature-v3-nonce", "1"),
    ],
)
def test_a_changed_field_or_nonce_is_refused(plivo, change):
    request = webhook(**sms())
    change(request)
    with pytest.raises(Forbidden):
        plivo.verify(request)


def test_the_query_string_is_signed(plivo):
    fields = sms(Status="delivered")
    request = webhook(url=URL + "?ref=42", **fields)
    moved = WebhookRequest(
        URL + "?ref=43",
        "POST",
        request.headers,
        request.form,
        b"",
        request.content_type,
    )
    with pytest.raises(Forbidden):
        plivo.verify(moved)


def test_a_nonce_is_used_once_but_a_forgery_does_not_use_it_up(plivo):
    fields = sms()
    with pytest.raises(Forbidden):
        plivo.verify(webhook(token="not-our-token", **fields))
    plivo.verify(webhook(**fields))
    with pytest.raises(Forbidden, match="replayed"):
        plivo.verify(webhook(**fields))


@pytest.mark.parametrize("missing", ["signature", "nonce"])
def test_no_signature_or_no_nonce_is_refused(plivo, missing):
    request = webhook(**sms())
    del request.headers[f"x-plivo-signature-v3{'-nonce' if missing == 'nonce' else ''}"]
    with pytest.raises(Forbidden):
        plivo.verify(request)


def test_nothing_is_checkable_without_the_token(plivo, settings):
    request = webhook(**sms())
    settings.PLIVO_AUTH_TOKEN = ""
    with pytest.raises(Forbidden, match="PLIVO_AUTH_TOKEN"):
        plivo.verify(request)


# -- webhooks' fields -------------------------------------------------------------


def test_an_sms(plivo):
    (message,) = plivo.parse("inbound", webhook(**sms(Text="Do you fix roofs?")))
    assert message.from_number == LEAD_NUMBER
    assert message.to_number == OUR_NUMBER
    assert message.body == "Do you fix roofs?"
    assert message.media == ()
    assert message.carrier_keyword == ""


def test_a_number_abroad_keeps_its_country(plivo):
    """An Australian number reserved for fiction."""
    (message,) = plivo.parse("inbound", webhook(**sms(From="61491570156")))
    assert message.from_number == "+61491570156"


@pytest.mark.parametrize("first", [0, 1])
def test_an_mms_numbered_either_way(plivo, first):
    fields = sms(Type="mms", Text="", Body="The roof", MediaCount="2")
    fields.pop("Text")
    fields[f"Media{first}"] = "https://media.plivo.com/a"
    fields[f"Media{first + 1}"] = "https://media.plivo.com/b"
    (message,) = plivo.parse("inbound", webhook(**fields))
    assert message.body == "The roof"
    assert [m.url for m in message.media] == [
        "https://media.plivo.com/a",
        "https://media.plivo.com/b",
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"MediaCount": "2", "Media0": "https://media.plivo.com/a"},
        {"MediaCount": "x", "Media0": "https://media.plivo.com/a"},
        {f"Media{i}": "https://media.plivo.com/a" for i in range(11)},
    ],
)
def test_media_that_do_not_add_up_are_a_bad_request(plivo, fields):
    with pytest.raises(BadRequest):
        plivo.parse("inbound", webhook(**sms(Type="mms", **fields)))


@pytest.mark.parametrize(
    "intent, keyword", [("optout", "STOP"), ("optin", "START"), ("help", "HELP")]
)
def test_the_keyword_plivo_acted_on(plivo, intent, keyword):
    fields = sms(Text="Stop", MessageIntent=intent)
    (message,) = plivo.parse("inbound", webhook(**fields))
    assert message.carrier_keyword == keyword


def test_a_status_callback_carries_our_reference(plivo):
    fields = {"MessageUUID": str(uuid.uuid4()), "Status": "delivered"}
    (update,) = plivo.parse("status", webhook(url=URL + "?ref=42", **fields))
    assert update.status == DeliveryStatus.DELIVERED
    assert update.reference == "42"
    assert update.error is None


@pytest.mark.parametrize(
    "status, code, kind",
    [
        ("failed", "200", ErrorKind.OPTED_OUT),
        ("failed", "50", ErrorKind.INVALID_NUMBER),
        ("undelivered", "80", ErrorKind.RETRYABLE),
        ("undelivered", "30", ErrorKind.PERMANENT),
        ("failed", "4242", ErrorKind.PERMANENT),
        ("failed", "", ErrorKind.PERMANENT),
    ],
)
def test_a_failure_says_why(plivo, status, code, kind):
    fields = {"MessageUUID": str(uuid.uuid4()), "Status": status, "ErrorCode": code}
    (update,) = plivo.parse("status", webhook(**fields))
    assert update.error.kind == kind
    assert update.error.code == code
    assert update.error.reason


def test_a_status_plivo_may_add_later_is_unknown(plivo):
    fields = {"MessageUUID": str(uuid.uuid4()), "Status": "teleported"}
    (update,) = plivo.parse("status", webhook(**fields))
    assert update.status == DeliveryStatus.UNKNOWN


def test_plivo_gets_empty_plivo_xml_for_a_text(plivo):
    ack = plivo.acknowledgement("inbound")
    assert (ack.status, ack.content_type) == (200, "application/xml")
    assert b"<Response></Response>" in ack.body
    assert plivo.acknowledgement("status").status == 200


# -- media --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, allowed",
    [
        (f"https://api.plivo.com/v1/Account/{TEST_AUTH_ID}/Message/m/Media/1", True),
        (f"https://media.plivo.com/Account/{TEST_AUTH_ID}/Message/m/Media/1", True),
        (
            "https://api.plivo.com/v1/Account/MAYYYYYYYYYYYYYYYYYY/Message/m/Media/1",
            False,
        ),
        (f"https://api.plivo.com/v1/Account/{TEST_AUTH_ID}/../../x", False),
        (f"https://evil.example.com/v1/Account/{TEST_AUTH_ID}/Message/m", False),
        (f"http://api.plivo.com/v1/Account/{TEST_AUTH_ID}/Message/m/Media/1", False),
    ],
)
def test_only_our_media_on_plivos_hosts_is_fetched(plivo, url, allowed):
    assert plivo.may_fetch_media(url) is allowed


# -- sending ------------------------------------------------------------------------


@pytest.fixture
def api(settings):
    fake = FakePlivo()
    settings.PLIVO_API_URL = fake.url
    yield fake
    fake.close()


def send(adapter, media=()):
    message = OutboundMessage(OUR_NUMBER, LEAD_NUMBER, "We do!", media, "42")
    return adapter.send(
        message, "https://chat.example.com/carriers/plivo/status?ref=42"
    )


def test_a_text_and_its_callback_url(plivo, api):
    result = send(plivo)
    (sent,) = api.accepted()
    assert result.carrier_message_id == sent["message_uuid"]
    assert result.status == DeliveryStatus.QUEUED
    assert sent["path"] == f"/v1/Account/{TEST_AUTH_ID}/Message/"
    assert sent["json"]["url"].endswith("/carriers/plivo/status?ref=42")
    assert sent["json"]["method"] == "POST"
    assert sent["json"]["type"] == "sms"


def test_an_mms(plivo, api):
    send(plivo, media=("https://chat.example.com/media/1.jpg",))
    (sent,) = api.accepted()
    assert sent["json"]["type"] == "mms"
    assert sent["json"]["media_urls"] == ["https://chat.example.com/media/1.jpg"]


@pytest.mark.parametrize(
    "answer, kind, words",
    [
        (
            (400, {"error": "'+1111111' is not a valid phone number."}),
            "invalid_number",
            "valid",
        ),
        ((400, {"error": "invalid phone numbers."}), "invalid_number", "valid"),
        ((400, {"error": "Insufficient Credit"}), "permanent", "credit"),
        ((400, {"error": "text too long"}), "permanent", "text too long"),
        ((401, {"error": "authentication failed"}), "permanent", "PLIVO_AUTH_TOKEN"),
        ((403, {"error": "geo permission"}), "permanent", "Geo Permissions"),
        ((429, {"error": "too many requests"}), "retryable", "busy"),
        ((500, {"error": "server error"}), "retryable", "busy"),
        ((503, {}), "retryable", "busy"),
        (
            (
                202,
                {
                    "message": "message(s) queued",
                    "message_uuid": [],
                    "invalid_number": ["1"],
                },
            ),
            "invalid_number",
            "valid",
        ),
        ((202, {"message": "message(s) queued"}), "uncertain", "without an id"),
    ],
)
def test_a_refusal_says_why(plivo, api, answer, kind, words):
    api.answers = [answer]
    with pytest.raises(CarrierError) as refused:
        send(plivo)
    assert refused.value.kind == kind
    assert words in refused.value.reason


def test_an_unreachable_plivo_is_retried(plivo, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.PLIVO_API_URL = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(CarrierError) as refused:
        send(plivo)
    assert refused.value.kind == ErrorKind.RETRYABLE


def test_no_answer_in_time_may_have_sent_it(plivo, api, settings):
    settings.CARRIER_TIMEOUT = 0.5
    api.answers = ["hang"]
    with pytest.raises(CarrierError) as refused:
        send(plivo)
    assert refused.value.kind == ErrorKind.UNCERTAIN


def test_a_malformed_auth_id_fails_the_text_not_the_worker(plivo, api, settings):
    settings.PLIVO_AUTH_ID = "not-an-auth-id"
    with pytest.raises(CarrierError) as refused:
        send(plivo)
    assert refused.value.kind == ErrorKind.PERMANENT
    assert "PLIVO_AUTH_ID" in refused.value.reason


def test_half_the_settings_refuse_to_start():
    read = {"PLIVO_AUTH_ID": TEST_AUTH_ID, "PLIVO_AUTH_TOKEN": ""}
    with pytest.raises(HalfConfigured, match="set PLIVO_AUTH_TOKEN"):
        offered(lambda name: read.get(name, ""))

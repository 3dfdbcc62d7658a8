"""Telnyx beyond the contract: its signature check to the byte, the fields and
status names of its events, its error codes, and the SDK's requests.

Events are shaped as Telnyx's docs show them (developers.telnyx.com: "Receiving
Webhooks for Messaging", the ``inboundMessage`` / ``deliveryUpdate``
callbacks), with fictional numbers; they are signed as Telnyx signs, with a key
pair made here (Telnyx publishes no signature test vector).
"""

from __future__ import annotations

import base64
import re
import time
import uuid

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from carriers import HalfConfigured, offered
from carriers.base import (
    BadRequest,
    DeliveryStatus,
    ErrorKind,
    Forbidden,
    OutboundMessage,
    WebhookRequest,
)
from carriers.telnyx import TelnyxAdapter
from chatserver import actions
from chatserver.models import Message, WebhookReceipt
from chatserver.worker import loop as outbox
from tests.carriers import telnyx_mock
from tests.carriers.telnyx_mock import API_KEY, FakeTelnyx, TelnyxKeys
from tests.twilio_mock import closed_port_url

OUR_NUMBER = "+14155550108"
LEAD_NUMBER = "+12125550143"
BASE = "https://chat.example.com"
INBOUND = "/carriers/telnyx/inbound"
STATUS = "/carriers/telnyx/status"


@pytest.fixture
def keys(settings) -> TelnyxKeys:
    keys = TelnyxKeys()
    settings.TELNYX_API_KEY = API_KEY
    settings.TELNYX_PUBLIC_KEY = keys.public_key
    return keys


@pytest.fixture
def adapter() -> TelnyxAdapter:
    return TelnyxAdapter()


def received(**fields) -> dict:
    """A ``message.received`` payload; ``fields`` replace its own."""
    payload = {
        "record_type": "message",
        "direction": "inbound",
        "id": str(uuid.uuid4()),
        "type": "SMS",
        "from": {"phone_number": LEAD_NUMBER, "carrier": "T-MOBILE USA, INC."},
        "to": [{"phone_number": OUR_NUMBER, "status": "webhook_delivered"}],
        "text": "Hello, do you do gutters?",
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "errors": [],
    }
    payload.update(fields)
    return payload


def finalized(status: str, errors=(), **fields) -> dict:
    """A ``message.finalized`` payload for a message we sent."""
    payload = {
        "record_type": "message",
        "direction": "outbound",
        "id": str(uuid.uuid4()),
        "type": "SMS",
        "from": {"phone_number": OUR_NUMBER},
        "to": [{"phone_number": LEAD_NUMBER, "status": status}],
        "text": "We do!",
        "errors": list(errors),
    }
    payload.update(fields)
    return payload


def request(keys, raw: bytes, path=INBOUND, *, at=None, headers=None) -> WebhookRequest:
    return WebhookRequest(
        url=BASE + path,
        method="POST",
        headers=headers if headers is not None else keys.headers(raw, at),
        form={},
        body=raw,
        content_type="application/json",
    )


def event_request(keys, event_type, payload, path=INBOUND, **meta) -> WebhookRequest:
    return request(keys, telnyx_mock.event(event_type, payload, **meta), path)


# -- signatures -----------------------------------------------------------------


def test_a_body_signed_as_telnyx_signs_passes(keys, adapter):
    raw = telnyx_mock.event("message.received", received())
    adapter.verify(request(keys, raw))


def forgeries(keys, raw):
    """Ways to get a request past the check without Telnyx's private key."""
    now = str(int(time.time()))
    good = keys.sign(raw, now)
    signature, timestamp = "telnyx-signature-ed25519", "telnyx-timestamp"
    yield "a byte of the body changed", raw + b" ", {signature: good, timestamp: now}
    yield "another timestamp", raw, {signature: good, timestamp: str(int(now) - 1)}
    yield "another key", raw, TelnyxKeys().headers(raw)
    yield "no signature", raw, {timestamp: now}
    yield "no timestamp", raw, {signature: good}
    # The SDK's decoder skips characters outside base64: a replay spelled
    # differently must not pass as new.
    yield "junk in the signature", raw, {signature: good + "!", timestamp: now}
    # Signed, but not digits: int() would take it, and the window too.
    spaced = {signature: keys.sign(raw, f" {now}"), timestamp: f" {now}"}
    yield "a timestamp that is not digits", raw, spaced
    yield "five minutes and a second old", raw, keys.headers(raw, time.time() - 301)
    yield "from the future", raw, keys.headers(raw, time.time() + 301)


def test_anything_but_telnyxs_own_signature_is_refused(keys, adapter):
    raw = telnyx_mock.event("message.received", received())
    for why, body, headers in forgeries(keys, raw):
        with pytest.raises(Forbidden):
            adapter.verify(request(keys, body, headers=headers))
            pytest.fail(f"accepted: {why}")


def test_a_delivery_inside_the_window_passes(keys, adapter):
    raw = telnyx_mock.event("message.received", received())
    adapter.verify(request(keys, raw, at=time.time() - 290))


def test_a_replay_is_refused_and_a_retry_is_not(keys, adapter):
    payload = received()
    first = request(keys, telnyx_mock.event("message.received", payload, attempt=1))
    adapter.verify(first)
    with pytest.raises(Forbidden, match="replayed"):
        adapter.verify(first)
    # Telnyx's own retry counts its attempt: a new body, a new signature.
    retry = telnyx_mock.event("message.received", payload, attempt=2)
    adapter.verify(request(keys, retry))


def test_without_a_public_key_every_webhook_is_refused(keys, adapter, settings):
    raw = telnyx_mock.event("message.received", received())
    settings.TELNYX_PUBLIC_KEY = ""
    with pytest.raises(Forbidden):
        adapter.verify(request(keys, raw))


def test_a_public_key_that_is_not_one_refuses_with_a_reason(keys, adapter, settings):
    settings.TELNYX_PUBLIC_KEY = base64.b64encode(b"too short").decode()
    with pytest.raises(Forbidden, match="public key"):
        adapter.verify(request(keys, telnyx_mock.event("message.received", received())))


# -- events -----------------------------------------------------------------------


def test_an_inbound_sms_is_read_from_its_payload(keys, adapter):
    payload = received()
    (event,) = adapter.parse(
        "inbound", event_request(keys, "message.received", payload)
    )
    assert event.carrier_message_id == payload["id"]  # the message's, not the event's
    assert (event.from_number, event.to_number) == (LEAD_NUMBER, OUR_NUMBER)
    assert event.body == "Hello, do you do gutters?"
    assert event.media == ()
    assert event.carrier_keyword == ""


def test_an_mms_names_each_image_and_may_have_no_text(keys, adapter):
    media = [
        {"url": "https://media.telnyx.com/a1/roof.jpg", "content_type": "image/jpeg"},
        {"url": "https://media.telnyx.com/a2/gutter.png", "content_type": "image/png"},
    ]
    payload = received(type="MMS", text=None, media=media)
    (event,) = adapter.parse(
        "inbound", event_request(keys, "message.received", payload)
    )
    assert event.body == ""
    assert [(m.url, m.content_type) for m in event.media] == [
        ("https://media.telnyx.com/a1/roof.jpg", "image/jpeg"),
        ("https://media.telnyx.com/a2/gutter.png", "image/png"),
    ]


@pytest.mark.parametrize(
    "autoresponse, keyword",
    [
        ("STOP", "STOP"),
        ("start", "START"),
        ("HELP", "HELP"),
        ("info", "HELP"),
        ("", ""),
    ],
)
def test_a_keyword_telnyx_answered_is_reported(keys, adapter, autoresponse, keyword):
    payload = received(text="Stop", autoresponse_type=autoresponse)
    (event,) = adapter.parse(
        "inbound", event_request(keys, "message.received", payload)
    )
    assert event.carrier_keyword == keyword


@pytest.mark.parametrize(
    "payload, why",
    [
        (received(id=""), "no data.payload.id"),
        (received(id="x" * 65), "longer than"),
        (received(**{"from": {}}), "from.phone_number"),
        (received(to=[]), "to[0].phone_number"),
        (received(to=[{"phone_number": "+1555"}]), "not a valid phone number"),
        (received(text=12), "text is not a string"),
        (received(text="a\x00b"), "NUL"),
        (received(media=[{"url": "https://media.telnyx.com/x"}] * 11), "at most 10"),
        (received(media=[{"content_type": "image/png"}]), "media[0].url"),
    ],
)
def test_a_malformed_event_is_a_bad_request(keys, adapter, payload, why):
    with pytest.raises(BadRequest, match=re.escape(why)):
        adapter.parse("inbound", event_request(keys, "message.received", payload))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ["id", "from", "to", "text", "media", "autoresponse_type", "errors"]


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    event_type=st.sampled_from(
        ["message.received", "message.sent", "message.finalized"]
    )
    | JSON_VALUES,
    changes=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=3),
    meta=JSON_VALUES,
)
def test_any_json_in_a_signed_event_is_read_or_a_bad_request(
    keys, adapter, event_type, changes, meta
):
    """Whatever a signed body holds, parse never fails otherwise (a 500)."""
    import json

    body = json.loads(telnyx_mock.event("message.received", received(**changes)))
    body["data"]["event_type"] = event_type
    body["meta"] = meta
    try:
        adapter.parse("inbound", request(keys, json.dumps(body).encode()))
    except BadRequest:
        pass


def test_a_body_that_is_no_event_is_a_bad_request(keys, adapter):
    for raw in (b"[]", b'{"data": {"event_type": "message.received"}}', b"{not json"):
        with pytest.raises(BadRequest):
            adapter.parse("inbound", request(keys, raw))


@pytest.mark.parametrize("name, status", sorted(TelnyxAdapter.STATUSES.items()))
def test_each_telnyx_status_has_its_place(keys, adapter, name, status):
    (event,) = adapter.parse(
        "status", event_request(keys, "message.finalized", finalized(name))
    )
    assert event.status == status


def test_an_unknown_status_is_unknown_and_message_sent_without_one_is_sent(
    keys, adapter
):
    (event,) = adapter.parse(
        "status", event_request(keys, "message.finalized", finalized("teleported"))
    )
    assert event.status == DeliveryStatus.UNKNOWN
    (event,) = adapter.parse(
        "status", event_request(keys, "message.sent", finalized("", to=[]))
    )
    assert event.status == DeliveryStatus.SENT


@pytest.mark.parametrize(
    "status, errors, kind, code, reason",
    [
        (
            "delivery_failed",
            [{"code": "40001", "title": "Not routable"}],
            ErrorKind.INVALID_NUMBER,
            "40001",
            "This number cannot receive texts",
        ),
        (
            "delivery_failed",
            [{"code": "40300", "title": "Blocked due to STOP message"}],
            ErrorKind.OPTED_OUT,
            "40300",
            "The recipient has opted out",
        ),
        (
            "sending_failed",
            [{"code": "40999", "title": "Odd", "detail": "Something odd happened"}],
            ErrorKind.PERMANENT,
            "40999",
            "Telnyx: Something odd happened. (error 40999)",
        ),
        (
            "delivery_failed",
            [],
            ErrorKind.PERMANENT,
            "",
            "Telnyx: The lead's carrier could not deliver it.",
        ),
    ],
)
def test_a_failure_carries_its_code_and_a_reason(
    keys, adapter, status, errors, kind, code, reason
):
    (event,) = adapter.parse(
        "status", event_request(keys, "message.finalized", finalized(status, errors))
    )
    assert (event.error.kind, event.error.code) == (kind, code)
    assert event.error.reason.startswith(reason)


def test_our_id_is_read_from_the_signed_body_before_the_url(keys, adapter):
    # The URL called is not signed; the event's webhook_url and meta are.
    payload = finalized("delivered", webhook_url=f"{BASE}{STATUS}?ref=42")
    raw = telnyx_mock.event("message.finalized", payload)
    (event,) = adapter.parse("status", request(keys, raw, f"{STATUS}?ref=999"))
    assert event.reference == "42"

    payload = finalized("delivered")
    raw = telnyx_mock.event(
        "message.finalized", payload, delivered_to=f"{BASE}{STATUS}?ref=43"
    )
    (event,) = adapter.parse("status", request(keys, raw, f"{STATUS}?ref=999"))
    assert event.reference == "43"

    raw = telnyx_mock.event("message.finalized", finalized("delivered"))
    (event,) = adapter.parse("status", request(keys, raw, f"{STATUS}?ref=44"))
    assert event.reference == "44"


def test_either_url_takes_either_event(keys, adapter):
    (inbound,) = adapter.parse(
        "status", event_request(keys, "message.received", received())
    )
    (status,) = adapter.parse(
        "inbound", event_request(keys, "message.sent", finalized("sent"))
    )
    assert inbound.from_number == LEAD_NUMBER
    assert status.status == DeliveryStatus.SENT


def test_another_event_type_is_acknowledged_and_stores_nothing(client, keys, org):
    actions.add_number(OUR_NUMBER, "telnyx", org)
    raw = telnyx_mock.event("number_order.complete", {"id": str(uuid.uuid4())})
    response = client.post(
        INBOUND, raw, content_type="application/json", **wsgi(keys.headers(raw))
    )
    assert response.status_code == 200
    assert not Message.objects.exists()
    assert not WebhookReceipt.objects.exists()


def wsgi(headers: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}


# -- sending ------------------------------------------------------------------------


@pytest.fixture
def telnyx_api(settings, keys):
    fake = FakeTelnyx()
    settings.TELNYX_API_URL = fake.url
    settings.CARRIER_TIMEOUT = 5
    yield fake
    fake.close()


@pytest.fixture
def queued(org, alice, keys):
    """alice's reply, queued, to a lead who texted our Telnyx number."""
    sender = actions.add_number(OUR_NUMBER, "telnyx", org)
    inbound = actions.receive_inbound(
        TelnyxAdapter().parse_inbound({"payload": received(), "event_type": "x"})
    )
    assert inbound.conversation.sender == sender
    return actions.send_message(alice, inbound.conversation, "Yes, Tuesday at 9?")


def send_now(message: Message) -> Message:
    outbox.run_once()
    message.refresh_from_db()
    return message


def test_the_request_is_the_one_telnyx_describes(queued, telnyx_api):
    message = send_now(queued)

    assert message.status == Message.Status.SENT, message.error_reason
    (sent,) = telnyx_api.requests
    assert sent["path"] == "/v2/messages"
    assert sent["headers"]["Authorization"] == f"Bearer {API_KEY}"
    body = dict(sent["json"])
    # The organisation's first text to a lead carries its opt-out line.
    assert body.pop("text").endswith("Yes, Tuesday at 9?")
    assert body == {
        "to": LEAD_NUMBER,
        "from": OUR_NUMBER,
        "webhook_url": f"{BASE}/carriers/telnyx/status?ref={message.id}",
        "use_profile_webhooks": False,
    }
    assert telnyx_mock.problems(sent["json"]) == []
    assert uuid.UUID(message.carrier_message_id)  # the id Telnyx gave it


def test_images_go_as_media_urls(keys, telnyx_api, adapter):
    result = adapter.send(
        OutboundMessage(
            OUR_NUMBER,
            LEAD_NUMBER,
            "",
            media_urls=("https://chat.example.com/media/1.jpg",),
        ),
        f"{BASE}{STATUS}?ref=7",
    )
    (sent,) = telnyx_api.sent()
    assert sent["media_urls"] == ["https://chat.example.com/media/1.jpg"]
    assert "text" not in sent  # "a non-empty string" or nothing
    assert result.carrier_message_id
    assert result.status == DeliveryStatus.QUEUED


def test_the_api_url_may_name_the_version_or_not(keys, telnyx_api, adapter, settings):
    settings.TELNYX_API_URL = telnyx_api.url + "/v2"
    adapter.send(OutboundMessage(OUR_NUMBER, LEAD_NUMBER, "Hi"), f"{BASE}{STATUS}")
    assert telnyx_api.requests[-1]["path"] == "/v2/messages"


@pytest.mark.parametrize(
    "answer, status, code, reason",
    [
        (
            (401, telnyx_mock.error_body("10009", "Authentication failed", "No.")),
            Message.Status.FAILED,
            "10009",
            "Telnyx refused our API key",
        ),
        (
            (400, telnyx_mock.error_body("40310", "Invalid 'to' address", "No.")),
            Message.Status.FAILED,
            "40310",
            "This is not a valid phone number.",
        ),
        (
            (422, telnyx_mock.error_body("40999", "Odd", "Something odd")),
            Message.Status.FAILED,
            "40999",
            "Telnyx: Something odd. (error 40999)",
        ),
        (
            (429, telnyx_mock.error_body("10011", "Too many requests", "Slow.")),
            Message.Status.QUEUED,
            "10011",
            "Not sent yet, will retry",
        ),
        (
            (503, {"errors": []}),
            Message.Status.QUEUED,
            "",
            "Not sent yet, will retry",
        ),
    ],
    ids=["credentials", "invalid number", "unknown code", "rate limited", "outage"],
)
def test_telnyxs_answers_are_mapped(queued, telnyx_api, answer, status, code, reason):
    telnyx_api.answers = [answer]

    message = send_now(queued)

    assert (message.status, message.error_code) == (status, code)
    assert message.error_reason.startswith(reason)
    # The SDK's own retries are off: the outbox alone decides.
    assert len(telnyx_api.requests) == 1
    if status == Message.Status.QUEUED:
        assert message.send_after > timezone.now()


def test_no_answer_after_sending_is_flagged_for_an_agent_not_resent(
    queued, telnyx_api, settings
):
    telnyx_api.answers = ["hang"]
    settings.CARRIER_TIMEOUT = 0.5

    message = send_now(queued)

    assert message.status == Message.Status.CHECK
    assert "may have been sent" in message.error_reason
    outbox.run_once()
    assert len(telnyx_api.requests) == 1


def test_an_unreachable_telnyx_is_retried(queued, keys, settings):
    settings.TELNYX_API_URL = closed_port_url()

    message = send_now(queued)

    assert message.status == Message.Status.QUEUED
    assert "could not be reached" in message.error_reason


def test_missing_credentials_fail_with_a_reason_for_an_admin(queued, settings):
    settings.TELNYX_API_KEY = ""
    message = send_now(queued)
    assert message.status == Message.Status.FAILED
    assert "TELNYX_API_KEY" in message.error_reason


# -- media and settings ---------------------------------------------------------------


def test_media_comes_from_telnyxs_host_only(adapter, settings):
    settings.TELNYX_API_URL = ""
    assert adapter.may_fetch_media("https://media.telnyx.com/a1/roof.jpg")
    assert not adapter.may_fetch_media("http://media.telnyx.com/a1/roof.jpg")
    assert not adapter.may_fetch_media("https://media.telnyx.com.evil.example/x")
    assert not adapter.may_fetch_media("https://api.telnyx.com/v2/media/x")


def test_half_the_settings_refuse_to_start_naming_the_rest():
    values = {"TELNYX_API_KEY": "KEY123"}
    with pytest.raises(
        HalfConfigured, match="telnyx is half configured: set TELNYX_PUBLIC_KEY"
    ):
        offered(values.get)
    values["TELNYX_PUBLIC_KEY"] = "cHVibGlj"
    assert "telnyx" in offered(values.get)

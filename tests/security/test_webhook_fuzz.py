"""The carriers' webhooks against anything a carrier, or anyone, could send.

Hypothesis builds requests with fields missing, repeated, oversized, not
UTF-8, with the wrong content types. Signed as the carrier signs (so they get
past the signature and reach the parser) they get a 2xx or a clear 4xx, never
a 5xx, and a request is stored whole or not at all. Unsigned or forged, they
are refused before the parser runs or the database is touched.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote_from_bytes

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from carriers import get_adapter
from chatserver import actions
from chatserver.models import Event, Lead, Message
from tests.conftest import SENDER_NUMBER
from tests.security.webhook_fuzz_support import (
    CONTENT_TYPES,
    ODD_VALUES,
    encode,
    field_values,
    hostile_fields,
    parsed_form,
    row_counts,
    simulator_headers,
    twilio_signature,
)
from tests.twilio_mock import sign_like_twilio

TWILIO_NUMBER = "+14155550101"
LEAD_NUMBER = "+14155550123"

FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TWILIO_FIELDS = {
    "inbound": lambda sid: {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": LEAD_NUMBER,
        "To": TWILIO_NUMBER,
        "Body": "Hi, do you fix roofs?",
        "NumMedia": "0",
        "OptOutType": "",
    },
    "status": lambda sid: {
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "ErrorCode": "",
        "ErrorMessage": "",
    },
}
TWILIO_EXTRA = ["MediaUrl0", "MediaContentType0", "NumSegments", "SmsStatus", "ref"]

SIMULATOR_FIELDS = {
    "inbound": lambda sid: {
        "MessageId": sid,
        "From": LEAD_NUMBER,
        "To": SENDER_NUMBER,
        "Body": "Do you also do gutters?",
    },
    "status": lambda sid: {"MessageId": sid, "Status": "delivered", "ErrorCode": ""},
}
SIMULATOR_EXTRA = ["Status", "ErrorCode", "Body"]


def callback_query() -> st.SearchStrategy[str]:
    """The query of a status callback URL: our message id as ``ref``, which
    the carrier echoes back (signed), or something else."""
    return st.one_of(
        st.just(""),
        st.builds(
            lambda v: "?ref=" + quote_from_bytes(v),
            st.one_of(
                st.integers(0, 10**30).map(lambda n: str(n).encode()), field_values()
            ),
        ),
    )


@pytest.fixture
def numbers(org, sender):
    """A Twilio number and a simulator number (``sender``) of ours."""
    return actions.add_number(TWILIO_NUMBER, "twilio", org)


@pytest.fixture
def parse_calls(monkeypatch):
    """Records every call of each adapter's parser (which still runs)."""
    calls = []
    for name in ("twilio", "simulator"):
        adapter = get_adapter(name)
        real = adapter.parse

        def spy(kind, request, real=real, name=name):
            calls.append((name, kind))
            return real(kind, request)

        monkeypatch.setattr(adapter, "parse", spy)
    return calls


def first(form, name: str) -> str:
    values = form.getlist(name) if hasattr(form, "getlist") else []
    return values[0].strip() if values else ""


def assert_whole_or_nothing(response, before, carrier, kind, form):
    """A 5xx never; a refusal changes no row; an accepted inbound text is
    stored with everything that goes with it."""
    text = response.content.decode(errors="replace")
    assert response.status_code < 500, (response.status_code, text)
    after = row_counts()
    if response.status_code >= 300:
        assert after == before, (response.status_code, text)
        if response.status_code == 400:
            assert text.startswith("Malformed request: ") or "request" in text.lower()
        return
    if kind == "status":
        # A receipt moves a message we sent; it never makes one.
        assert after["Message"] == before["Message"]
        assert after["Lead"] == before["Lead"]
        return
    sid = first(form, "MessageSid" if carrier == "twilio" else "MessageId")
    message = Message.objects.get(carrier=carrier, carrier_message_id=sid)
    assert message.conversation.lead_id is not None
    if after["Message"] > before["Message"]:
        assert after["Event"] > before["Event"], "a stored text was never published"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["inbound", "status"])
@FUZZ
@given(data=st.data())
def test_signed_twilio_webhooks_never_fail_and_store_whole_or_nothing(
    client, numbers, kind, data
):
    path = f"/carriers/twilio/{kind}" + data.draw(callback_query(), label="query")
    base = TWILIO_FIELDS[kind]("SM" + uuid.uuid4().hex)
    pairs = data.draw(hostile_fields(base, TWILIO_EXTRA), label="fields")
    content_type = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")
    body = encode(pairs, content_type)
    url = settings.PUBLIC_BASE_URL + path
    signature = twilio_signature(
        url, path, body, content_type, settings.TWILIO_AUTH_TOKEN
    )
    before = row_counts()

    response = client.generic(
        "POST", path, body, content_type=content_type, HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code != 403, "a correctly signed request was refused"
    form = parsed_form(path, body, content_type)
    assert_whole_or_nothing(response, before, "twilio", kind, form)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["inbound", "status"])
@FUZZ
@given(data=st.data())
def test_signed_simulator_webhooks_never_fail_and_store_whole_or_nothing(
    client, numbers, kind, data
):
    path = f"/carriers/simulator/{kind}" + data.draw(callback_query(), label="query")
    base = SIMULATOR_FIELDS[kind]("SIM" + uuid.uuid4().hex)
    pairs = data.draw(hostile_fields(base, SIMULATOR_EXTRA), label="fields")
    content_type = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")
    body = encode(pairs, content_type)
    headers = simulator_headers(settings.PUBLIC_BASE_URL + path, body)
    before = row_counts()

    response = client.generic("POST", path, body, content_type=content_type, **headers)

    assert response.status_code != 403, "a correctly signed request was refused"
    form = parsed_form(path, body, content_type)
    assert_whole_or_nothing(response, before, "simulator", kind, form)


FORGERIES = st.sampled_from(
    ["none", "garbage", "other body", "other url", "stale", "odd timestamp"]
)


def forged_headers(carrier: str, forgery: str, path: str, body: bytes, draw) -> dict:
    """Signature headers that must not pass: none, made up, or real ones for
    another body, another URL, or too long ago."""
    url = settings.PUBLIC_BASE_URL + path
    if carrier == "twilio":
        token = settings.TWILIO_AUTH_TOKEN
        if forgery == "none":
            return {}
        if forgery == "other body":
            other = body + b"&Body=x"
            ct = "application/x-www-form-urlencoded"
            return {
                "HTTP_X_TWILIO_SIGNATURE": twilio_signature(url, path, other, ct, token)
            }
        if forgery == "other url":
            return {
                "HTTP_X_TWILIO_SIGNATURE": twilio_signature(
                    "https://attacker.example.com" + path, path, body, "", token
                )
            }
        value = draw(field_values(), label="signature").decode("latin-1")
        return {"HTTP_X_TWILIO_SIGNATURE": value}
    headers = simulator_headers(url, body)
    if forgery == "none":
        return {}
    if forgery == "other body":
        return simulator_headers(url, body + b"x")
    if forgery == "other url":
        return simulator_headers("https://attacker.example.com" + path, body)
    if forgery == "stale":
        stale = str(int(headers["HTTP_X_SIMULATOR_TIMESTAMP"]) - 3600)
        return {**headers, "HTTP_X_SIMULATOR_TIMESTAMP": stale}
    if forgery == "odd timestamp":
        odd = draw(field_values(), label="timestamp").decode("latin-1")
        return {**headers, "HTTP_X_SIMULATOR_TIMESTAMP": odd}
    value = draw(field_values(), label="signature").decode("latin-1")
    return {**headers, "HTTP_X_SIMULATOR_SIGNATURE": value}


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_unsigned_or_forged_webhooks_are_refused_before_parsing_or_the_database(
    client, numbers, parse_calls, data
):
    carrier = data.draw(st.sampled_from(["twilio", "simulator"]), label="carrier")
    kind = data.draw(st.sampled_from(["inbound", "status"]), label="kind")
    path = f"/carriers/{carrier}/{kind}"
    fields = (TWILIO_FIELDS if carrier == "twilio" else SIMULATOR_FIELDS)[kind]
    extra = TWILIO_EXTRA if carrier == "twilio" else SIMULATOR_EXTRA
    # Half the time a perfectly good text, the rest hostile.
    base = fields("SM" + uuid.uuid4().hex)
    pairs = data.draw(
        st.one_of(
            st.just([(k.encode(), v.encode()) for k, v in base.items()]),
            hostile_fields(base, extra),
        ),
        label="fields",
    )
    content_type = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")
    body = encode(pairs, content_type)
    forgery = data.draw(FORGERIES, label="forgery")
    headers = forged_headers(carrier, forgery, path, body, data.draw)
    before = row_counts()

    with CaptureQueriesContext(connection) as queries:
        response = client.generic(
            "POST", path, body, content_type=content_type, **headers
        )

    # 400 only for what Django refuses to read at all (too many fields).
    assert response.status_code in (403, 400), response.content
    if response.status_code == 400:
        assert b"Malformed" not in response.content
    assert parse_calls == []
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("carrier", ["twilio", "simulator"])
def test_a_body_over_the_limit_is_refused_and_stores_nothing(
    client, settings, numbers, parse_calls, carrier
):
    settings.MAX_REQUEST_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    path = f"/carriers/{carrier}/inbound"
    fields = (TWILIO_FIELDS if carrier == "twilio" else SIMULATOR_FIELDS)["inbound"]
    base = fields("SM" + uuid.uuid4().hex)
    base["Body"] = "A" * (70 * 1024)
    content_type = "application/x-www-form-urlencoded"
    body = encode([(k.encode(), v.encode()) for k, v in base.items()], content_type)
    url = settings.PUBLIC_BASE_URL + path
    if carrier == "twilio":
        # Signed over what a bigger limit would have let through.
        signature = sign_like_twilio(url, base, settings.TWILIO_AUTH_TOKEN)
        headers = {"HTTP_X_TWILIO_SIGNATURE": signature}
    else:
        headers = simulator_headers(url, body)
    before = row_counts()

    response = client.generic("POST", path, body, content_type=content_type, **headers)

    assert response.status_code in (400, 413)
    assert parse_calls == []
    assert row_counts() == before


@pytest.mark.django_db
def test_thousands_of_fields_are_refused_and_store_nothing(
    client, numbers, parse_calls
):
    path = "/carriers/twilio/inbound"
    base = TWILIO_FIELDS["inbound"]("SM" + uuid.uuid4().hex)
    pairs = [(k.encode(), v.encode()) for k, v in base.items()]
    pairs += [(f"X{i}".encode(), b"1") for i in range(5000)]
    content_type = "application/x-www-form-urlencoded"
    body = encode(pairs, content_type)
    before = row_counts()

    response = client.generic(
        "POST", path, body, content_type=content_type, HTTP_X_TWILIO_SIGNATURE="x"
    )

    assert response.status_code == 400
    assert parse_calls == []
    assert row_counts() == before


@pytest.mark.django_db
def test_a_good_text_still_gets_through_after_all_that(client, numbers):
    """The fuzz tests' premise: a well-formed signed text is stored."""
    path = "/carriers/twilio/inbound"
    base = TWILIO_FIELDS["inbound"]("SM" + uuid.uuid4().hex)
    content_type = "application/x-www-form-urlencoded"
    body = encode([(k.encode(), v.encode()) for k, v in base.items()], content_type)
    url = settings.PUBLIC_BASE_URL + path
    signature = twilio_signature(
        url, path, body, content_type, settings.TWILIO_AUTH_TOKEN
    )

    response = client.generic(
        "POST", path, body, content_type=content_type, HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 200
    message = Message.objects.get(carrier_message_id=base["MessageSid"])
    assert message.body == base["Body"]
    assert Lead.objects.count() == 1
    assert Event.objects.filter(type="message.created").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("carrier", ["twilio", "simulator"])
def test_every_field_with_every_odd_value_gets_a_clear_answer(client, numbers, carrier):
    """Not left to chance: each field of each webhook, given each of the odd
    values in turn (signed), and each odd value as the callback's ``ref``."""
    fields = TWILIO_FIELDS if carrier == "twilio" else SIMULATOR_FIELDS
    content_type = "application/x-www-form-urlencoded"
    for kind, make in fields.items():
        for name in make("x"):
            for value in ODD_VALUES:
                base = make("SM" + uuid.uuid4().hex)
                pairs = [(k.encode(), v.encode()) for k, v in base.items()]
                pairs = [(k, value if k == name.encode() else v) for k, v in pairs]
                # Receipts' URLs carry our id, which the carrier echoes back.
                echoed = kind == "status" and name == next(iter(base))
                query = "?ref=" + quote_from_bytes(value) if echoed else ""
                path = f"/carriers/{carrier}/{kind}{query}"
                body = encode(pairs, content_type)
                url = settings.PUBLIC_BASE_URL + path
                if carrier == "twilio":
                    token = settings.TWILIO_AUTH_TOKEN
                    signature = twilio_signature(url, path, body, content_type, token)
                    headers = {"HTTP_X_TWILIO_SIGNATURE": signature}
                else:
                    headers = simulator_headers(url, body)
                before = row_counts()
                response = client.generic(
                    "POST", path, body, content_type=content_type, **headers
                )
                assert response.status_code != 403, (kind, name, value)
                form = parsed_form(path, body, content_type)
                assert_whole_or_nothing(response, before, carrier, kind, form)


@pytest.mark.django_db
def test_an_odd_simulator_timestamp_is_refused_as_unsigned(
    client, numbers, parse_calls
):
    path = "/carriers/simulator/inbound"
    body = b"MessageId=SIM1&From=%2B14155550123&To=%2B14155550100&Body=hi"
    headers = simulator_headers(settings.PUBLIC_BASE_URL + path, body)
    for odd in ODD_VALUES:
        headers["HTTP_X_SIMULATOR_TIMESTAMP"] = odd.decode("latin-1")
        response = client.generic(
            "POST",
            path,
            body,
            content_type="application/x-www-form-urlencoded",
            **headers,
        )
        assert response.status_code == 403, odd
    assert parse_calls == []


async def body_limit_answer(headers, chunks) -> tuple[int, bytes]:
    """Send a request to the real ASGI application in pieces, as a server
    hands it over; its answer."""
    from channels.testing import ApplicationCommunicator

    from chatserver.asgi import application

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/carriers/twilio/inbound",
        "raw_path": b"/carriers/twilio/inbound",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("192.0.2.7", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    for number, chunk in enumerate(chunks):
        more = number < len(chunks) - 1
        await communicator.send_input(
            {"type": "http.request", "body": chunk, "more_body": more}
        )
    start = await communicator.receive_output(10)
    body = await communicator.receive_output(10)
    await communicator.wait(10)
    return start["status"], body["body"]


async def test_the_asgi_body_limit_counts_bytes_as_they_arrive(settings):
    settings.MAX_REQUEST_BYTES = 64 * 1024
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    chunk = b"A" * 16 * 1024
    # No length given (chunked): refused once the bytes pass the limit.
    assert await body_limit_answer(form, [chunk] * 6) == (
        413,
        b"Request body too large.\n",
    )
    # A length over the limit: refused before a byte is read.
    declared = [*form, (b"content-length", str(10**9).encode())]
    assert (await body_limit_answer(declared, [b""]))[0] == 413
    # A length that is no number.
    assert (await body_limit_answer([*form, (b"content-length", b"12x")], [b""]))[
        0
    ] == 400
    # Within the limit, however it is cut, the whole body reaches the webhook
    # (which wants a signature).
    assert (await body_limit_answer(form, [chunk] * 3))[0] == 403

"""Gateways on a real server: the first webhook after a start is answered
within the gateway's deadline (Telnyx waits 2 s), since the web process loads
every configured gateway's SDK when it starts, not on that first request
(issue 19)."""

from __future__ import annotations

import time
import urllib.request
import uuid

import pytest

from tests.carriers.telnyx_mock import API_KEY, TelnyxKeys, event

pytestmark = pytest.mark.e2e

TELNYX_NUMBER = "+14155550107"
TELNYX_DEADLINE = 2.0


def test_the_first_telnyx_webhook_after_a_start_is_answered_in_time(stack):
    keys = TelnyxKeys()
    telnyx = {"TELNYX_API_KEY": API_KEY, "TELNYX_PUBLIC_KEY": keys.public_key}
    stack.command("add_number", TELNYX_NUMBER, "--carrier", "telnyx", **telnyx)
    server = stack.start_server(**telnyx)
    try:
        body = event(
            "message.received",
            {
                "record_type": "message",
                "direction": "inbound",
                "id": str(uuid.uuid4()),
                "type": "SMS",
                "from": {"phone_number": "+13125550144"},
                "to": [{"phone_number": TELNYX_NUMBER, "status": "webhook_delivered"}],
                "text": "Do you fix hail damage?",
                "media": [],
            },
            delivered_to=server.url + "/carriers/telnyx/inbound",
        )
        request = urllib.request.Request(
            server.url + "/carriers/telnyx/inbound",
            data=body,
            headers={"Content-Type": "application/json", **keys.headers(body)},
        )
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=10) as answer:
            status = answer.status
        took = time.monotonic() - started
    finally:
        server.stop()
    assert status == 200
    assert took < TELNYX_DEADLINE, f"the first webhook took {took:.2f} s"

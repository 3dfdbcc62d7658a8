"""Telnyx passes the carrier contract (tests/carriers/contract.py).

Telnyx signs ``<timestamp>|<raw body>`` with Ed25519 and posts every event of
a message, in JSON, to one URL; a retry is a new delivery (``meta.attempt``
counts them), so its body and signature differ from the first one's and a
byte-for-byte replay is told apart from it. Media URLs are signed by Telnyx
and fetched with no credentials, so the kit's media host refuses any.
"""

from __future__ import annotations

import collections
import json
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

from django.conf import settings as django_settings

from tests.carriers import telnyx_mock
from tests.carriers.contract import LEAD_NUMBER, CarrierContract, Gateway, Signed
from tests.carriers.telnyx_mock import API_KEY, FakeTelnyx, TelnyxKeys
from tests.mms.mms_support import MediaHost

JSON = "application/json"
FINAL = {
    "delivered",
    "delivery_failed",
    "delivery_unconfirmed",
    "sending_failed",
    "expired",
}


class Telnyx(Gateway):
    name = "telnyx"
    number = "+14155550107"
    inbound_path = "/carriers/telnyx/inbound"
    status_path = "/carriers/telnyx/status"
    ack_status = 200
    refusals = ("unsigned", "forged", "expired", "replayed")
    SENT, DELIVERED, QUEUED = "sent", "delivered", "queued"

    def __init__(self) -> None:
        self.keys = TelnyxKeys()
        self.attempts: collections.Counter[str] = collections.Counter()

    def configure(self, settings) -> None:
        settings.TELNYX_API_KEY = API_KEY
        settings.TELNYX_PUBLIC_KEY = self.keys.public_key

    def new_message_id(self) -> str:
        return str(uuid.uuid4())

    def event(self, path, event_type, payload, *, at=None) -> Signed:
        """An event as Telnyx delivers it to ``path``, its attempt counted per
        message, signed at ``at`` (default: now)."""
        self.attempts[payload.get("id", "")] += 1
        raw = telnyx_mock.event(
            event_type,
            payload,
            attempt=self.attempts[payload.get("id", "")],
            delivered_to=django_settings.PUBLIC_BASE_URL + path,
        )
        return Signed(path, raw, JSON, self.keys.headers(raw, at))

    def inbound(
        self, *, message_id, from_number, to_number, body, media=(), signed_at=None
    ):
        payload = {
            "record_type": "message",
            "direction": "inbound",
            "id": message_id,
            "type": "MMS" if media else "SMS",
            "messaging_profile_id": str(uuid.uuid4()),
            "from": {
                "phone_number": from_number,
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            },
            "to": [
                {
                    "phone_number": to_number,
                    "status": "webhook_delivered",
                    "carrier": "TELNYX LLC",
                    "line_type": "VoIP",
                }
            ],
            "cc": [],
            "text": body,
            "media": [
                {
                    "url": url,
                    "content_type": kind,
                    "size": 1024,
                    "hash_sha256": "0" * 64,
                }
                for url, kind in media
            ],
            "encoding": "GSM-7",
            "parts": 1,
            "received_at": datetime.now(UTC).isoformat(),
            "errors": [],
        }
        return self.event(self.inbound_path, "message.received", payload, at=signed_at)

    def status(self, *, message_id, reference, status, error_code=""):
        path = f"{self.status_path}?ref={reference}"
        payload = {
            "record_type": "message",
            "direction": "outbound",
            "id": message_id,
            "type": "SMS",
            "from": {
                "phone_number": self.number,
                "carrier": "TELNYX LLC",
                "line_type": "VoIP",
            },
            "to": [
                {
                    "phone_number": LEAD_NUMBER,
                    "status": status,
                    "carrier": "T-MOBILE USA, INC.",
                    "line_type": "Wireless",
                }
            ],
            "text": "We do! When suits you?",
            "webhook_url": django_settings.PUBLIC_BASE_URL + path,
            "errors": [{"code": error_code, "title": "Undeliverable"}]
            if error_code
            else [],
        }
        event_type = "message.finalized" if status in FINAL else "message.sent"
        return self.event(path, event_type, payload)

    def forged(self, request):
        signed_at = float(request.headers["telnyx-timestamp"])
        return Signed(
            request.path,
            request.body,
            request.content_type,
            TelnyxKeys().headers(request.body, signed_at),
        )

    def unsigned(self, request):
        return Signed(request.path, request.body, request.content_type, {})

    def malformed(self):
        request = self.inbound(
            message_id=self.new_message_id(),
            from_number=LEAD_NUMBER,
            to_number=self.number,
            body="Hi",
        )
        body = json.loads(request.body)
        del body["data"]["payload"]["from"]
        raw = json.dumps(body).encode()
        return Signed(request.path, raw, JSON, self.keys.headers(raw))

    @contextmanager
    def media_host(self, settings):
        # Telnyx's media URLs carry their own signature: a request with any
        # Authorization header is one our adapter should never have made.
        host = MediaHost(authorized=lambda authorization: authorization is None)
        settings.TELNYX_API_URL = host.url
        try:
            yield host
        finally:
            host.close()

    def media_url(self, host, name):
        return f"{host.url}/{uuid.uuid4()}/{name}?signature={uuid.uuid4().hex}"

    def saw_credentials(self, host) -> bool:
        """Telnyx's "credentials" for media are the URL's own signature: the
        host was reached, and never with the account's API key."""
        return bool(host.requests) and all(
            r["authorization"] is None for r in host.requests
        )

    @contextmanager
    def api(self, settings):
        fake = FakeTelnyx()
        settings.TELNYX_API_URL = fake.url
        try:
            yield fake
        finally:
            fake.close()

    def sent_to(self, api):
        return [
            {
                "to": body.get("to"),
                "from": body.get("from"),
                "text": body.get("text", ""),
            }
            for body in api.sent()
        ]

    @contextmanager
    def refusing(self, settings, kind):
        with self.api(settings) as fake:
            fake.refuse(kind)
            yield fake


class TestContract(CarrierContract):
    gateway_class = Telnyx

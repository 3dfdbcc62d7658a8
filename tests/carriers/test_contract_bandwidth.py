"""Bandwidth passes the carrier contract (tests/carriers/contract.py).

Bandwidth authenticates its callbacks with the HTTP Basic credentials set on
the messaging application, and nothing else: no timestamp, no nonce, no
signature. So the kit refuses "unsigned" and "forged" requests only. A
captured request replayed is the very request Bandwidth itself retries until
it gets a 2xx ("at least once delivery"): it cannot be refused without
refusing Bandwidth's own retries, and the unique message id makes it harmless.
There is no timestamp to expire.

Bandwidth refuses an opted-out or unreachable recipient after accepting the
message, in a ``message-failed`` callback: ``refusing`` plans it in the mock
and posts the callback, as Bandwidth would, when its block ends.
"""

from __future__ import annotations

import base64
import json
import uuid
from contextlib import contextmanager

from tests.carriers.bandwidth_mock import FakeBandwidth
from tests.carriers.contract import LEAD_NUMBER, CarrierContract, Gateway, Signed

ACCOUNT_ID = "9900000"  # Bandwidth's docs' example account
APPLICATION_ID = "93de2206-9669-4e07-948d-329f4b722ee2"
CLIENT_ID = "tests-only-client-id"
CLIENT_SECRET = "tests-only-client-secret"
CALLBACK_USER = "tests-only-callback-user"
CALLBACK_PASSWORD = "tests-only-callback-password"
JSON = "application/json; charset=utf-8"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def callback(kind: str, *, message_id: str, to: str, message: dict, **extra) -> dict:
    """One callback as Bandwidth's webhooks page shows it."""
    return {
        "type": kind,
        "time": "2026-12-05T07:30:15.000Z",
        "description": extra.pop("description", "ok"),
        "to": to,
        "message": {
            "id": message_id,
            "time": "2026-12-05T07:30:14.000Z",
            "applicationId": APPLICATION_ID,
            "segmentCount": 1,
            **message,
        },
        **extra,
    }


class Bandwidth(Gateway):
    name = "bandwidth"
    number = "+14155550107"
    inbound_path = "/carriers/bandwidth/inbound"
    status_path = "/carriers/bandwidth/status"
    refusals = ("unsigned", "forged")
    # Bandwidth has no "queued" callback: message-sending is its earliest.
    SENT, DELIVERED, QUEUED = "message-sent", "message-delivered", "message-sending"

    def configure(self, settings) -> None:
        settings.BANDWIDTH_ACCOUNT_ID = ACCOUNT_ID
        settings.BANDWIDTH_USERNAME = CLIENT_ID
        settings.BANDWIDTH_PASSWORD = CLIENT_SECRET
        settings.BANDWIDTH_APPLICATION_ID = APPLICATION_ID
        settings.BANDWIDTH_CALLBACK_USERNAME = CALLBACK_USER
        settings.BANDWIDTH_CALLBACK_PASSWORD = CALLBACK_PASSWORD

    def new_message_id(self) -> str:
        return "1764919815000" + uuid.uuid4().hex[:16]

    def post(self, path, callbacks, password=CALLBACK_PASSWORD) -> Signed:
        headers = {"Authorization": basic(CALLBACK_USER, password)}
        return Signed(path, json.dumps(callbacks).encode(), JSON, headers)

    def inbound(
        self, *, message_id, from_number, to_number, body, media=(), signed_at=None
    ):
        message = {
            "owner": to_number,
            "direction": "in",
            "to": [to_number],
            "from": from_number,
            "text": body,
        }
        if media:
            message["media"] = [url for url, _ in media]
        received = callback(
            "message-received",
            message_id=message_id,
            to=to_number,
            message=message,
            description="Incoming message received",
        )
        return self.post(self.inbound_path, [received])

    def status(self, *, message_id, reference, status, error_code=""):
        message = {
            "owner": self.number,
            "direction": "out",
            "to": [LEAD_NUMBER],
            "from": self.number,
            "text": "",
            "tag": reference,
        }
        extra = {"errorCode": int(error_code)} if error_code else {}
        receipt = callback(
            status, message_id=message_id, to=LEAD_NUMBER, message=message, **extra
        )
        return self.post(self.status_path, [receipt])

    def forged(self, request):
        headers = {"Authorization": basic(CALLBACK_USER, "not-our-password")}
        return Signed(request.path, request.body, request.content_type, headers)

    def unsigned(self, request):
        return Signed(request.path, request.body, request.content_type, {})

    def malformed(self):
        request = self.inbound(
            message_id=self.new_message_id(),
            from_number=LEAD_NUMBER,
            to_number=self.number,
            body="Hi",
        )
        callbacks = json.loads(request.body)
        del callbacks[0]["message"]["from"]
        return self.post(self.inbound_path, callbacks)

    def fake(self, settings) -> FakeBandwidth:
        fake = FakeBandwidth(ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET)
        settings.BANDWIDTH_API_URL = fake.url
        return fake

    @contextmanager
    def media_host(self, settings):
        # Bandwidth's media are on its messaging API (getMedia), which wants
        # the OAuth2 token the same mock issues.
        fake = self.fake(settings)
        try:
            yield fake
        finally:
            fake.close()

    def media_url(self, host, name):
        return f"{host.url}/api/v2/users/{ACCOUNT_ID}/media/{uuid.uuid4().hex}/0/{name}"

    def saw_credentials(self, host) -> bool:
        fetched = host.media_requests()
        return bool(fetched) and all(
            r["authorization"] == f"Bearer {host.tokens[-1]}" for r in fetched
        )

    @contextmanager
    def api(self, settings):
        fake = self.fake(settings)
        try:
            yield fake
        finally:
            fake.close()

    def sent_to(self, api):
        return [
            {"to": sent["to"][0], "from": sent["from"], "text": sent.get("text", "")}
            for sent in api.sends()
        ]

    ERROR_CODES = {"opted_out": 4775, "invalid_number": 4720}

    @contextmanager
    def refusing(self, settings, kind):
        fake = self.fake(settings)
        fake.fail(LEAD_NUMBER, self.ERROR_CODES[kind])
        try:
            yield fake
        finally:
            fake.close()

    def settle(self, client, api, kind):
        # What Bandwidth does next: the message-failed callback, to the
        # application's outbound URL.
        for failed in api.callbacks:
            response = self.post(self.status_path, [failed]).post(client)
            assert response.status_code == 200, response.content


class TestContract(CarrierContract):
    gateway_class = Bandwidth

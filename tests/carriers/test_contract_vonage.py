"""Vonage passes the carrier contract (tests/carriers/contract.py).

Vonage signs each webhook delivery with a fresh JWT (``iat``, ``jti``), so an
expired or replayed request is refused while its own retry, signed anew, is
not. Its API is FakeVonage (tests/carriers/vonage_mock.py), which checks the
real SDK's requests against Vonage's published description.

One contract case is met the way Vonage meets it: a send to an opted-out
recipient is not refused by the API but accepted (202) and then reported
``rejected`` with error 1240 by a status webhook, which ``refusing`` posts
after the outbox has sent.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

from django.conf import settings as django_settings

from tests.carriers.contract import LEAD_NUMBER, CarrierContract, Gateway, Signed
from tests.carriers.vonage_mock import (
    INVALID_RECIPIENT,
    TEST_APPLICATION_ID,
    TEST_SIGNATURE_SECRET,
    FakeVonage,
    application_jwt_ok,
    now_iso,
    sign_like_vonage,
    status_body,
    throwaway_key_pem,
)
from tests.mms.mms_support import MediaHost

JSON = "application/json"


def digits(number: str) -> str:
    return number.removeprefix("+")


class Vonage(Gateway):
    name = "vonage"
    number = "+14155550107"
    inbound_path = "/carriers/vonage/inbound"
    status_path = "/carriers/vonage/status"
    # Vonage has no "queued" status: "submitted" is the earliest it reports.
    SENT, DELIVERED, QUEUED = "submitted", "delivered", "submitted"

    def configure(self, settings) -> None:
        settings.VONAGE_APPLICATION_ID = TEST_APPLICATION_ID
        settings.VONAGE_PRIVATE_KEY = throwaway_key_pem()
        settings.VONAGE_SIGNATURE_SECRET = TEST_SIGNATURE_SECRET

    def signed(self, path, data, *, at=None, secret=None) -> Signed:
        body = json.dumps(data).encode()
        secret = secret or django_settings.VONAGE_SIGNATURE_SECRET
        header = sign_like_vonage(body, secret, issued_at=at)
        return Signed(path, body, JSON, {"Authorization": header})

    def inbound(
        self, *, message_id, from_number, to_number, body, media=(), signed_at=None
    ):
        data = {
            "channel": "mms" if media else "sms",
            "message_uuid": message_id,
            "to": digits(to_number),
            "from": digits(from_number),
            "timestamp": now_iso(),
        }
        if not media:
            data |= {"message_type": "text", "text": body, "sms": {"num_messages": "1"}}
        elif len(media) == 1:
            data |= {"message_type": "image", "image": {"url": media[0][0]}}
            if body:
                data["image"]["caption"] = body
        else:
            data |= {
                "message_type": "image",
                "image": {"url": media[0][0]},
                "content": [{"type": "image", "url": url} for url, _ in media],
            }
        return self.signed(self.inbound_path, data, at=signed_at)

    def status(self, *, message_id, reference, status, error_code=""):
        request = {
            "to": digits(LEAD_NUMBER),
            "from": digits(self.number),
            "client_ref": reference,
        }
        data = status_body(message_id, request, status, error_code)
        return self.signed(self.status_path, data)

    def forged(self, request):
        data = json.loads(request.body)
        return self.signed(
            request.path, data, secret="not-our-signature-secret-0123456789"
        )

    def unsigned(self, request):
        return Signed(request.path, request.body, request.content_type, {})

    def malformed(self):
        data = {
            "channel": "sms",
            "message_uuid": self.new_message_id(),
            "to": digits(self.number),
            "timestamp": now_iso(),
            "message_type": "text",
            "text": "Hi",
        }
        return self.signed(self.inbound_path, data)

    def new_message_id(self) -> str:
        return str(uuid.uuid4())

    @contextmanager
    def media_host(self, settings):
        host = MediaHost(authorized=application_jwt_ok)
        settings.VONAGE_API_URL = host.url
        try:
            yield host
        finally:
            host.close()

    def media_url(self, host, name):
        return f"{host.url}/v3/media/{uuid.uuid4()}"

    def saw_credentials(self, host) -> bool:
        return bool(host.requests) and all(
            application_jwt_ok(r["authorization"]) for r in host.requests
        )

    @contextmanager
    def api(self, settings):
        fake = FakeVonage()
        settings.VONAGE_API_URL = fake.url
        try:
            yield fake
        finally:
            fake.close()

    def sent_to(self, api):
        return [
            {
                "to": "+" + body["to"],
                "from": "+" + body["from"],
                "text": body.get("text") or body.get("image", {}).get("caption", ""),
            }
            for _, body in api.accepted
        ]

    @contextmanager
    def refusing(self, settings, kind):
        with self.api(settings) as fake:
            if kind == "invalid_number":
                fake.answers = [INVALID_RECIPIENT]
            yield fake

    def settle(self, client, api, kind):
        if kind == "opted_out":
            # Vonage took the text (202); its status webhook says why not.
            for message_uuid, request in api.accepted:
                data = status_body(message_uuid, request, "rejected", "1240")
                response = self.signed(self.status_path, data).post(client)
                assert response.status_code == 200, response.content


class TestContract(CarrierContract):
    gateway_class = Vonage

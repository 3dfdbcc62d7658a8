"""Plivo passes the carrier contract (tests/carriers/contract.py).

Plivo signs the URL, the form fields and a nonce of each delivery
(``X-Plivo-Signature-V3``), with no timestamp: a request replayed is refused
by its nonce, and there is no "expired" to refuse.

One difference from the contract's picture: Plivo's API does not refuse a
send to an opted-out recipient; it queues it and reports it failed (error
200) in the status callback. ``refusing("opted_out")`` therefore delivers
that callback, signed, as its block ends, before the contract looks.
"""

from __future__ import annotations

import secrets
import uuid
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode

from django.conf import settings as django_settings
from django.test import Client

from tests.carriers.contract import CarrierContract, Gateway, Signed
from tests.carriers.plivo_mock import (
    TEST_AUTH_ID,
    TEST_AUTH_TOKEN,
    FakePlivo,
    sign_like_plivo,
)
from tests.mms.mms_support import MediaHost

FORM = "application/x-www-form-urlencoded"


def digits(number: str) -> str:
    """A number as Plivo writes it in webhooks: no plus."""
    return number.lstrip("+")


class Plivo(Gateway):
    name = "plivo"
    number = "+14155550107"
    inbound_path = "/carriers/plivo/inbound"
    status_path = "/carriers/plivo/status"
    refusals = ("unsigned", "forged", "replayed")
    SENT, DELIVERED, QUEUED = "sent", "delivered", "queued"

    def configure(self, settings) -> None:
        settings.PLIVO_AUTH_ID = TEST_AUTH_ID
        settings.PLIVO_AUTH_TOKEN = TEST_AUTH_TOKEN

    def new_message_id(self) -> str:
        return str(uuid.uuid4())

    def signed(self, path, fields, token=None) -> Signed:
        """Signed as Plivo signs each delivery: a nonce of its own (digits)."""
        url = django_settings.PUBLIC_BASE_URL + path
        nonce = str(secrets.randbelow(10**20)).zfill(20)
        signature = sign_like_plivo(
            url, fields, nonce, token or django_settings.PLIVO_AUTH_TOKEN
        )
        headers = {
            "X-Plivo-Signature-V3": signature,
            "X-Plivo-Signature-V3-Nonce": nonce,
        }
        return Signed(path, urlencode(fields, doseq=True).encode(), FORM, headers)

    def inbound(
        self, *, message_id, from_number, to_number, body, media=(), signed_at=None
    ):
        fields = {
            "MessageUUID": message_id,
            "From": digits(from_number),
            "To": digits(to_number),
            "Type": "mms" if media else "sms",
            "Units": "1",
            "TotalRate": "0.00000",
            "TotalAmount": "0.00000",
            "MessageIntent": "",
            "PowerpackUUID": "",
        }
        fields["Body" if media else "Text"] = body
        if media:
            fields["MediaCount"] = str(len(media))
        for index, (url, _kind) in enumerate(media):
            fields[f"Media{index}"] = url  # Plivo names no type per attachment
        return self.signed(self.inbound_path, fields)

    def status(self, *, message_id, reference, status, error_code=""):
        fields = {
            "MessageUUID": message_id,
            "ParentMessageUUID": message_id,
            "Status": status,
            "From": digits(self.number),
            "To": "12125550187",
            "Type": "sms",
            "Units": "1",
            "TotalRate": "0.00500",
            "TotalAmount": "0.00500",
            "MCC": "310",
            "MNC": "004",
            "Sequence": "1",
            "PartInfo": "1 of 1",
        }
        if error_code:
            fields["ErrorCode"] = error_code
        return self.signed(f"{self.status_path}?ref={reference}", fields)

    def forged(self, request):
        fields = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        return self.signed(request.path, fields, token="not-our-token")

    def unsigned(self, request):
        return Signed(request.path, request.body, request.content_type, {})

    def malformed(self):
        fields = {
            "MessageUUID": self.new_message_id(),
            "To": "14155550107",
            "Text": "Hi",
        }
        return self.signed(self.inbound_path, fields)

    @contextmanager
    def media_host(self, settings):
        host = MediaHost(credentials=(TEST_AUTH_ID, settings.PLIVO_AUTH_TOKEN))
        settings.PLIVO_API_URL = host.url
        try:
            yield host
        finally:
            host.close()

    def media_url(self, host, name):
        path = f"/v1/Account/{TEST_AUTH_ID}/Message/{uuid.uuid4()}/Media/{name}"
        return host.url + path

    @contextmanager
    def api(self, settings):
        fake = FakePlivo()
        settings.PLIVO_API_URL = fake.url
        try:
            yield fake
        finally:
            fake.close()

    def sent_to(self, api):
        return [
            {
                "to": r["json"]["dst"],
                "from": r["json"]["src"],
                "text": r["json"]["text"],
            }
            for r in api.accepted()
        ]

    @contextmanager
    def refusing(self, settings, kind):
        from tests.carriers.contract import LEAD_NUMBER

        fake = FakePlivo()
        if kind == "invalid_number":
            fake.invalid.add(LEAD_NUMBER)
        settings.PLIVO_API_URL = fake.url
        try:
            yield fake
        finally:
            fake.close()

    def settle(self, client, api, kind):
        # Plivo queues a text to an opted-out number, then reports it failed.
        if kind == "opted_out":
            self.report_failed(api, error_code="200")

    def report_failed(self, fake, error_code):
        """Post, as Plivo does after queuing them, each accepted send's
        status callback: failed, with ``error_code``."""
        for sent in fake.accepted():
            callback = sent["json"]["url"]
            path = callback[len(django_settings.PUBLIC_BASE_URL) :]
            reference = parse_qs(path.partition("?")[2])["ref"][0]
            response = self.status(
                message_id=sent["message_uuid"],
                reference=reference,
                status="failed",
                error_code=error_code,
            ).post(Client())
            assert response.status_code == 200, response.content


class TestContract(CarrierContract):
    gateway_class = Plivo

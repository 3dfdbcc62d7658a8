"""Twilio passes the carrier contract (tests/carriers/contract.py).

Twilio signs the URL and the form fields (``X-Twilio-Signature``), with no
timestamp or nonce: a captured request replayed is indistinguishable from
Twilio's own retry, which the unique message id makes harmless.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode

import pytest
from django.conf import settings as django_settings

from tests.carriers.contract import CarrierContract, Gateway, Signed
from tests.mms.mms_support import MediaHost, RecordingProxy, media_path
from tests.twilio_mock import TEST_SID, FakeTwilio, sign_like_twilio

FORM = "application/x-www-form-urlencoded"


class Twilio(Gateway):
    name = "twilio"
    number = "+14155550105"
    inbound_path = "/carriers/twilio/inbound"
    status_path = "/carriers/twilio/status"
    refusals = ("unsigned", "forged")
    SENT, DELIVERED, QUEUED = "sent", "delivered", "queued"

    # A Prism mock of Twilio's API (tests/twilio_mock.py), set per test class.
    prism_url = ""

    def configure(self, settings) -> None:
        settings.TWILIO_ACCOUNT_SID = TEST_SID
        settings.TWILIO_AUTH_TOKEN = "tests-only-auth-token"

    def new_message_id(self) -> str:
        return "SM" + uuid.uuid4().hex

    def signed(self, path, fields, token=None) -> Signed:
        url = django_settings.PUBLIC_BASE_URL + path
        signature = sign_like_twilio(
            url, fields, token or django_settings.TWILIO_AUTH_TOKEN
        )
        return Signed(
            path,
            urlencode(fields, doseq=True).encode(),
            FORM,
            {"X-Twilio-Signature": signature},
        )

    def inbound(self, *, message_id, from_number, to_number, body, media=(), signed_at=None):
        fields = {
            "MessageSid": message_id,
            "AccountSid": TEST_SID,
            "From": from_number,
            "To": to_number,
            "Body": body,
            "NumMedia": str(len(media)),
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        for index, (url, kind) in enumerate(media):
            fields[f"MediaUrl{index}"] = url
            fields[f"MediaContentType{index}"] = kind
        return self.signed(self.inbound_path, fields)

    def status(self, *, message_id, reference, status, error_code=""):
        fields = {"MessageSid": message_id, "MessageStatus": status, "AccountSid": TEST_SID}
        if error_code:
            fields["ErrorCode"] = error_code
        return self.signed(f"{self.status_path}?ref={reference}", fields)

    def forged(self, request):
        fields = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        return self.signed(request.path, fields, token="not-our-token")

    def unsigned(self, request):
        return Signed(request.path, request.body, request.content_type, {})

    def malformed(self):
        fields = {"MessageSid": self.new_message_id(), "To": self.number, "Body": "Hi"}
        return self.signed(self.inbound_path, fields)

    @contextmanager
    def media_host(self, settings):
        host = MediaHost(credentials=(TEST_SID, settings.TWILIO_AUTH_TOKEN))
        settings.TWILIO_API_URL = host.url
        try:
            yield host
        finally:
            host.close()

    def media_url(self, host, name):
        return host.url + media_path(name)

    @contextmanager
    def api(self, settings):
        proxy = RecordingProxy(self.prism_url)
        settings.TWILIO_API_URL = proxy.url
        try:
            yield proxy
        finally:
            proxy.close()

    def sent_to(self, api):
        sent = []
        for request in api.requests:
            fields = {k: v[0] for k, v in parse_qs(request["body"]).items()}
            sent.append({"to": fields["To"], "from": fields["From"], "text": fields["Body"]})
        return sent

    ERROR_CODES = {"opted_out": 21610, "invalid_number": 21211}

    @contextmanager
    def refusing(self, settings, kind):
        fake = FakeTwilio()
        code = self.ERROR_CODES[kind]
        fake.answers = [(400, {"code": code, "message": "Refused.", "status": 400})]
        settings.TWILIO_API_URL = fake.url
        try:
            yield fake
        finally:
            fake.close()


class TestContract(CarrierContract):
    gateway_class = Twilio

    @pytest.fixture(autouse=True)
    def _prism(self, twilio_api):
        Twilio.prism_url = twilio_api

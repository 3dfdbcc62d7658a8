"""The simulated network passes the carrier contract (tests/carriers/contract.py).

Its "API" is the network itself, on this machine: a send lands in the lead's
simulated phone, and the phone's mode makes the network refuse as carriers
do. Its media host is the network's media store, which needs no credentials
because nothing outside this machine can name it.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode

import pytest
from django.conf import settings as django_settings

from carriers import phone_network
from tests.carriers.contract import CarrierContract, Gateway, Signed
from tests.mms.mms_support import JPEG

FORM = "application/x-www-form-urlencoded"


class Simulator(Gateway):
    name = "simulator"
    number = "+14155550106"
    inbound_path = "/carriers/simulator/inbound"
    status_path = "/carriers/simulator/status"
    ack_status = 204
    SENT, DELIVERED, QUEUED = "sent", "delivered", "queued"

    def configure(self, settings) -> None:
        pass  # signed with the installation's SECRET_KEY

    def new_message_id(self) -> str:
        return "SIM" + uuid.uuid4().hex

    def signed(self, path, fields, *, at=None, secret=None) -> Signed:
        url = django_settings.PUBLIC_BASE_URL + path
        body = urlencode(fields).encode()
        timestamp = str(int(time.time() if at is None else at))
        nonce = uuid.uuid4().hex
        if secret is not None:
            real, django_settings.SECRET_KEY = django_settings.SECRET_KEY, secret
        try:
            signature = phone_network.signature(url, timestamp, body, nonce)
        finally:
            if secret is not None:
                django_settings.SECRET_KEY = real
        headers = {
            "X-Simulator-Timestamp": timestamp,
            "X-Simulator-Nonce": nonce,
            "X-Simulator-Signature": signature,
        }
        return Signed(path, body, FORM, headers)

    def inbound(self, *, message_id, from_number, to_number, body, media=(), signed_at=None):
        fields = {
            "MessageId": message_id,
            "From": from_number,
            "To": to_number,
            "Body": body,
            "NumMedia": str(len(media)),
        }
        for index, (url, kind) in enumerate(media):
            fields[f"MediaUrl{index}"] = url
            fields[f"MediaContentType{index}"] = kind
        return self.signed(self.inbound_path, fields, at=signed_at)

    def status(self, *, message_id, reference, status, error_code=""):
        fields = {"MessageId": message_id, "Status": status}
        if error_code:
            fields["ErrorCode"] = error_code
        return self.signed(f"{self.status_path}?ref={reference}", fields)

    def forged(self, request):
        fields = dict(parse_qsl(request.body.decode()))
        return self.signed(request.path, fields, secret="another-installation")

    def unsigned(self, request):
        return Signed(request.path, request.body, request.content_type, {})

    def malformed(self):
        fields = {"MessageId": self.new_message_id(), "To": self.number, "Body": "Hi"}
        return self.signed(self.inbound_path, fields)

    @contextmanager
    def media_host(self, settings):
        yield NetworkMedia(phone_network.network())

    def media_url(self, host, name):
        return host.add(name)

    def saw_credentials(self, host) -> bool:
        return True  # the network's own store: no credentials exist

    @contextmanager
    def api(self, settings):
        yield phone_network.network()

    def sent_to(self, network):
        return [
            {"to": m["phone"], "from": m["company"], "text": m["body"]}
            for m in network.messages()
            if m["direction"] == phone_network.TO_PHONE
        ]

    MODES = {"opted_out": "opted_out", "invalid_number": "invalid"}

    @contextmanager
    def refusing(self, settings, kind):
        from tests.carriers.contract import LEAD_NUMBER

        network = phone_network.network()
        network.set_mode(LEAD_NUMBER, self.MODES[kind])
        yield network


class NetworkMedia:
    """The simulated network's media store, as the contract's media host."""

    def __init__(self, network):
        self.network = network
        self.url = phone_network.MEDIA_ORIGIN

    def add(self, name: str) -> str:
        stored = self.network.store_media(JPEG, "image/jpeg")
        return f"{phone_network.MEDIA_ORIGIN}/{stored['id']}"

    def serve(self, path, body, content_type):
        pass  # stored by ``add``


class TestContract(CarrierContract):
    gateway_class = Simulator

    @pytest.fixture(autouse=True)
    def _network(self, settings, tmp_path):
        settings.SIMULATOR_DIR = tmp_path / "simulator"

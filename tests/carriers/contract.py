"""One contract every gateway adapter passes (django-anymail's style).

Each gateway has a test module (``test_contract_<name>.py``) with a
``Gateway`` kit, which knows how that gateway signs and shapes its requests,
and a ``TestContract(CarrierContract)`` class naming the kit: every test
below then runs against that gateway, through the real webhook view, the
real actions and the real outbox, with the gateway's real SDK talking to a
local mock of its API.

What a kit provides is listed on ``Gateway``; the words a gateway uses for
statuses and errors stay in the kit, so the tests read the same for all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.test import Client

from carriers import get_adapter
from chatserver import actions
from chatserver.models import Attachment, Consent, Event, Lead, Message, WebhookReceipt
from chatserver.worker import loop as outbox
from chatserver.worker import media as inbound_media
from tests.mms.mms_support import JPEG, MediaHost

LEAD_NUMBER = "+12125550187"


@dataclass(frozen=True)
class Signed:
    """A webhook as the gateway would POST it."""

    path: str  # /carriers/<name>/inbound?... (query included)
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)  # HTTP header names

    def post(self, client: Client):
        meta = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in self.headers.items()
        }
        return client.post(self.path, self.body, content_type=self.content_type, **meta)


class Gateway:
    """A gateway as the contract sees it. Subclass per gateway.

    Status words (``status``) are the gateway's own; ``SENT``, ``DELIVERED``
    and ``QUEUED`` name the gateway's words for those three.
    """

    name = ""
    number = ""  # our number on this gateway (fiction: 555-01xx)
    inbound_path = ""
    status_path = ""
    ack_status = 200
    # The forgeries refused with 403: every gateway refuses "unsigned" and
    # "forged"; one whose signature covers a timestamp refuses "expired",
    # and one that signs each delivery anew (a nonce, a timestamp) tells a
    # "replayed" request from its own retry.
    refusals: tuple[str, ...] = ("unsigned", "forged", "expired", "replayed")
    SENT = "sent"
    DELIVERED = "delivered"
    QUEUED = "queued"

    def configure(self, settings) -> None:
        """Set the gateway's (test-only) credentials."""
        raise NotImplementedError

    def inbound(
        self,
        *,
        message_id: str,
        from_number: str,
        to_number: str,
        body: str,
        media: tuple[tuple[str, str], ...] = (),
        signed_at: float | None = None,
    ) -> Signed:
        """A signed webhook for a text (an MMS with ``media``: (url, type))."""
        raise NotImplementedError

    def status(
        self,
        *,
        message_id: str,
        reference: str,
        status: str,
        error_code: str = "",
    ) -> Signed:
        """A signed delivery receipt for a message we sent."""
        raise NotImplementedError

    def new_message_id(self) -> str:
        return uuid.uuid4().hex

    def forged(self, request: Signed) -> Signed:
        """The same request signed with a key that is not ours."""
        raise NotImplementedError

    def unsigned(self, request: Signed) -> Signed:
        """The same request without any signature."""
        raise NotImplementedError

    def malformed(self) -> Signed:
        """A correctly signed inbound webhook that lacks what every text has
        (its sender's number, say): 400, nothing stored."""
        raise NotImplementedError

    @contextmanager
    def media_host(self, settings) -> Iterator[MediaHost]:
        """A local media host that wants the gateway's media credentials, the
        adapter pointed at it (its *_API_URL)."""
        raise NotImplementedError

    def media_url(self, host: MediaHost, name: str) -> str:
        """Where the gateway would say a lead's image ``name`` is."""
        raise NotImplementedError

    def saw_credentials(self, host: MediaHost) -> bool:
        """Whether the host's requests carried the gateway's credentials."""
        expected = host.credentials_header
        return bool(host.requests) and all(
            r["authorization"] == expected for r in host.requests
        )

    @contextmanager
    def api(self, settings) -> Iterator[object]:
        """The gateway's API mocked locally (from its published description
        where there is one), the adapter pointed at it."""
        raise NotImplementedError

    def sent_to(self, api) -> list[dict]:
        """What the SDK sent to the mock: each request's fields as a dict
        with at least ``to``, ``from`` and ``text``."""
        raise NotImplementedError

    @contextmanager
    def refusing(self, settings, kind: str) -> Iterator[object]:
        """The gateway's API answering a send as it does for a recipient who
        opted out (``kind`` "opted_out") or an invalid number
        ("invalid_number")."""
        raise NotImplementedError

    def settle(self, client: Client, api, kind: str) -> None:
        """Deliver what the gateway reports after a send it took: a gateway
        that refuses such a recipient only in a later status callback (Plivo,
        Vonage and Bandwidth take the text, then report it failed) posts that
        callback here. One that refuses the send itself has nothing to do."""


class CarrierContract:
    """The tests every adapter passes. ``gateway_class`` names the kit."""

    gateway_class: type[Gateway]

    @pytest.fixture
    def gw(self, settings, org) -> Gateway:
        gateway = self.gateway_class()
        gateway.configure(settings)
        actions.add_number(gateway.number, gateway.name, org)
        return gateway

    def text(self, gw: Gateway, body="Hi, do you fix roofs?", **kw) -> Signed:
        return gw.inbound(
            message_id=kw.pop("message_id", None) or gw.new_message_id(),
            from_number=LEAD_NUMBER,
            to_number=gw.number,
            body=body,
            **kw,
        )

    def lead_texts_and_alice_answers(self, client, gw, alice) -> Message:
        """A lead texts in, alice answers: her reply, queued."""
        response = self.text(gw).post(client)
        assert response.status_code == gw.ack_status, response.content
        conversation = Message.objects.get(direction="in").conversation
        return actions.send_message(alice, conversation, "We do! When suits you?")

    # -- webhooks in -----------------------------------------------------------

    def test_a_signed_text_is_stored_once_and_acknowledged(self, client, gw):
        request = self.text(gw, message_id=gw.new_message_id())
        response = request.post(client)

        assert response.status_code == gw.ack_status, response.content
        message = Message.objects.get()
        assert message.body == "Hi, do you fix roofs?"
        assert message.carrier == gw.name
        assert message.conversation.contact_number.number == LEAD_NUMBER
        assert message.conversation.sender.number == gw.number

    def test_a_request_not_signed_now_by_the_gateway_is_refused(
        self, client, gw, refusal
    ):
        """``refusal`` runs over the kit's ``refusals`` (tests/carriers/conftest.py)."""
        if refusal == "replayed":
            first = self.text(gw)
            assert first.post(client).status_code == gw.ack_status
            before = (Message.objects.count(), Event.objects.count())
            response = first.post(client)
            assert response.status_code == 403
            assert (Message.objects.count(), Event.objects.count()) == before
            return
        good = self.text(gw)
        request = {
            "unsigned": gw.unsigned,
            "forged": gw.forged,
            "expired": lambda _: self.text(gw, signed_at=0.0),
        }[refusal](good)
        response = request.post(client)

        assert response.status_code == 403
        assert not Message.objects.exists()
        assert not Lead.objects.exists()
        assert not Event.objects.exists()

    def test_refused_whatever_debug_says(self, client, gw, settings):
        settings.DEBUG = True
        response = gw.forged(self.text(gw)).post(client)
        assert response.status_code == 403
        assert not Message.objects.exists()

    def test_a_text_delivered_twice_is_stored_once(self, client, gw):
        message_id = gw.new_message_id()
        first = self.text(gw, message_id=message_id).post(client)
        events = Event.objects.count()
        # Signed again, as the gateway signs a retry.
        second = self.text(gw, message_id=message_id).post(client)

        assert first.status_code == second.status_code == gw.ack_status
        assert Message.objects.count() == 1
        assert Lead.objects.count() == 1
        assert Event.objects.count() == events

    def test_a_malformed_webhook_gets_400_and_stores_nothing(self, client, gw):
        response = gw.malformed().post(client)
        assert response.status_code == 400
        assert not Message.objects.exists()
        assert not Lead.objects.exists()
        assert not Event.objects.exists()

    def test_a_queued_webhook_is_applied_by_the_worker(self, client, gw, settings):
        settings.WEBHOOKS_QUEUED = True
        response = self.text(gw).post(client)
        assert response.status_code == gw.ack_status
        assert WebhookReceipt.objects.count() == 1
        assert not Message.objects.exists()

        outbox.apply_webhooks()

        assert Message.objects.get().body == "Hi, do you fix roofs?"
        assert not WebhookReceipt.objects.exists()

    def test_an_inbound_image_is_fetched_with_the_gateways_credentials(
        self, client, gw, settings, org
    ):
        org.mms_enabled = True
        org.save()
        with gw.media_host(settings) as host:
            url = gw.media_url(host, "roof.jpg")
            host.serve(url[len(host.url) :], JPEG, "image/jpeg")
            response = self.text(gw, body="The roof", media=((url, "image/jpeg"),))
            assert response.post(client).status_code == gw.ack_status

            assert inbound_media.run_once() == 1

            attachment = Attachment.objects.get()
            assert attachment.status == Attachment.Status.ACCEPTED, attachment.reason
            assert attachment.content_type == "image/jpeg"
            assert gw.saw_credentials(host)

    def test_an_image_elsewhere_is_never_fetched(self, client, gw, settings, org):
        org.mms_enabled = True
        org.save()
        evil = MediaHost()
        try:
            url = evil.serve("/steal.jpg", JPEG, "image/jpeg")
            assert self.text(gw, media=((url, "image/jpeg"),)).post(client).status_code
            inbound_media.run_once()
            assert Attachment.objects.get().status == Attachment.Status.REJECTED
            assert evil.requests == []
        finally:
            evil.close()

    # -- sending and statuses --------------------------------------------------------

    def test_a_reply_goes_out_through_the_gateways_sdk(
        self, client, gw, settings, alice
    ):
        with gw.api(settings) as api:
            reply = self.lead_texts_and_alice_answers(client, gw, alice)
            outbox.run_once()
            reply.refresh_from_db()

            assert reply.status == Message.Status.SENT, reply.error_reason
            assert reply.carrier_message_id
            (sent,) = gw.sent_to(api)
            assert sent["to"] == LEAD_NUMBER
            assert sent["from"] == gw.number
            assert "We do! When suits you?" in sent["text"]

    def test_statuses_move_forward_only(self, client, gw, settings, alice):
        with gw.api(settings):
            reply = self.lead_texts_and_alice_answers(client, gw, alice)
            outbox.run_once()
            reply.refresh_from_db()
        sid = reply.carrier_message_id

        def report(status, **kw):
            request = gw.status(
                message_id=sid, reference=str(reply.id), status=status, **kw
            )
            response = request.post(client)
            assert response.status_code < 300, response.content
            reply.refresh_from_db()
            return reply.status

        assert report(gw.DELIVERED) == Message.Status.DELIVERED
        assert report(gw.SENT) == Message.Status.DELIVERED
        assert report(gw.QUEUED) == Message.Status.DELIVERED

    @pytest.mark.parametrize("kind", ["opted_out", "invalid_number"])
    def test_a_refused_send_says_why_and_reaches_the_console(
        self, client, gw, settings, alice, kind
    ):
        with gw.refusing(settings, kind) as api:
            reply = self.lead_texts_and_alice_answers(client, gw, alice)
            outbox.run_once()
            gw.settle(client, api, kind)
        reply.refresh_from_db()

        assert reply.status == Message.Status.FAILED
        assert reply.error_reason
        status_events = Event.objects.filter(type="message.status")
        assert status_events.filter(payload__status="failed").exists()
        consent = Consent.objects.get(number=LEAD_NUMBER).state
        if kind == "opted_out":
            assert consent == Consent.State.REVOKED
        else:
            assert consent == Consent.State.AUTHORIZED

    def test_the_adapter_is_registered_under_its_name(self, gw):
        assert get_adapter(gw.name).name == gw.name

"""The simulator: a fake phone network for `make run` and the tests.

It behaves like a carrier from the outside, and only from the outside:

* Texts sent to a lead land in that lead's simulated phone, and the network
  then reports their delivery by POSTing status callbacks to the URL the
  outbox gave it, exactly as Twilio does.
* A simulated phone texting the company (the ``/simulator/`` page) is POSTed
  to ``/carriers/simulator/inbound``, the webhook a real carrier calls.

So every simulated text goes through the same pipeline as a real one (verify,
parse, store, acknowledge), over real HTTP. The POSTs are signed with an HMAC
keyed by SECRET_KEY, and the webhook refuses anything unsigned: nobody outside
can inject texts through the simulator's webhooks in production.

The phones themselves, and the courier that posts their texts and the
network's delivery reports, are ``carriers.phone_network``.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import ClassVar

from django.conf import settings
from django.utils.crypto import constant_time_compare

from carriers.base import (
    Acknowledgement,
    BadRequest,
    CarrierAdapter,
    CarrierError,
    DeliveryStatus,
    ErrorKind,
    FetchedMedia,
    Forbidden,
    InboundMessage,
    MediaError,
    OutboundMessage,
    SendResult,
    StatusUpdate,
    WebhookRequest,
)
from carriers.media import too_large
from carriers.phone_network import (
    DEFAULT_MODE,
    MEDIA_ORIGIN,
    TO_PHONE,
    courier,
    fetch_for_phone,
    network,
    signature,
)
from carriers.replay import check_first_use

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-simulator-signature"
TIMESTAMP_HEADER = "x-simulator-timestamp"
NONCE_HEADER = "x-simulator-nonce"
# A signed request older than this is refused: a captured one cannot be
# replayed later.
MAX_AGE_SECONDS = 300


MAX_MEDIA = 10


class SimulatorAdapter(CarrierAdapter):
    """The carrier adapter of the simulated network."""

    name = "simulator"

    STATUSES: ClassVar[dict[str, DeliveryStatus]] = {
        "queued": DeliveryStatus.QUEUED,
        "sent": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "undelivered": DeliveryStatus.UNDELIVERED,
        "failed": DeliveryStatus.FAILED,
    }

    # The codes the network reports (Twilio's numbers, for familiarity).
    ERRORS: ClassVar[dict[str, tuple[ErrorKind, str]]] = {
        "21610": (ErrorKind.OPTED_OUT, "The recipient has opted out (replied STOP)."),
        "30003": (ErrorKind.PERMANENT, "The phone is switched off or out of coverage."),
        "30006": (
            ErrorKind.INVALID_NUMBER,
            "The number is a landline or its carrier cannot receive texts.",
        ),
        "21614": (
            ErrorKind.INVALID_NUMBER,
            "This number cannot receive texts (it may be a landline).",
        ),
    }

    # The status callbacks each mode makes: (seconds after the send, status,
    # error code).
    REPORTS: ClassVar[dict[str, tuple[tuple[float, str, str], ...]]] = {
        "deliver": ((0.2, "sent", ""), (0.6, "delivered", "")),
        "undelivered": ((0.2, "sent", ""), (0.6, "undelivered", "30003")),
        "fail": ((0.3, "failed", "30006"),),
    }

    # How long a phone in "timeout" mode keeps a send waiting for an answer.
    hold_seconds = 20.0

    # -- webhooks -----------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        given = request.headers.get(SIGNATURE_HEADER, "")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        nonce = request.headers.get(NONCE_HEADER, "")
        if not given or not timestamp or not nonce:
            raise Forbidden("no simulator signature")
        if (
            # isascii: str.isdigit() also takes digits int() refuses ('²'),
            # and int() refuses thousands of digits.
            not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 16)
            or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS
        ):
            raise Forbidden("simulator signature expired")
        if not constant_time_compare(
            given, signature(request.url, timestamp, request.body, nonce)
        ):
            raise Forbidden(f"simulator signature does not match {request.url}")
        check_first_use(self.name, nonce, MAX_AGE_SECONDS)

    def parse(
        self, kind: str, request: WebhookRequest
    ) -> list[InboundMessage | StatusUpdate]:
        message_id = request.identifier("MessageId")
        if kind == "inbound":
            return [
                InboundMessage(
                    carrier=self.name,
                    carrier_message_id=message_id,
                    from_number=request.number("From"),
                    to_number=request.number("To"),
                    body=request.value("Body"),
                    media=request.media(MAX_MEDIA),
                    raw=dict(request.form),
                )
            ]
        if kind == "status":
            name = request.required("Status").lower()
            status = self.STATUSES.get(name, DeliveryStatus.UNKNOWN)
            code = request.value("ErrorCode").strip()
            error = None
            if code:
                kind_, reason = self.ERRORS.get(
                    code, (ErrorKind.PERMANENT, f"Simulated error {code}.")
                )
                error = CarrierError(kind_, code, reason)
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)
            return [
                StatusUpdate(
                    carrier=self.name,
                    carrier_message_id=message_id,
                    status=status,
                    error=error,
                    reference=(query.get("ref") or [""])[0],
                    raw=dict(request.form),
                )
            ]
        raise BadRequest(f"unknown webhook {kind!r}")

    def acknowledgement(self, kind: str) -> Acknowledgement:
        return Acknowledgement(status=204)

    # -- media --------------------------------------------------------------

    def media_hosts(self) -> tuple[str, ...]:
        return (MEDIA_ORIGIN,)

    def fetch_media(self, url: str, max_bytes: int) -> FetchedMedia:
        """A picture a phone sent, read from the network's media store."""
        if not self.may_fetch_media(url):
            raise MediaError("Not fetched: not a picture on the simulated network.")
        found = network().media_file(url[len(MEDIA_ORIGIN) + 1 :])
        if found is None:
            raise MediaError("The simulated network no longer has the image.")
        path, content_type = found
        if path.stat().st_size > max_bytes:
            raise MediaError(too_large(path.stat().st_size, max_bytes))
        return FetchedMedia(content=path.read_bytes(), content_type=content_type)

    # -- sending ------------------------------------------------------------

    def send(self, message: OutboundMessage, status_callback: str) -> SendResult:
        net = network()
        mode = net.mode(message.to_number)
        if mode == "down":
            raise CarrierError(
                ErrorKind.RETRYABLE, "", "The simulated carrier cannot be reached."
            )
        refusal = {"opted_out": "21610", "invalid": "21614"}.get(mode)
        if refusal:
            kind, reason = self.ERRORS[refusal]
            raise CarrierError(kind, refusal, reason)
        media, problems = [], []
        for url in message.media_urls:
            try:
                media.append(fetch_for_phone(url, settings.MMS_MAX_BYTES))
            except MediaError as exc:
                # A real phone shows what it got; the text still arrives.
                problems.append(f"picture {exc.reason}")
        message_id = net.add_message(
            TO_PHONE,
            message.to_number,
            message.from_number,
            message.body,
            "received",
            media=media,
            media_problem="; ".join(problems),
        )
        if mode == "timeout":
            # The phone has the text, but the answer never comes back.
            time.sleep(self.hold_seconds)
            raise CarrierError(
                ErrorKind.UNCERTAIN,
                "",
                "The carrier did not answer in time: the text may have been sent. "
                "Check with the lead before sending it again.",
            )
        for delay, status, code in self.REPORTS.get(mode, self.REPORTS[DEFAULT_MODE]):
            self._report(net, status_callback, message_id, status, code, delay)
        return SendResult(carrier_message_id=message_id, status=DeliveryStatus.QUEUED)

    def _report(self, net, url, message_id, status, code, delay) -> None:
        def reported(http_status: int | None, text: str) -> None:
            net.set_status(message_id, status, f"error {code}" if code else "")

        fields = {"MessageId": message_id, "Status": status}
        if code:
            fields["ErrorCode"] = code
        courier.post(url, fields, delay, on_result=reported)

"""Telnyx: Messaging API v2 webhooks in, messages out, through the ``telnyx`` SDK.

Telnyx posts every messaging event as JSON (``message.received`` for a lead's
text, ``message.sent`` and ``message.finalized`` for ours), signed with the
account's Ed25519 key: ``telnyx-signature-ed25519`` (base64) over
``<telnyx-timestamp>|<raw body>``. ``verify`` checks it with the SDK's own
verifier (PyNaCl) against ``TELNYX_PUBLIC_KEY``, refuses a timestamp outside
five minutes and a signature seen before (``carriers.replay``), and nothing is
parsed first. Either webhook URL takes either kind of event: ``parse`` routes
by the event's own ``event_type``.

Sending goes through ``telnyx.Telnyx`` (``TELNYX_API_URL`` replaces
https://api.telnyx.com for a mock), with the SDK's own retries off: a send the
gateway may have taken is never repeated behind our back. Its answers and
failures are mapped to carrier-neutral results here, and nowhere else.

Settings are read on every use, so tests (and an admin who rotates a key)
need no restart.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx

# The SDK loads its resources lazily; a first send would wait 0.7 s for them.
import telnyx.resources.messages  # noqa: F401
from django.conf import settings
from telnyx import APIConnectionError, APIStatusError, Telnyx
from telnyx.lib.webhook_verification import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify_webhook_signature,
)

from carriers import telnyx_errors
from carriers.base import (
    MAX_ID_LENGTH,
    MAX_MEDIA_URL_LENGTH,
    Acknowledgement,
    BadRequest,
    CarrierAdapter,
    CarrierError,
    DeliveryStatus,
    ErrorKind,
    FetchedMedia,
    Forbidden,
    InboundMessage,
    InvalidNumber,
    MediaItem,
    OutboundMessage,
    SendResult,
    StatusUpdate,
    WebhookRequest,
    normalize_number,
    url_origin,
)
from carriers.media import fetch
from carriers.replay import check_first_use, check_timestamp

log = logging.getLogger(__name__)

TELNYX_API = "https://api.telnyx.com"
API_PATH = "/v2"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Where Telnyx's webhooks say a lead's media is (its docs' examples). The URLs
# are signed and short-lived: fetched with no credentials at all.
MEDIA_ORIGINS = ("https://media.telnyx.com",)
# Telnyx takes ten media URLs on an MMS; more is not a webhook Telnyx sent.
MAX_MEDIA = 10
INBOUND_EVENTS = frozenset({"message.received"})
STATUS_EVENTS = frozenset({"message.sent", "message.finalized", "message.read"})
# ``autoresponse_type`` of an inbound text: the keyword Telnyx answered itself
# (its auto-response ops are start, stop and info).
KEYWORDS = {"STOP": "STOP", "START": "START", "HELP": "HELP", "INFO": "HELP"}


class TelnyxAdapter(CarrierAdapter):
    """Telnyx Messaging (API v2)."""

    name = "telnyx"

    # ``to[].status`` in Telnyx's events and API answers.
    STATUSES: ClassVar[dict[str, DeliveryStatus]] = {
        "queued": DeliveryStatus.QUEUED,
        "sending": DeliveryStatus.SENDING,
        "sent": DeliveryStatus.SENT,
        # Final, but the lead's carrier sent no receipt: it left as sent.
        "delivery_unconfirmed": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "read": DeliveryStatus.DELIVERED,
        "delivery_failed": DeliveryStatus.UNDELIVERED,
        "expired": DeliveryStatus.UNDELIVERED,
        "sending_failed": DeliveryStatus.FAILED,
    }

    ERRORS: ClassVar = telnyx_errors.ERRORS

    HTTP_STATUS_ERRORS: ClassVar = telnyx_errors.HTTP_STATUS_ERRORS

    def __init__(self) -> None:
        self._clients: dict[tuple, Telnyx] = {}
        self._lock = threading.Lock()

    # -- webhooks -----------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        key = settings.TELNYX_PUBLIC_KEY
        if not key:
            raise Forbidden("TELNYX_PUBLIC_KEY is not set: no webhook can be checked")
        signature = request.header(SIGNATURE_HEADER)
        timestamp = request.header(TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise Forbidden("no telnyx-signature-ed25519 or telnyx-timestamp header")
        # Digits only: the window is checked on the very value that is signed.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 13):
            raise Forbidden(f"telnyx-timestamp is {timestamp[:20]!r}")
        check_timestamp(int(timestamp))
        try:
            # Strict base64: one signature has one spelling, so a replay with
            # junk added to the header is still recognised below.
            raw_signature = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise Forbidden("the signature is not base64") from None
        try:
            verify_webhook_signature(
                request.body,
                {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: timestamp},
                key,
            )
        except (WebhookVerificationError, UnicodeDecodeError) as exc:
            raise Forbidden(f"signature does not match: {exc}") from None
        check_first_use(self.name, raw_signature.hex())

    def parse(
        self, kind: str, request: WebhookRequest
    ) -> list[InboundMessage | StatusUpdate]:
        body = request.json()
        event = body.get("data") if isinstance(body, dict) else None
        if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
            raise BadRequest("not a Telnyx event (no data.payload)")
        event_type = event.get("event_type")
        event_type = event_type if isinstance(event_type, str) else ""
        if event_type in INBOUND_EVENTS:
            return [self.parse_inbound(event)]
        if event_type in STATUS_EVENTS:
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            return [self.parse_status(event, meta, request.url)]
        # Another product's event on this URL: acknowledged, nothing stored
        # (a 4xx would only make Telnyx try again).
        log.info("telnyx %r event ignored", event_type[:40])
        return []

    def parse_inbound(self, event: Mapping[str, Any]) -> InboundMessage:
        """A ``message.received`` event as an InboundMessage."""
        payload = event["payload"]
        sender = payload.get("from")
        recipients = payload.get("to")
        # SMS and MMS name recipients as a list of objects (WhatsApp: a string).
        recipient = (
            recipients[0] if isinstance(recipients, list) and recipients else recipients
        )
        if isinstance(recipient, dict):
            recipient = recipient.get("phone_number")
        keyword = _text(payload, "autoresponse_type").strip().upper()
        return InboundMessage(
            carrier=self.name,
            carrier_message_id=_identifier(payload),
            from_number=_number(
                sender.get("phone_number") if isinstance(sender, dict) else None,
                "from.phone_number",
            ),
            to_number=_number(recipient, "to[0].phone_number"),
            body=_text(payload, "text"),
            media=_media(payload.get("media")),
            carrier_keyword=KEYWORDS.get(keyword, ""),
            raw=dict(event),
        )

    def parse_status(
        self, event: Mapping[str, Any], meta: Mapping[str, Any], url: str
    ) -> StatusUpdate:
        """A ``message.sent`` / ``message.finalized`` event as a StatusUpdate."""
        payload = event["payload"]
        recipients = payload.get("to")
        recipient = recipients[0] if isinstance(recipients, list) and recipients else {}
        name = _text(recipient, "status") if isinstance(recipient, dict) else ""
        if not name and event.get("event_type") == "message.sent":
            name = "sent"
        name = name.strip().lower()
        status = self.STATUSES.get(name, DeliveryStatus.UNKNOWN)
        error = None
        if status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
            error = self.error_for(payload.get("errors"), name)
        return StatusUpdate(
            carrier=self.name,
            carrier_message_id=_identifier(payload),
            status=status,
            error=error,
            reference=_reference(
                payload.get("webhook_url"), meta.get("delivered_to"), url
            ),
            raw=dict(event),
        )

    def acknowledgement(self, kind: str) -> Acknowledgement:
        # Telnyx's description of these callbacks: "The server must return an
        # HTTP 200, otherwise we will reattempt delivery at the failover URL."
        return Acknowledgement(status=200)

    # -- media --------------------------------------------------------------

    def media_hosts(self) -> tuple[str, ...]:
        """Telnyx's media host (and the mock ``TELNYX_API_URL`` points at)."""
        hosts = list(MEDIA_ORIGINS)
        if settings.TELNYX_API_URL:
            hosts.append(url_origin(settings.TELNYX_API_URL))
        return tuple(hosts)

    def fetch_media(self, url: str, max_bytes: int) -> FetchedMedia:
        """Fetch a lead's attachment from Telnyx's media host only. Its URLs
        carry their own signature: no credentials go with them (the API key
        would be one more secret in flight, and a presigned host refuses a
        second authentication)."""
        return fetch(
            url,
            allowed=self.may_fetch_media,
            credentials=lambda _url: None,
            max_bytes=max_bytes,
            timeout=settings.MMS_FETCH_TIMEOUT,
        )

    # -- errors -------------------------------------------------------------

    @classmethod
    def error_for(cls, errors: Any, status: str = "") -> CarrierError:
        """Telnyx's ``errors`` list (of an event or an API answer) as a
        CarrierError: the first code we know, else the first error."""
        items = (
            [e for e in errors if isinstance(e, dict)]
            if isinstance(errors, list)
            else []
        )
        known = [e for e in items if str(e.get("code") or "") in cls.ERRORS]
        first = (known or items or [{}])[0]
        code = str(first.get("code") or "").strip()[:20]
        if code in cls.ERRORS:
            kind, reason = cls.ERRORS[code]
            return CarrierError(kind, code, reason)
        message = " ".join(str(first.get("detail") or first.get("title") or "").split())
        message = message[:200] + ("" if message.endswith(".") else ".")
        if message == ".":
            message = (
                "The lead's carrier could not deliver it."
                if status in ("delivery_failed", "expired")
                else "Telnyx could not send it."
            )
        reason = f"Telnyx: {message}" + (f" (error {code})" if code else "")
        return CarrierError(ErrorKind.PERMANENT, code, reason)

    @classmethod
    def error_from_exception(cls, exc: Exception) -> CarrierError:
        """Any failure of a send (an API answer or the network) as a CarrierError."""
        if isinstance(exc, APIConnectionError):
            return cls.network_error(exc)
        if not isinstance(exc, APIStatusError):
            return CarrierError(ErrorKind.UNCERTAIN, "", f"Unexpected error: {exc}")
        body = exc.body if isinstance(exc.body, dict) else {}
        error = cls.error_for(body.get("errors"))
        if error.code in cls.ERRORS:
            return error
        if exc.status_code in cls.HTTP_STATUS_ERRORS:
            kind, reason = cls.HTTP_STATUS_ERRORS[exc.status_code]
            return CarrierError(kind, error.code, reason)
        if exc.status_code >= 500:
            return CarrierError(
                ErrorKind.RETRYABLE,
                error.code,
                f"Telnyx answered HTTP {exc.status_code}: try again later.",
            )
        return error

    @staticmethod
    def network_error(exc: APIConnectionError) -> CarrierError:
        """A failure to talk to Telnyx: retry when nothing reached it."""
        cause = exc.__cause__
        # Refused, unresolvable, TLS failed, no connection to be had: the
        # request never left. A read or write cut short may have reached Telnyx.
        if isinstance(
            cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
        ):
            return CarrierError(
                ErrorKind.RETRYABLE, "", f"Telnyx could not be reached ({cause})."
            )
        return CarrierError(
            ErrorKind.UNCERTAIN,
            "",
            "Telnyx did not answer in time: the text may have been sent. "
            "Check with the lead before sending it again.",
        )

    # -- sending ------------------------------------------------------------

    def client(self) -> Telnyx:
        """An API client for the current settings (one per set of settings)."""
        key = settings.TELNYX_API_KEY
        if not key:
            raise CarrierError(
                ErrorKind.PERMANENT,
                "",
                "Telnyx is not configured: an admin must set TELNYX_API_KEY.",
            )
        api_url = (settings.TELNYX_API_URL or TELNYX_API).rstrip("/")
        base_url = api_url if api_url.endswith(API_PATH) else api_url + API_PATH
        cache_key = (key, base_url, settings.CARRIER_TIMEOUT)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = Telnyx(
                    api_key=key,
                    # '' rather than None: TELNYX_CLIENT_ID/SECRET in the
                    # environment would switch the SDK to OAuth.
                    client_id="",
                    client_secret="",
                    base_url=base_url,
                    timeout=settings.CARRIER_TIMEOUT,
                    # The SDK retries timeouts by default: a text twice.
                    max_retries=0,
                )
                self._clients = {cache_key: client}
            return client

    def send(self, message: OutboundMessage, status_callback: str) -> SendResult:
        client = self.client()
        if urlsplit(status_callback).hostname in LOOPBACK_HOSTS:
            log.warning(
                "PUBLIC_BASE_URL is not set: Telnyx cannot reach %s, so no "
                "delivery status will come back",
                status_callback,
            )
        options: dict[str, Any] = {
            "to": message.to_number,
            "from_": message.from_number,
            # Receipts to this message's own URL (its ?ref= is our id), not
            # also to the messaging profile's.
            "webhook_url": status_callback,
            "use_profile_webhooks": False,
        }
        if message.body:
            options["text"] = message.body
        if message.media_urls:
            options["media_urls"] = list(message.media_urls)
        try:
            answer = client.messages.send(**options)
        except Exception as exc:  # every failure is mapped, none escapes raw
            raise self.error_from_exception(exc) from exc
        data = answer.data
        if data is None or not data.id:
            raise CarrierError(
                ErrorKind.UNCERTAIN, "", "Telnyx accepted the text without an id."
            )
        name = str((data.to[0].status if data.to else "") or "")
        return SendResult(
            carrier_message_id=data.id,
            status=self.STATUSES.get(name, DeliveryStatus.QUEUED),
            raw={"id": data.id, "status": name},
        )


# -- fields of an event --------------------------------------------------------


def _text(mapping: Mapping[str, Any], name: str) -> str:
    """A string field ('' when absent or null), or BadRequest."""
    value = mapping.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} is not a string")
    if "\x00" in value:
        # No carrier sends one, and no database text column can hold it.
        raise BadRequest(f"{name} holds a NUL character")
    return value


def _identifier(payload: Mapping[str, Any]) -> str:
    """The message's id (``data.payload.id``): required, and not too long."""
    value = _text(payload, "id").strip()
    if not value:
        raise BadRequest("no data.payload.id")
    if len(value) > MAX_ID_LENGTH:
        raise BadRequest(f"data.payload.id is longer than {MAX_ID_LENGTH} characters")
    return value


def _number(value: Any, name: str) -> str:
    """A phone number field in E.164, or BadRequest naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"no {name}")
    try:
        return normalize_number(value.strip())
    except InvalidNumber as exc:
        raise BadRequest(f"{name}: {exc}") from None


def _media(items: Any) -> tuple[MediaItem, ...]:
    """``media[]`` (``url``, ``content_type``) of an inbound MMS, or BadRequest."""
    if items is None:
        return ()
    if not isinstance(items, list) or len(items) > MAX_MEDIA:
        raise BadRequest(f"media is not a list of at most {MAX_MEDIA} items")
    media = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"media[{index}] is not an object")
        url = _text(item, "url").strip()
        if not url or len(url) > MAX_MEDIA_URL_LENGTH:
            raise BadRequest(f"media[{index}].url is missing or too long")
        kind = _text(item, "content_type").strip()[:100]
        media.append(MediaItem(url=url, content_type=kind))
    return tuple(media)


def _reference(*urls: Any) -> str:
    """Our id (``ref``) from the first of ``urls`` that has one.

    The event's own ``webhook_url`` and ``meta.delivered_to`` come first: they
    are inside the signed body, while the URL called is not signed at all.
    """
    for url in urls:
        if isinstance(url, str) and url:
            try:
                ref = parse_qs(urlsplit(url).query).get("ref")
            except ValueError:
                continue
            if ref:
                return ref[0]
    return ""

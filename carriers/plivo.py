"""Plivo: its webhooks in, its Message API out, through the official ``plivo`` SDK.

Plivo posts form fields, signed with the account's auth token: the
``X-Plivo-Signature-V3`` header is an HMAC-SHA256 of the URL it called (query
included), the sorted POST fields and the ``X-Plivo-Signature-V3-Nonce``
header, checked here with the SDK's own ``validate_v3_signature``. V3 carries
no timestamp, so an old request cannot be told from a new one; a nonce seen
before is refused for ``NONCE_WINDOW`` (carriers/replay.py). Sending goes
through ``plivo.RestClient``; its answers and failures are mapped to
carrier-neutral results here, and nowhere else.

Credentials are read from settings on every use, so tests (and an admin who
rotates the token) need no restart of anything.
"""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from plivo import RestClient
from plivo.exceptions import GeoPermissionError, PlivoRestError
from plivo.utils.signature_v3 import validate_v3_signature
from requests.adapters import HTTPAdapter

from carriers import http
from carriers.base import (
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
from carriers.replay import check_first_use

PLIVO_API = "https://api.plivo.com"
# Where Plivo's webhooks and API name media: the Message API's media, and
# the media host its answers point to.
PLIVO_MEDIA = "https://media.plivo.com"
SIGNATURE_HEADER = "x-plivo-signature-v3"
NONCE_HEADER = "x-plivo-signature-v3-nonce"
# How long a nonce is remembered. Plivo retries a webhook at most 7 minutes
# after the first try; a replay after the window passes the signature check
# but changes nothing (texts are unique per MessageUUID, statuses only move
# forward).
NONCE_WINDOW = 60 * 60
# Plivo takes ten attachments on an MMS; more is not a request Plivo sent.
MAX_MEDIA = 10
MEDIA_FIELD = re.compile(r"^Media(0|[1-9][0-9]?)$")
# Plivo expects Plivo XML from a message_url; an empty Response sends nothing.
EMPTY_XML = b'<?xml version="1.0" encoding="utf-8"?><Response></Response>'
# Plivo's MessageIntent: the keyword it acted on (it answers STOP and HELP on
# US and Canadian long codes and toll-free numbers itself).
INTENTS = {"optout": "STOP", "optin": "START", "help": "HELP"}
NOT_A_NUMBER = "This is not a valid phone number."
# How Plivo words a destination it refuses outright (HTTP 400).
INVALID_DST = re.compile(
    r"not a valid phone number|invalid (phone )?numbers?|invalid '?dst'?", re.I
)


class Transport(HTTPAdapter):
    """The SDK's HTTP transport, sending to ``PLIVO_API_URL`` when it is set,
    and keeping each thread's last HTTP status: the SDK's exceptions keep
    only Plivo's words, and some errors (429) only the status tells apart."""

    def __init__(self, api_url: str = ""):
        super().__init__()
        self.api_url = api_url.rstrip("/")
        self._last = threading.local()

    def send(self, request, *args: Any, **kwargs: Any):
        if self.api_url and request.url.startswith(PLIVO_API + "/"):
            request.url = self.api_url + request.url[len(PLIVO_API) :]
        response = super().send(request, *args, **kwargs)
        self._last.status = response.status_code
        return response

    def forget(self) -> None:
        self._last.status = None

    def last_status(self) -> int | None:
        """The status of this thread's last answer (None: no answer came)."""
        return getattr(self._last, "status", None)


def _number(request: WebhookRequest, name: str) -> str:
    """A number field in E.164. Plivo sends international digits without
    the plus (``14155550123``)."""
    value = request.required(name)
    if value.isascii() and value.isdigit():
        value = "+" + value
    try:
        return normalize_number(value)
    except InvalidNumber as exc:
        raise BadRequest(f"{name}: {exc}") from None


def _media(request: WebhookRequest) -> tuple[MediaItem, ...]:
    """An MMS's ``MediaN`` URLs. Plivo's reference numbers them from 1, its
    MMS guide from 0: both are read, and must add up to ``MediaCount``."""
    indexes = sorted(
        int(match.group(1)) for match in map(MEDIA_FIELD.match, request.form) if match
    )
    count = request.value("MediaCount").strip()
    if count and not (count.isascii() and count.isdigit() and len(count) < 3):
        raise BadRequest(f"MediaCount is {count[:20]!r}: expected 0 to {MAX_MEDIA}")
    if len(indexes) > MAX_MEDIA or (count and int(count) != len(indexes)):
        raise BadRequest(f"MediaCount is {count!r} with {len(indexes)} Media fields")
    items = []
    for index in indexes:
        url = request.required(f"Media{index}")
        if len(url) > MAX_MEDIA_URL_LENGTH:
            raise BadRequest(f"Media{index} is too long")
        # Plivo names no type per attachment: the media host's answer does.
        items.append(MediaItem(url=url, content_type=""))
    return tuple(items)


class PlivoAdapter(CarrierAdapter):
    """Plivo Messaging (SMS and MMS)."""

    name = "plivo"

    # Plivo's Status values in status callbacks ("rejected" in its older
    # reference, "read" for WhatsApp).
    STATUSES: ClassVar[dict[str, DeliveryStatus]] = {
        "queued": DeliveryStatus.QUEUED,
        "sent": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "read": DeliveryStatus.DELIVERED,
        "undelivered": DeliveryStatus.UNDELIVERED,
        "failed": DeliveryStatus.FAILED,
        "rejected": DeliveryStatus.FAILED,
    }

    # Plivo's SMS error codes, reported in status callbacks (its API refuses
    # a send with words, not codes): how the domain treats each and what the
    # agent is told. Codes not listed are permanent.
    ERRORS: ClassVar[dict[str, tuple[ErrorKind, str]]] = {
        "10": (ErrorKind.PERMANENT, "The lead's carrier rejected it as invalid."),
        "20": (ErrorKind.RETRYABLE, "A carrier network failed: send it again later."),
        "30": (ErrorKind.PERMANENT, "The lead's carrier filtered it as spam."),
        "40": (
            ErrorKind.PERMANENT,
            "Our sender number cannot text on this Plivo account: an admin must "
            "check the number in Plivo.",
        ),
        "50": (ErrorKind.INVALID_NUMBER, "This number cannot receive texts."),
        "60": (ErrorKind.PERMANENT, "A loop of automatic replies: dropped."),
        "70": (ErrorKind.INVALID_NUMBER, "The number is no longer in service."),
        "80": (ErrorKind.RETRYABLE, "The phone is off or out of coverage."),
        "90": (ErrorKind.PERMANENT, "No carrier route reaches this number."),
        "100": (ErrorKind.PERMANENT, "The lead's carrier refused the text."),
        "110": (ErrorKind.PERMANENT, "The message is too long to send."),
        "200": (ErrorKind.OPTED_OUT, "The recipient has opted out (replied STOP)."),
        "201": (ErrorKind.PERMANENT, "US toll-free numbers cannot text Canada."),
        "450": (
            ErrorKind.PERMANENT,
            "Texting this country is not enabled on the Plivo account: an admin "
            "must enable it in Plivo's Geo Permissions.",
        ),
        "900": (ErrorKind.PERMANENT, "The Plivo account is out of credit."),
        "1000": (ErrorKind.PERMANENT, "Plivo's carriers could not say why it failed."),
    }

    def __init__(self) -> None:
        self._clients: dict[tuple, tuple[RestClient, Transport]] = {}
        self._lock = threading.Lock()

    # -- webhooks -----------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        token = settings.PLIVO_AUTH_TOKEN
        if not token:
            raise Forbidden("PLIVO_AUTH_TOKEN is not set: no webhook can be checked")
        signature = request.header(SIGNATURE_HEADER)
        nonce = request.header(NONCE_HEADER)
        if not signature or not nonce:
            raise Forbidden("no X-Plivo-Signature-V3 or its nonce")
        params = {name: list(values) for name, values in request.form.items()}
        try:
            valid = validate_v3_signature(
                request.method.upper(), request.url, nonce, token, signature, params
            )
        except (PlivoRestError, ValueError, TypeError) as exc:
            raise Forbidden(f"signature not checkable ({type(exc).__name__})") from None
        if not valid:
            raise Forbidden(f"signature does not match {request.url}")
        # After the signature: a forged request cannot use up a real nonce.
        check_first_use(self.name, nonce, NONCE_WINDOW)

    def parse(
        self, kind: str, request: WebhookRequest
    ) -> list[InboundMessage | StatusUpdate]:
        if kind == "inbound":
            return [self.parse_inbound(request)]
        if kind == "status":
            return [self.parse_status(request)]
        raise BadRequest(f"unknown webhook {kind!r}")

    def parse_inbound(self, request: WebhookRequest) -> InboundMessage:
        """An incoming SMS/MMS (the application's message_url) as an InboundMessage."""
        uuid = request.identifier("MessageUUID")
        return InboundMessage(
            carrier=self.name,
            carrier_message_id=uuid,
            from_number=_number(request, "From"),
            to_number=_number(request, "To"),
            # An SMS's words are in Text, an MMS's in Body.
            body=request.value("Text") or request.value("Body"),
            media=_media(request),
            carrier_keyword=INTENTS.get(request.value("MessageIntent").strip(), ""),
            raw=dict(request.form),
        )

    def parse_status(self, request: WebhookRequest) -> StatusUpdate:
        """A status callback (the ``url`` of a send) as a StatusUpdate."""
        uuid = request.identifier("MessageUUID")
        name = request.required("Status").strip().lower()
        status = self.STATUSES.get(name, DeliveryStatus.UNKNOWN)
        error = None
        if status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
            error = self.error_for(request.value("ErrorCode"), name)
        query = parse_qs(urlsplit(request.url).query)
        return StatusUpdate(
            carrier=self.name,
            carrier_message_id=uuid,
            status=status,
            error=error,
            reference=(query.get("ref") or [""])[0],
            raw=dict(request.form),
        )

    def acknowledgement(self, kind: str) -> Acknowledgement:
        if kind == "inbound":
            return Acknowledgement(body=EMPTY_XML, content_type="application/xml")
        # Plivo retries anything but a 2xx; 200 is what its guides answer.
        return Acknowledgement()

    # -- media --------------------------------------------------------------

    def media_hosts(self) -> tuple[str, ...]:
        """Plivo's API and media host (and the mock ``PLIVO_API_URL`` points
        at, if any): where Plivo's webhooks say a lead's media is."""
        hosts = [PLIVO_API, PLIVO_MEDIA]
        if settings.PLIVO_API_URL:
            hosts.append(url_origin(settings.PLIVO_API_URL))
        return tuple(hosts)

    def may_fetch_media(self, url: str) -> bool:
        """Our own account's media on Plivo's hosts, nothing else."""
        auth_id = settings.PLIVO_AUTH_ID
        return bool(auth_id) and self.is_own_media(
            url, f"/v1/Account/{auth_id}/", f"/Account/{auth_id}/"
        )

    def fetch_media(self, url: str, max_bytes: int) -> FetchedMedia:
        """Fetch a lead's attachment with the account's Auth ID and token
        (HTTP basic auth, as every Plivo API call); only from Plivo's hosts."""
        credentials = (settings.PLIVO_AUTH_ID, settings.PLIVO_AUTH_TOKEN)
        return fetch(
            url,
            allowed=self.may_fetch_media,
            credentials=lambda u: credentials if self.may_fetch_media(u) else None,
            max_bytes=max_bytes,
            timeout=settings.MMS_FETCH_TIMEOUT,
        )

    # -- errors -------------------------------------------------------------

    @classmethod
    def error_for(cls, code: str | int | None, status: str = "") -> CarrierError:
        """A Plivo error code from a status callback as a CarrierError."""
        code = str(code or "").strip()
        if code in cls.ERRORS:
            kind, reason = cls.ERRORS[code]
            return CarrierError(kind, code, reason)
        reason = (
            "The lead's carrier could not deliver it"
            if status == "undelivered"
            else "Plivo could not send it"
        )
        return CarrierError(
            ErrorKind.PERMANENT, code, reason + (f" (error {code})." if code else ".")
        )

    @classmethod
    def error_from_exception(cls, exc: Exception, status: int | None) -> CarrierError:
        """A failed send as a CarrierError: ``status`` is the HTTP status of
        Plivo's answer, None when none came."""
        if not isinstance(exc, PlivoRestError):
            return cls.network_error(exc)
        words = str(exc).strip() or type(exc).__name__
        code = f"HTTP {status}" if status else ""
        if status is None:
            # The SDK refused the call itself: nothing was sent.
            return CarrierError(ErrorKind.PERMANENT, "", f"Plivo's SDK: {words}")
        if status == 400 and INVALID_DST.search(words):
            return CarrierError(ErrorKind.INVALID_NUMBER, code, NOT_A_NUMBER)
        if status == 400 and "insufficient credit" in words.lower():
            return cls.error_for("900")
        if status == 401:
            return CarrierError(
                ErrorKind.PERMANENT,
                code,
                "Plivo refused our credentials: an admin must check PLIVO_AUTH_ID "
                "and PLIVO_AUTH_TOKEN.",
            )
        if isinstance(exc, GeoPermissionError):
            return cls.error_for("450")
        if status == 429 or status >= 500:
            return CarrierError(ErrorKind.RETRYABLE, code, f"Plivo is busy ({code}).")
        return CarrierError(ErrorKind.PERMANENT, code, f"Plivo: {words}")

    @staticmethod
    def network_error(exc: Exception) -> CarrierError:
        """A failure to talk to Plivo (``carriers.http``)."""
        return http.network_error("Plivo", exc)

    # -- sending ------------------------------------------------------------

    def client(self) -> tuple[RestClient, Transport]:
        """A REST client for the current settings (one per set of settings)."""
        auth_id, token = settings.PLIVO_AUTH_ID, settings.PLIVO_AUTH_TOKEN
        key = (auth_id, token, settings.PLIVO_API_URL, settings.CARRIER_TIMEOUT)
        with self._lock:
            if key not in self._clients:
                try:
                    client = RestClient(auth_id, token, timeout=key[3])
                except PlivoRestError as exc:  # no or malformed Auth ID
                    raise CarrierError(
                        ErrorKind.PERMANENT,
                        "",
                        f"Plivo is not configured ({exc}): an admin must set "
                        "PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN.",
                    ) from None
                # The SDK always calls https://api.plivo.com: its session's
                # transport for that origin is where tests redirect it.
                transport = Transport(settings.PLIVO_API_URL)
                client.session.mount(PLIVO_API + "/", transport)
                self._clients = {key: (client, transport)}
            return self._clients[key]

    def send(self, message: OutboundMessage, status_callback: str) -> SendResult:
        client, transport = self.client()
        options: dict[str, Any] = {
            "src": message.from_number,
            "dst": message.to_number,
            "text": message.body,
            # Plivo posts this message's statuses here: ?ref= carries our id.
            "url": status_callback,
            "method": "POST",
        }
        if message.media_urls:
            options["type_"] = "mms"
            options["media_urls"] = list(message.media_urls)
        transport.forget()
        try:
            created = client.messages.create(**options)
        except Exception as exc:  # every failure is mapped, none escapes raw
            raise self.error_from_exception(exc, transport.last_status()) from exc
        uuids = getattr(created, "message_uuid", None) or []
        if not uuids:
            # Plivo lists destinations it refused beside those it queued.
            if getattr(created, "invalid_number", None):
                raise CarrierError(ErrorKind.INVALID_NUMBER, "", NOT_A_NUMBER)
            raise CarrierError(
                ErrorKind.UNCERTAIN, "", "Plivo accepted the text without an id."
            )
        uuid = str(uuids[0])
        api_id = str(getattr(created, "api_id", ""))
        raw = {"message_uuid": uuid, "api_id": api_id}
        return SendResult(uuid, DeliveryStatus.QUEUED, raw)

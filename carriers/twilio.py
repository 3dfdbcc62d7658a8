"""Twilio: its webhooks in, its REST API out, through the official ``twilio`` SDK.

Webhooks are signed by Twilio with the account's auth token (the
``X-Twilio-Signature`` header, HMAC-SHA1 over the public URL and the POST
fields) and checked with the SDK's own ``RequestValidator``; nothing can switch
the check off. Sending goes through ``twilio.rest.Client``; its answers and
failures are mapped to carrier-neutral results here, and nowhere else.

Credentials are read from settings on every use, so tests (and an admin who
rotates the token) need no restart of anything.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from carriers import http
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
    OutboundMessage,
    SendResult,
    StatusUpdate,
    WebhookRequest,
    url_origin,
)
from carriers.media import fetch

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
SIGNATURE_HEADER = "x-twilio-signature"
# Twilio allows ten attachments on an MMS; more is not a request Twilio sent.
MAX_MEDIA = 10
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Where Twilio redirects a media URL to (its CDN: mms.twiliocdn.com for
# accounts that enforce HTTP auth on media, S3 for older public media). Only
# these are followed, and they get no credentials.
MEDIA_CDN_ORIGINS = ("https://mms.twiliocdn.com", "https://media.twiliocdn.com")
MEDIA_S3 = ("https://s3-external-1.amazonaws.com", "/media.twiliocdn.com/")


class RedirectingHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending to ``TWILIO_API_URL`` when it is set.

    The SDK always calls https://api.twilio.com; tests and the load harness
    point it at a mock of Twilio's API instead.
    """

    def __init__(self, api_url: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):
        if self.api_url and url.startswith(TWILIO_API):
            url = self.api_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


class _Params(dict):
    """POST fields with every value of a repeated field, as the SDK reads them."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


class TwilioAdapter(CarrierAdapter):
    """Twilio Programmable Messaging."""

    name = "twilio"

    # Twilio's MessageStatus values, in its status callbacks and API answers.
    STATUSES: ClassVar[dict[str, DeliveryStatus]] = {
        "accepted": DeliveryStatus.QUEUED,
        "scheduled": DeliveryStatus.QUEUED,
        "queued": DeliveryStatus.QUEUED,
        "sending": DeliveryStatus.SENDING,
        "sent": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "read": DeliveryStatus.DELIVERED,
        "undelivered": DeliveryStatus.UNDELIVERED,
        "failed": DeliveryStatus.FAILED,
        "canceled": DeliveryStatus.FAILED,
    }

    # Twilio error codes (https://www.twilio.com/docs/api/errors): how the
    # domain treats each and what the agent is told. Codes not listed are
    # permanent, with Twilio's own message.
    ERRORS: ClassVar[dict[str, tuple[ErrorKind, str]]] = {
        # Refused by the API when sending.
        "21610": (ErrorKind.OPTED_OUT, "The recipient has opted out (replied STOP)."),
        "21211": (ErrorKind.INVALID_NUMBER, "This is not a valid phone number."),
        "21214": (ErrorKind.INVALID_NUMBER, "This number cannot be reached."),
        "21217": (ErrorKind.INVALID_NUMBER, "This is not a valid phone number."),
        "21401": (ErrorKind.INVALID_NUMBER, "This is not a valid phone number."),
        "21407": (
            ErrorKind.INVALID_NUMBER,
            "Texts to this country or number type are not supported.",
        ),
        "21408": (
            ErrorKind.PERMANENT,
            "Texting this region is not enabled on the Twilio account: "
            "an admin must enable it in Twilio's geo permissions.",
        ),
        "21612": (
            ErrorKind.INVALID_NUMBER,
            "This number cannot be reached by text from our number.",
        ),
        "21614": (
            ErrorKind.INVALID_NUMBER,
            "This number cannot receive texts (it may be a landline).",
        ),
        "21606": (
            ErrorKind.PERMANENT,
            "Our sender number cannot send texts on this Twilio account: "
            "an admin must check the number in Twilio.",
        ),
        "21608": (
            ErrorKind.PERMANENT,
            "The Twilio trial account can only text verified numbers.",
        ),
        "21602": (ErrorKind.PERMANENT, "The message was empty."),
        "21617": (ErrorKind.PERMANENT, "The message is too long to send."),
        "21266": (ErrorKind.PERMANENT, "A number cannot text itself."),
        "20003": (
            ErrorKind.PERMANENT,
            "Twilio refused our credentials: an admin must check "
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
        ),
        "20404": (
            ErrorKind.PERMANENT,
            "Twilio does not know our account: an admin must check TWILIO_ACCOUNT_SID.",
        ),
        "20429": (ErrorKind.RETRYABLE, "Twilio is busy (too many requests)."),
        "14107": (ErrorKind.RETRYABLE, "Twilio's sending rate limit was reached."),
        "20500": (ErrorKind.RETRYABLE, "Twilio had an internal error."),
        "20503": (ErrorKind.RETRYABLE, "Twilio is temporarily unavailable."),
        # Reported by status callbacks after Twilio accepted the message.
        "30001": (ErrorKind.PERMANENT, "Twilio's queue overflowed: send it again."),
        "30002": (ErrorKind.PERMANENT, "The Twilio account is suspended."),
        "30003": (
            ErrorKind.PERMANENT,
            "The phone is switched off or out of coverage.",
        ),
        "30004": (
            ErrorKind.PERMANENT,
            "The message was blocked (the lead may have blocked our number).",
        ),
        "30005": (
            ErrorKind.INVALID_NUMBER,
            "The number does not exist or is no longer in service.",
        ),
        "30006": (
            ErrorKind.INVALID_NUMBER,
            "The number is a landline or its carrier cannot receive texts.",
        ),
        "30007": (ErrorKind.PERMANENT, "The lead's carrier filtered it as spam."),
        "30008": (ErrorKind.PERMANENT, "The lead's carrier reported an unknown error."),
        "30034": (
            ErrorKind.PERMANENT,
            "Our number is not registered for A2P 10DLC texting: an admin must "
            "register it in Twilio.",
        ),
    }

    HTTP_STATUS_ERRORS: ClassVar[dict[int, tuple[ErrorKind, str]]] = {
        401: ERRORS["20003"],
        429: ERRORS["20429"],
    }

    def __init__(self) -> None:
        self._clients: dict[tuple, Client] = {}
        self._lock = threading.Lock()

    # -- webhooks -----------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        token = settings.TWILIO_AUTH_TOKEN
        if not token:
            raise Forbidden("TWILIO_AUTH_TOKEN is not set: no webhook can be checked")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            raise Forbidden("no X-Twilio-Signature header")
        params = _Params({name: list(values) for name, values in request.form.items()})
        if not RequestValidator(token).validate(request.url, params, signature):
            raise Forbidden(f"signature does not match {request.url}")

    def parse(
        self, kind: str, request: WebhookRequest
    ) -> list[InboundMessage | StatusUpdate]:
        if kind == "inbound":
            return [self.parse_inbound(request)]
        if kind == "status":
            return [self.parse_status(request)]
        raise BadRequest(f"unknown webhook {kind!r}")

    def parse_inbound(self, request: WebhookRequest) -> InboundMessage:
        """An incoming SMS/MMS webhook as an InboundMessage."""
        sid = request.identifier("MessageSid")
        return InboundMessage(
            carrier=self.name,
            carrier_message_id=sid,
            from_number=request.number("From"),
            to_number=request.number("To"),
            body=request.value("Body"),
            media=request.media(MAX_MEDIA),
            carrier_keyword=request.value("OptOutType").strip().upper(),
            raw=dict(request.form),
        )

    def parse_status(self, request: WebhookRequest) -> StatusUpdate:
        """A status callback as a StatusUpdate."""
        sid = request.identifier("MessageSid")
        name = request.required("MessageStatus").strip().lower()
        status = self.STATUSES.get(name, DeliveryStatus.UNKNOWN)
        error = None
        code = request.value("ErrorCode").strip()
        if status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
            error = self.error_for(code, request.value("ErrorMessage"), name)
        query = parse_qs(urlsplit(request.url).query)
        return StatusUpdate(
            carrier=self.name,
            carrier_message_id=sid,
            status=status,
            error=error,
            reference=(query.get("ref") or [""])[0],
            raw=dict(request.form),
        )

    def acknowledgement(self, kind: str) -> Acknowledgement:
        if kind == "inbound":
            # Empty TwiML: we answer nothing automatically from the webhook.
            return Acknowledgement(body=EMPTY_TWIML, content_type="text/xml")
        return Acknowledgement(status=204)

    # -- media --------------------------------------------------------------

    def media_hosts(self) -> tuple[str, ...]:
        """Twilio's API (and the mock ``TWILIO_API_URL`` points at, if any):
        where Twilio's webhooks say a lead's media is."""
        hosts = [url_origin(TWILIO_API)]
        if settings.TWILIO_API_URL:
            hosts.append(url_origin(settings.TWILIO_API_URL))
        return tuple(hosts)

    def may_fetch_media(self, url: str) -> bool:
        """Our own account's media on Twilio's API, nothing else."""
        sid = settings.TWILIO_ACCOUNT_SID
        return bool(sid) and self.is_own_media(url, f"/2010-04-01/Accounts/{sid}/")

    def _may_follow(self, url: str) -> bool:
        """A URL the media fetch may reach: our media on the API, or
        Twilio's CDN that the API redirects to."""
        origin = url_origin(url)
        if origin in MEDIA_CDN_ORIGINS:
            return True
        if origin == MEDIA_S3[0]:
            return _path(url).startswith(MEDIA_S3[1])
        return self.may_fetch_media(url)

    def fetch_media(self, url: str, max_bytes: int) -> FetchedMedia:
        """Fetch a lead's attachment with the account's SID and token (Twilio
        enforces HTTP basic auth on media); only from Twilio's own hosts."""
        credentials = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        return fetch(
            url,
            allowed=self._may_follow,
            # The API gets the credentials; the CDN it redirects to, none.
            credentials=lambda u: credentials if self.may_fetch_media(u) else None,
            max_bytes=max_bytes,
            timeout=settings.MMS_FETCH_TIMEOUT,
        )

    # -- errors -------------------------------------------------------------

    @classmethod
    def error_for(
        cls, code: str | int | None, message: str = "", status: str = ""
    ) -> CarrierError:
        """A Twilio error code (and Twilio's message) as a CarrierError."""
        code = str(code or "").strip()
        if code in cls.ERRORS:
            kind, reason = cls.ERRORS[code]
            return CarrierError(kind, code, reason)
        message = (message or "").strip()
        if not message:
            message = (
                "The lead's carrier could not deliver it."
                if status == "undelivered"
                else "Twilio could not send it."
            )
        elif not message.endswith("."):
            message += "."
        reason = f"Twilio: {message}" + (f" (error {code})" if code else "")
        return CarrierError(ErrorKind.PERMANENT, code, reason)

    @classmethod
    def error_from_exception(cls, exc: Exception) -> CarrierError:
        """Any failure of a send (an API answer or the network) as a CarrierError."""
        if isinstance(exc, TwilioServiceException):
            status, code, message = exc.status, exc.code, exc.detail or exc.title
        elif isinstance(exc, TwilioRestException):
            status, code = exc.status, exc.code
            # The SDK prefixes Twilio's own message with its own words.
            message = str(exc.msg or "").split("Unable to create record: ", 1)[-1]
        else:
            return cls.network_error(exc)
        code = str(code or "")
        if code in cls.ERRORS:
            return cls.error_for(code)
        if status in cls.HTTP_STATUS_ERRORS:
            kind, reason = cls.HTTP_STATUS_ERRORS[status]
            return CarrierError(kind, code, reason)
        if isinstance(status, int) and status >= 500:
            return CarrierError(
                ErrorKind.RETRYABLE, code, f"Twilio answered HTTP {status}: {message}"
            )
        # A 4xx Twilio gives the HTTP status as the code when it has none.
        return cls.error_for("" if code == str(status) else code, message)

    @staticmethod
    def network_error(exc: Exception) -> CarrierError:
        """A failure to talk to Twilio (``carriers.http``)."""
        return http.network_error("Twilio", exc)

    # -- sending ------------------------------------------------------------

    def client(self) -> Client:
        """A REST client for the current settings (one per set of settings)."""
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not sid or not token:
            raise CarrierError(
                ErrorKind.PERMANENT,
                "",
                "Twilio is not configured: an admin must set TWILIO_ACCOUNT_SID "
                "and TWILIO_AUTH_TOKEN.",
            )
        key = (sid, token, settings.TWILIO_API_URL, settings.TWILIO_TIMEOUT)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                http_client = RedirectingHttpClient(
                    settings.TWILIO_API_URL, timeout=settings.TWILIO_TIMEOUT
                )
                client = Client(sid, token, http_client=http_client)
                self._clients = {key: client}
            return client

    def send(self, message: OutboundMessage, status_callback: str) -> SendResult:
        client = self.client()
        if urlsplit(status_callback).hostname in LOOPBACK_HOSTS:
            log.warning(
                "PUBLIC_BASE_URL is not set: Twilio cannot reach %s, so no "
                "delivery status will come back",
                status_callback,
            )
        options: dict[str, Any] = {
            "to": message.to_number,
            "from_": message.from_number,
            "body": message.body,
            "status_callback": status_callback,
        }
        if message.media_urls:
            options["media_url"] = list(message.media_urls)
        try:
            created = client.messages.create(**options)
        except Exception as exc:  # every failure is mapped, none escapes raw
            raise self.error_from_exception(exc) from exc
        if not created.sid:
            raise CarrierError(
                ErrorKind.UNCERTAIN, "", "Twilio accepted the text without an id."
            )
        return SendResult(
            carrier_message_id=created.sid,
            status=self.STATUSES.get(str(created.status or ""), DeliveryStatus.QUEUED),
            raw={"sid": created.sid, "status": str(created.status or "")},
        )

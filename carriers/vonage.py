"""Vonage: Messages API v1 webhooks in, its Messages API out, through the
official ``vonage`` SDK (v4).

Inbound and status webhooks are JSON, each with a JWT in ``Authorization:
Bearer`` signed HS256 with the account's signature secret; its ``payload_hash``
claim is the SHA-256 of the raw body, ``iat`` when it was signed and ``jti`` a
unique id. Sending uses the SDK's Messages client with application-id and
private-key JWT auth. Vonage's status names and error codes are mapped here to
carrier-neutral results, and nowhere else. docs/carriers.md has the details.

Only the SDK's HTTP client and Messages packages are imported (``vonage``
itself loads every Vonage API, twice as slow to import).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from vonage_http_client import Auth, HttpClient, HttpClientOptions
from vonage_messages import Messages, MmsContent, MmsImage, MmsResource, Sms
from vonage_messages.models import MmsContentItemImage

from carriers import vonage_errors
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
    MediaError,
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

API_HOST = "api.nexmo.com"
# Where inbound media live (the Messages API's regional hosts) and their path.
MEDIA_ORIGINS = tuple(
    f"https://{host}.nexmo.com" for host in ("api", "api-eu", "api-us", "api-ap")
)
MEDIA_PATH = "/v3/media/"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_MEDIA = 10
MAX_CLIENT_REF = 100
ATTACHMENT_TYPES = ("image", "audio", "video", "vcard", "file")


class _Client(NamedTuple):
    auth: Auth
    messages: Messages


class _PlainHttpSession(requests.Session):
    """Sends the SDK's ``https://<api_host>`` requests over plain HTTP: the
    SDK always builds https URLs, and a local mock (VONAGE_API_URL) has no TLS."""

    def __init__(self, host: str):
        super().__init__()
        self.prefix = f"https://{host}/"

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(self.prefix):
            url = "http://" + url[len("https://") :]
        return super().request(method, url, *args, **kwargs)


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def private_key_pem(value: str) -> str:
    """VONAGE_PRIVATE_KEY (PEM text, with real or ``\\n`` newlines, or a file's
    path) as the PKCS#8 PEM the SDK takes; ValueError when it is not a key."""
    value = value.strip()
    if "-----BEGIN" not in value:
        value = Path(value).expanduser().read_text()
    key = serialization.load_pem_private_key(
        value.replace("\\n", "\n").encode(), password=None
    )
    # The SDK takes PKCS#8 only; Vonage's console gives it, openssl may not.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _digits(number: str) -> str:
    """E.164 as Vonage writes it: no leading '+'."""
    return number.removeprefix("+")


def _text(value: Any, name: str) -> str:
    """A string field ('' when absent). NULs and lone surrogates never get
    here: ``WebhookRequest.json`` refuses them."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} is not text")
    return value


def _number(data: dict, name: str) -> str:
    """A number field (Vonage's: E.164 without the '+') in E.164, or BadRequest."""
    value = _text(data.get(name), name).strip()
    if not value:
        raise BadRequest(f"no {name}")
    try:
        return normalize_number("+" + value if value.isdigit() else value)
    except InvalidNumber as exc:
        raise BadRequest(f"{name}: {exc}") from None


def _identifier(data: dict) -> str:
    value = _text(data.get("message_uuid"), "message_uuid").strip()
    if not value:
        raise BadRequest("no message_uuid")
    if len(value) > MAX_ID_LENGTH:
        raise BadRequest(f"message_uuid is longer than {MAX_ID_LENGTH} characters")
    return value


def _object(data: dict, name: str) -> dict:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise BadRequest(f"{name} is not an object")
    return value


def _media_item(item: Any, name: str) -> MediaItem:
    url = _text(item.get("url") if isinstance(item, dict) else None, name).strip()
    if not url or len(url) > MAX_MEDIA_URL_LENGTH:
        raise BadRequest(f"{name} has no URL, or one too long")
    # Vonage names no MIME type: the fetched bytes decide.
    return MediaItem(url=url, content_type="")


class VonageAdapter(CarrierAdapter):
    """Vonage Messages API (SMS and MMS channels)."""

    name = "vonage"

    # Vonage's message status values, in status webhooks. It has no "queued":
    # a 202 answer is the earliest news of a message.
    STATUSES: ClassVar[dict[str, DeliveryStatus]] = {
        "submitted": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "read": DeliveryStatus.DELIVERED,
        "rejected": DeliveryStatus.FAILED,
        "undeliverable": DeliveryStatus.UNDELIVERED,
    }

    # Messages API error codes and HTTP statuses: carriers/vonage_errors.py.
    ERRORS: ClassVar = vonage_errors.ERRORS
    HTTP_STATUS_ERRORS: ClassVar = vonage_errors.HTTP_STATUS_ERRORS
    error_for = staticmethod(vonage_errors.error_for)
    error_from_exception = staticmethod(vonage_errors.error_from_exception)

    def __init__(self) -> None:
        self._clients: dict[tuple, _Client] = {}
        self._lock = threading.Lock()

    # -- webhooks -----------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        """The JWT's HS256 signature, then its ``payload_hash`` against the
        body, its ``iat`` within 5 minutes, and its ``jti`` never seen before.

        PyJWT (the SDK's own JWT library) is called directly: the SDK's
        ``verify_signature`` refuses an ``iat`` even a second ahead of our
        clock, and checks neither the body nor replays.
        """
        secret = settings.VONAGE_SIGNATURE_SECRET
        if not secret:
            raise Forbidden(
                "VONAGE_SIGNATURE_SECRET is not set: nothing can be checked"
            )
        scheme, _, token = request.header("authorization").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Forbidden("no Bearer JWT in Authorization")
        try:
            claims = jwt.decode(
                token.strip(),
                secret,
                algorithms=["HS256"],
                options={"verify_iat": False, "require": ["iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise Forbidden(f"JWT refused: {exc}") from None
        digest = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(digest, str(claims.get("payload_hash", "")).lower()):
            raise Forbidden("payload_hash does not match the body")
        application = claims.get("application_id")
        if application and application != settings.VONAGE_APPLICATION_ID:
            raise Forbidden(f"signed for another application ({application})")
        issued = claims["iat"]
        if not isinstance(issued, int | float) or isinstance(issued, bool):
            raise Forbidden("iat is not a timestamp")
        check_timestamp(issued)
        check_first_use(self.name, str(claims["jti"]))

    def parse(
        self, kind: str, request: WebhookRequest
    ) -> list[InboundMessage | StatusUpdate]:
        """Either URL takes both: a status webhook has ``status``, an inbound
        one ``message_type``."""
        data = request.json()
        if not isinstance(data, dict):
            raise BadRequest("the body is not a JSON object")
        if "status" in data:
            return [self.parse_status(data, request.url)]
        return self.parse_inbound(data)

    def parse_inbound(self, data: dict) -> list[InboundMessage]:
        """An inbound SMS or MMS; other channels (WhatsApp...) are not ours."""
        channel = _text(data.get("channel"), "channel").strip().lower()
        if not channel:
            raise BadRequest("no channel")
        if channel not in ("sms", "mms"):
            log.info("vonage %s message ignored: not an SMS or MMS", channel)
            return []
        message_id = _identifier(data)
        kind = _text(data.get("message_type"), "message_type").strip().lower()
        body, media = _text(data.get("text"), "text"), []
        if kind in ATTACHMENT_TYPES:
            attachment = _object(data, kind)
            body = body or _text(attachment.get("caption"), f"{kind}.caption")
            media.append(_media_item(attachment, f"{kind}.url"))
        # More than one attachment: all of them are in ``content``.
        content = data.get("content") or []
        if not isinstance(content, list) or len(content) > MAX_MEDIA:
            raise BadRequest(f"content is not a list of at most {MAX_MEDIA}")
        if content:
            media = [_media_item(item, "content.url") for item in content]
        return [
            InboundMessage(
                carrier=self.name,
                carrier_message_id=message_id,
                from_number=_number(data, "from"),
                to_number=_number(data, "to"),
                body=body,
                media=tuple(media),
                raw=data,
            )
        ]

    def parse_status(self, data: dict, url: str = "") -> StatusUpdate:
        """A status webhook; our id is its ``client_ref`` (or the ``ref`` of
        the per-message webhook URL)."""
        message_id = _identifier(data)
        name = _text(data.get("status"), "status").strip().lower()
        status = self.STATUSES.get(name, DeliveryStatus.UNKNOWN)
        error = None
        if status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
            details = _object(data, "error")
            error = self.error_for(
                vonage_errors.error_code(details), details.get("detail"), name
            )
        reference = _text(data.get("client_ref"), "client_ref").strip()
        if not reference:
            reference = (parse_qs(urlsplit(url).query).get("ref") or [""])[0]
        return StatusUpdate(
            carrier=self.name,
            carrier_message_id=message_id,
            status=status,
            error=error,
            reference=reference[:MAX_CLIENT_REF],
            raw=data,
        )

    def acknowledgement(self, kind: str) -> Acknowledgement:
        return Acknowledgement(status=200)

    # -- media --------------------------------------------------------------

    def media_hosts(self) -> tuple[str, ...]:
        """Vonage's media servers (and the mock VONAGE_API_URL names, if any)."""
        extra = (
            (url_origin(settings.VONAGE_API_URL),) if settings.VONAGE_API_URL else ()
        )
        return MEDIA_ORIGINS + extra

    def may_fetch_media(self, url: str) -> bool:
        """Media on Vonage's media servers, nothing else."""
        return self.is_own_media(url, MEDIA_PATH)

    def fetch_media(self, url: str, max_bytes: int) -> FetchedMedia:
        """Fetch a lead's attachment with a JWT of our application: Vonage's
        "secure inbound media" demands one, and plain media ignore it."""
        try:
            token = self.client().auth.generate_application_jwt().decode()
        except CarrierError as exc:
            raise MediaError(exc.reason) from None
        return fetch(
            url,
            allowed=self.may_fetch_media,
            credentials=lambda u: _Bearer(token) if self.may_fetch_media(u) else None,
            max_bytes=max_bytes,
            timeout=settings.MMS_FETCH_TIMEOUT,
        )

    # -- sending ------------------------------------------------------------

    def client(self) -> _Client:
        """The SDK's Messages client for the current settings (one per set)."""
        app, key = settings.VONAGE_APPLICATION_ID, settings.VONAGE_PRIVATE_KEY
        api_url, timeout = settings.VONAGE_API_URL, settings.CARRIER_TIMEOUT
        if not app or not key:
            raise CarrierError(
                ErrorKind.PERMANENT,
                "",
                "Vonage is not configured: an admin must set VONAGE_APPLICATION_ID "
                "and VONAGE_PRIVATE_KEY.",
            )
        settings_key = (app, key, api_url, timeout)
        with self._lock:
            if settings_key not in self._clients:
                self._clients = {
                    settings_key: self._new_client(app, key, api_url, timeout)
                }
            return self._clients[settings_key]

    @staticmethod
    def _new_client(app: str, key: str, api_url: str, timeout: float) -> _Client:
        try:
            auth = Auth(application_id=app, private_key=private_key_pem(key))
        except (OSError, ValueError, TypeError) as exc:
            raise CarrierError(
                ErrorKind.PERMANENT,
                "",
                f"VONAGE_PRIVATE_KEY is not a readable private key: {exc}",
            ) from None
        parts = urlsplit(api_url)
        host = parts.netloc or API_HOST
        options = HttpClientOptions(
            api_host=host,
            timeout=math.ceil(timeout),
            # No retries of a send: urllib3's and the SDK's own (it resends a
            # POST after RemoteDisconnected up to pool_maxsize times) could
            # text the lead twice.
            max_retries=0,
            pool_maxsize=1,
        )
        http = HttpClient(auth, options, metadata.version("vonage"))
        if parts.scheme == "http":
            http._session = _PlainHttpSession(host)  # the SDK has no scheme option
        return _Client(auth, Messages(http))

    def send(self, message: OutboundMessage, status_callback: str) -> SendResult:
        client = self.client()
        fields: dict[str, Any] = {
            "to": _digits(message.to_number),
            "from_": _digits(message.from_number),
            "webhook_version": "v1",  # the status webhooks parsed here
        }
        if message.reference:
            fields["client_ref"] = message.reference[:MAX_CLIENT_REF]
        # Statuses go to our per-message URL when Vonage can reach it, else to
        # the application's status URL; client_ref finds the message either way.
        if urlsplit(status_callback).hostname not in LOOPBACK_HOSTS:
            fields["webhook_url"] = status_callback
        try:
            result = client.messages.send(self.message_model(message, fields))
        except Exception as exc:  # every failure is mapped, none escapes raw
            raise self.error_from_exception(exc) from exc
        return SendResult(
            carrier_message_id=result.message_uuid,
            status=DeliveryStatus.QUEUED,
            raw={"message_uuid": result.message_uuid},
        )

    @staticmethod
    def message_model(message: OutboundMessage, fields: dict[str, Any]):
        """An SMS, or an MMS with the text as the (first) image's caption."""
        urls, caption = message.media_urls, message.body.strip()[:3000] or None
        if not urls:
            return Sms(text=message.body, **fields)
        if len(urls) == 1:
            return MmsImage(image=MmsResource(url=urls[0], caption=caption), **fields)
        items = [
            MmsContentItemImage(url=url, caption=caption if i == 0 else None)
            for i, url in enumerate(urls)
        ]
        return MmsContent(content=items, **fields)

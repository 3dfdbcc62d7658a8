"""Bandwidth: Messaging API v2 callbacks in, messages out through ``bandwidth-sdk``.

Bandwidth posts every event of a messaging application (texts received,
delivery receipts) as a JSON array of callbacks to the application's URLs,
authenticated only by the HTTP Basic credentials set on the application: no
signature, timestamp or nonce. One POST may carry several callbacks; they are
parsed all or none. Bandwidth takes no callback URL per message, so our own id
travels in the message's ``tag``, which every callback of that message echoes.

Sending goes through the SDK's ``MessagesApi.create_message``, authenticated
with OAuth2 client credentials (Bandwidth retired username/password API users
on 2 December 2026): ``BANDWIDTH_USERNAME`` is the API credential's client ID,
``BANDWIDTH_PASSWORD`` its secret. The same token fetches a lead's media.
Settings are read on every use (a rotated secret needs no restart).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import requests
import urllib3
from bandwidth import ApiClient, Configuration
from bandwidth.api.messages_api import MessagesApi
from bandwidth.exceptions import ApiException
from bandwidth.models.message_request import MessageRequest
from django.conf import settings
from pydantic import ValidationError

from carriers import bandwidth_errors
from carriers.base import (
    MAX_ID_LENGTH,
    MAX_MEDIA_URL_LENGTH,
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

log = logging.getLogger(__name__)

MESSAGING_API = "https://messaging.bandwidth.com"
TOKEN_PATH = "/api/v1/oauth2/token"  # on https://api.bandwidth.com
MAX_MEDIA = 10
# Bandwidth gave up waiting for the carrier's receipt: the text may well have
# arrived (its docs say so), so it is not reported as failed.
UNCONFIRMED_CODES = {"9902"}


class _Configuration(Configuration):
    """The SDK's configuration, fetching its OAuth2 token with a deadline.

    The SDK asks the token endpoint through urllib3's shared pool with no
    timeout: one that never answered would hold a send, and the outbox, for
    ever. Same request, same cache (the SDK's own attributes), a bounded
    wait, and failures as CarrierError (nothing was sent yet: never UNCERTAIN).
    """

    token_timeout = 10.0

    def get_access_token(self) -> str:
        now = time.time()
        if self.temp_access_token and self.temp_access_token_expiration > now + 60:
            return self.temp_access_token
        secret = f"{self.client_id}:{self.client_secret}"
        headers = urllib3.make_headers(basic_auth=secret)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = urllib3.request(
                "POST",
                self.access_token_url,
                headers=headers,
                body="grant_type=client_credentials",
                timeout=self.token_timeout,
                retries=False,
            )
            if response.status in (400, 401, 403):
                raise CarrierError(
                    ErrorKind.PERMANENT,
                    str(response.status),
                    bandwidth_errors.CREDENTIALS,
                )
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body["expires_in"])
        except (urllib3.exceptions.HTTPError, ValueError, TypeError, KeyError) as exc:
            reason = f"Bandwidth's token service failed ({type(exc).__name__})."
            raise CarrierError(ErrorKind.RETRYABLE, "", reason) from None
        self.temp_access_token = token
        self.temp_access_token_expiration = now + lifetime
        return token


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _string(data: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    """A string field of a callback ('' when absent), or BadRequest."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"no {name}")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} is not a string")
    if "\x00" in value:
        raise BadRequest(f"{name} holds a NUL character")
    return value


def _number(data: Mapping[str, Any], name: str) -> str:
    try:
        return normalize_number(_string(data, name, required=True))
    except InvalidNumber as exc:
        raise BadRequest(f"{name}: {exc}") from None


class BandwidthAdapter(CarrierAdapter):
    """Bandwidth Messaging API v2."""

    name = "bandwidth"

    # Callback types for messages we sent. Any other outbound type is UNKNOWN.
    STATUSES: ClassVar[dict[str, DeliveryStatus]] = {
        "message-sending": DeliveryStatus.SENDING,
        "message-sent": DeliveryStatus.SENT,
        "message-delivered": DeliveryStatus.DELIVERED,
        "message-read": DeliveryStatus.DELIVERED,
        "message-failed": DeliveryStatus.FAILED,
    }

    ERRORS: ClassVar = bandwidth_errors.ERRORS

    HTTP_STATUS_ERRORS: ClassVar = bandwidth_errors.HTTP_STATUS_ERRORS

    def __init__(self) -> None:
        self._clients: dict[tuple, tuple[MessagesApi, _Configuration]] = {}
        self._lock = threading.Lock()

    # -- webhooks -----------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        user = settings.BANDWIDTH_CALLBACK_USERNAME
        password = settings.BANDWIDTH_CALLBACK_PASSWORD
        if not user or not password:
            raise Forbidden("BANDWIDTH_CALLBACK_USERNAME/PASSWORD are not set")
        scheme, _, encoded = request.header("authorization").strip().partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise Forbidden("no HTTP Basic credentials")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise Forbidden("unreadable HTTP Basic credentials") from None
        given_user, colon, given_password = decoded.partition(b":")
        # Digests compared in constant time, both of them whatever the first
        # gives: the time taken tells nothing about either, nor their lengths.
        user_ok = hmac.compare_digest(_digest(given_user), _digest(user.encode()))
        password_ok = hmac.compare_digest(
            _digest(given_password), _digest(password.encode())
        )
        if not (colon and user_ok and password_ok):
            raise Forbidden("wrong HTTP Basic credentials")

    def parse(
        self, kind: str, request: WebhookRequest
    ) -> list[InboundMessage | StatusUpdate]:
        """Every callback of the request, routed by its own ``type`` (either
        URL takes both kinds); BadRequest, for them all, if one is unreadable."""
        body = request.json()
        # Bandwidth's docs: always an array. Its OpenAPI description: one object.
        callbacks = body if isinstance(body, list) else [body]
        if not callbacks:
            raise BadRequest("no callbacks")
        events = []
        for index, callback in enumerate(callbacks):
            try:
                event = self.parse_callback(callback)
            except BadRequest as exc:
                raise BadRequest(f"callback {index}: {exc}") from None
            if event is not None:
                events.append(event)
        return events

    def parse_callback(
        self, callback: dict[str, Any]
    ) -> InboundMessage | StatusUpdate | None:
        """One callback as an event; None for one that concerns no text (an
        RBM client's suggestion or location response)."""
        message = callback.get("message") if isinstance(callback, dict) else None
        if not isinstance(message, dict):
            raise BadRequest("no message object")
        kind = _string(callback, "type", required=True)
        message_id = _string(message, "id", required=True)
        if len(message_id) > MAX_ID_LENGTH:
            raise BadRequest(f"message.id is longer than {MAX_ID_LENGTH} characters")
        if kind == "message-received":
            return InboundMessage(
                carrier=self.name,
                carrier_message_id=message_id,
                from_number=_number(message, "from"),
                # The top-level "to": our number this copy of a group text is for.
                to_number=_number(callback, "to"),
                body=_string(message, "text"),
                media=self.media_of(message),
                raw=callback,
            )
        if _string(message, "direction") == "in":
            log.info("Bandwidth %s callback for %s ignored", kind, message_id)
            return None
        code = callback.get("errorCode")
        code = str(code)[:16] if isinstance(code, int | str) and code != "" else ""
        status = self.STATUSES.get(kind, DeliveryStatus.UNKNOWN)
        error = None
        if code in UNCONFIRMED_CODES:
            status = DeliveryStatus.UNKNOWN
        elif status == DeliveryStatus.FAILED:
            error = self.error_for(code, _string(callback, "description"))
        return StatusUpdate(
            carrier=self.name,
            carrier_message_id=message_id,
            status=status,
            error=error,
            reference=_string(message, "tag"),
            raw=callback,
        )

    @staticmethod
    def media_of(message: Mapping[str, Any]) -> tuple[MediaItem, ...]:
        """A received message's media URLs (Bandwidth names no content type)."""
        urls = message.get("media") or []
        if not isinstance(urls, list) or len(urls) > MAX_MEDIA:
            raise BadRequest(f"message.media is not a list of at most {MAX_MEDIA}")
        for url in urls:
            if not isinstance(url, str) or not url or len(url) > MAX_MEDIA_URL_LENGTH:
                raise BadRequest("message.media holds an unreadable URL")
        return tuple(MediaItem(url=url, content_type="") for url in urls)

    # -- media --------------------------------------------------------------

    def media_hosts(self) -> tuple[str, ...]:
        """Bandwidth's messaging API (and the mock BANDWIDTH_API_URL names)."""
        hosts = [MESSAGING_API]
        if settings.BANDWIDTH_API_URL:
            hosts.append(url_origin(settings.BANDWIDTH_API_URL))
        return tuple(hosts)

    def may_fetch_media(self, url: str) -> bool:
        """Our own account's media on Bandwidth's API, nothing else."""
        account = settings.BANDWIDTH_ACCOUNT_ID
        return bool(account) and self.is_own_media(
            url, f"/api/v2/users/{account}/media/"
        )

    def fetch_media(self, url: str, max_bytes: int) -> FetchedMedia:
        """Fetch a lead's attachment with our OAuth2 token (Bandwidth's media
        need the API's credentials); only from our account's media on its API,
        and no redirect elsewhere."""
        try:
            token = self.client()[1].get_access_token()
        except CarrierError as exc:
            raise MediaError(exc.reason, exc.kind == ErrorKind.RETRYABLE) from None

        def bearer(request: requests.PreparedRequest) -> requests.PreparedRequest:
            request.headers["Authorization"] = f"Bearer {token}"
            return request

        # requests takes any callable as auth: the token goes where basic
        # credentials would, to our media on Bandwidth's API only.
        return fetch(
            url,
            allowed=self.may_fetch_media,
            credentials=lambda u: bearer if self.may_fetch_media(u) else None,
            max_bytes=max_bytes,
            timeout=settings.MMS_FETCH_TIMEOUT,
        )

    # -- errors -------------------------------------------------------------

    @classmethod
    def error_for(cls, code: str, description: str = "") -> CarrierError:
        """A message-failed errorCode (and Bandwidth's words) as a CarrierError."""
        if code in cls.ERRORS:
            kind, reason = cls.ERRORS[code]
            return CarrierError(kind, code, reason)
        description = description.strip().rstrip(".") or "it could not be delivered"
        reason = f"Bandwidth: {description}." + (f" (error {code})" if code else "")
        return CarrierError(ErrorKind.PERMANENT, code, reason)

    @classmethod
    def error_from_exception(cls, exc: Exception) -> CarrierError:
        """Any failure of a send (an API answer or the network) as a CarrierError."""
        if isinstance(exc, CarrierError):
            return exc
        if not isinstance(exc, ApiException):
            return cls.network_error(exc)
        status = exc.status or 0
        try:
            answer = json.loads(exc.body or "")
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        # The HTTP status as the code: Bandwidth's types ("request-validation")
        # are longer than the domain's codes (16 characters).
        code = str(status)
        described = str(answer.get("description") or exc.reason or f"HTTP {status}")
        fields = answer.get("fieldErrors")
        if status == 400 and isinstance(fields, list):
            if any(isinstance(f, dict) and f.get("fieldName") == "to" for f in fields):
                return CarrierError(
                    ErrorKind.INVALID_NUMBER, code, "This is not a valid phone number."
                )
        if status in cls.HTTP_STATUS_ERRORS:
            kind, reason = cls.HTTP_STATUS_ERRORS[status]
            return CarrierError(kind, code, reason)
        if status == 429 or status >= 500 or status == 0:
            # Bandwidth's docs: a 4xx or 5xx answer sends nothing. (0: the SDK's
            # own wrapping of a TLS failure, before anything was sent.)
            reason = f"Bandwidth answered HTTP {status}: {described}"
            return CarrierError(ErrorKind.RETRYABLE, code, reason)
        return CarrierError(
            ErrorKind.PERMANENT, code, f"Bandwidth refused the text: {described}"
        )

    @staticmethod
    def network_error(exc: Exception) -> CarrierError:
        """A failure to talk to Bandwidth: retry when nothing reached it."""
        reason = (
            exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
        )
        # NewConnectionError (refused, unresolvable) is a ConnectTimeoutError.
        never_sent = isinstance(
            reason,
            urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.SSLError,
        )
        if never_sent:
            return CarrierError(
                ErrorKind.RETRYABLE,
                "",
                f"Bandwidth could not be reached ({type(reason).__name__}).",
            )
        return CarrierError(
            ErrorKind.UNCERTAIN,
            "",
            "Bandwidth did not answer in time: the text may have been sent. "
            "Check with the lead before sending it again.",
        )

    # -- sending ------------------------------------------------------------

    def client(self) -> tuple[MessagesApi, _Configuration]:
        """The SDK's messages API for the current settings, and its
        configuration (which holds the token), one per set of settings."""
        client_id, secret = settings.BANDWIDTH_USERNAME, settings.BANDWIDTH_PASSWORD
        if not (settings.BANDWIDTH_ACCOUNT_ID and client_id and secret):
            raise CarrierError(
                ErrorKind.PERMANENT,
                "",
                "Bandwidth is not configured: an admin must set BANDWIDTH_ACCOUNT_ID, "
                "BANDWIDTH_USERNAME and BANDWIDTH_PASSWORD.",
            )
        api_url = settings.BANDWIDTH_API_URL
        key = (client_id, secret, api_url, settings.CARRIER_TIMEOUT)
        with self._lock:
            if key not in self._clients:
                # retries=0: urllib3 would retry a refused connection three
                # times; the outbox retries instead, later.
                config = _Configuration(
                    client_id=client_id, client_secret=secret, retries=0
                )
                config.token_timeout = min(10.0, float(settings.CARRIER_TIMEOUT))
                if api_url:
                    # The mock serves the messaging API and the token endpoint.
                    config.host = api_url + "/api/v2"
                    config.ignore_operation_servers = True
                    config.access_token_url = api_url + TOKEN_PATH
                self._clients = {key: (MessagesApi(ApiClient(config)), config)}
            return self._clients[key]

    def send(self, message: OutboundMessage, status_callback: str) -> SendResult:
        # Bandwidth takes no callback URL per message (receipts go to the
        # application's URL): the tag carries our id back instead.
        api, _ = self.client()
        try:
            request = MessageRequest(
                application_id=settings.BANDWIDTH_APPLICATION_ID,
                to=[message.to_number],
                var_from=message.from_number,
                text=message.body or None,
                media=list(message.media_urls) or None,
                tag=message.reference or None,
            )
        except ValidationError as exc:
            raise CarrierError(
                ErrorKind.PERMANENT,
                "",
                "Bandwidth cannot take this text (at most 2048 characters).",
            ) from exc
        timeout = float(settings.CARRIER_TIMEOUT)  # the SDK wants floats
        try:
            created = api.create_message(
                settings.BANDWIDTH_ACCOUNT_ID,
                request,
                _request_timeout=(min(10.0, timeout), timeout),
            )
        except Exception as exc:  # every failure is mapped, none escapes raw
            raise self.error_from_exception(exc) from exc
        if not created.id:
            raise CarrierError(
                ErrorKind.UNCERTAIN, "", "Bandwidth accepted the text without an id."
            )
        return SendResult(
            carrier_message_id=created.id,
            status=DeliveryStatus.QUEUED,  # 202 Accepted: on Bandwidth's queue
            raw={"id": created.id, "tag": created.tag or ""},
        )

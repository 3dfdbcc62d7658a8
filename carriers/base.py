"""The carrier-neutral types and the interface every gateway adapter implements.

An adapter turns a gateway's HTTP requests into the dataclasses below and the
dataclasses into gateway calls. It knows no model: the domain (``chatserver``)
stores what the adapter parses and hands it what to send. Modelled on
django-anymail: one pipeline (verify -> parse -> hand events on), each gateway a
small module that only maps its fields and status names.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import phonenumbers

DEFAULT_REGION = "US"
# The longest message id a carrier gives (Twilio's are 34 characters); the
# domain stores ids up to this long.
MAX_ID_LENGTH = 64
# The longest media URL the domain stores (Attachment.source_url).
MAX_MEDIA_URL_LENGTH = 500


class InvalidNumber(ValueError):
    """A phone number that cannot be read as a valid E.164 number."""


# Parsing a number costs more than a query on it, and every text's numbers
# are parsed again in each lookup on them: the same few, remembered.
@functools.lru_cache(maxsize=4096)
def normalize_number(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return ``raw`` as E.164 (``+14155550123``) or raise InvalidNumber.

    National formats are read in ``region``; the number must be a valid one for
    its country, not merely the right length.
    """
    if not raw or len(raw) > 40:
        raise InvalidNumber(f"not a phone number: {raw!r}")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"not a phone number: {raw!r} ({exc})") from None
    if parsed.extension:
        # E.164 has no room for one: storing the number without it would text
        # the switchboard, not the person.
        raise InvalidNumber(
            f"{raw!r} has an extension (ext. {parsed.extension}): a text cannot "
            "reach an extension; give a mobile number"
        )
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"not a valid phone number: {raw!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def unstorable(text: str) -> str | None:
    """Why a text cannot be stored (no database text column holds a NUL, and
    a lone surrogate is no character UTF-8 can encode), or None. Every text
    that enters the server passes this one check: webhooks here, the
    console's and the CLI's in ``chatserver.rules.text``."""
    if "\x00" in text:
        return "Text may not contain NUL characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text may not contain unpaired surrogate code points (U+D800-U+DFFF)."
    return None


class DeliveryStatus(enum.StrEnum):
    """Where an outbound message is on its way to the phone.

    The order of the members is the order a message moves in; a status never
    moves back (see ``chatserver.models.Message.Status``, which mirrors it).
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"


class ErrorKind(enum.StrEnum):
    """How the domain should treat a carrier error."""

    RETRYABLE = "retryable"  # try again later (rate limit, carrier outage)
    PERMANENT = "permanent"  # will never succeed as sent
    OPTED_OUT = "opted_out"  # the recipient has opted out at the carrier
    INVALID_NUMBER = "invalid_number"  # the recipient cannot receive SMS
    # The request may or may not have reached the gateway (a timeout after
    # sending): sending again could text the lead twice, so an agent checks.
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class CarrierError(Exception):
    """A failed send or a failure reported by a status callback."""

    kind: ErrorKind
    code: str = ""
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.code} {self.reason}".strip()


@dataclass(frozen=True)
class MediaItem:
    """An attachment as the carrier names it (fetched later, off the webhook)."""

    url: str
    content_type: str


@dataclass(frozen=True)
class FetchedMedia:
    """An attachment's bytes as the carrier's media host served them."""

    content: bytes
    content_type: str  # as the host declared it ('' when it did not)


class MediaError(Exception):
    """An attachment that could not be fetched.

    ``retryable``: the host may serve it later (a timeout, a 5xx); otherwise
    it never will as asked (refused host, too large, gone) and ``reason`` says
    why, in words an agent understands.
    """

    def __init__(self, reason: str, retryable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def unstorable_in(value: Any) -> str | None:
    """``unstorable`` of every string in decoded JSON, keys included."""
    stack = [value]
    while stack:  # not recursive: JSON may nest as deep as its decoder goes
        item = stack.pop()
        if isinstance(item, str):
            problem = unstorable(item)
            if problem:
                return problem
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-case, default ports left out;
    '' for a URL without a scheme or host, or with credentials in it (no
    carrier names media that way; a fetch would send them)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host or "@" in parts.netloc:
        return ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class InboundMessage:
    """A text (or MMS) a lead sent to one of our sender numbers."""

    carrier: str
    carrier_message_id: str
    from_number: str  # E.164
    to_number: str  # E.164
    body: str
    media: tuple[MediaItem, ...] = ()
    # The carrier already acted on a keyword (Twilio's OptOutType): "STOP",
    # "START" or "HELP", or "" when it did not.
    carrier_keyword: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for a message we sent."""

    carrier: str
    carrier_message_id: str
    status: DeliveryStatus
    error: CarrierError | None = None
    # Our own id for the message when the callback URL carries it: a receipt
    # that arrives before the send's answer is recorded still finds its message.
    reference: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class OutboundMessage:
    """What to send: the domain fills it in, the adapter sends it."""

    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()
    # Our own id for the message, used to build the status callback URL and
    # to ask the gateway for idempotency where it supports it.
    reference: str = ""


@dataclass(frozen=True)
class SendResult:
    """What the gateway answered to a send that it accepted."""

    carrier_message_id: str
    status: DeliveryStatus = DeliveryStatus.QUEUED
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


class BadRequest(ValueError):
    """A signed request we cannot read: answered with a 4xx, nothing stored."""


class Forbidden(PermissionError):
    """A request whose signature is missing or wrong: answered with 403."""


@dataclass(frozen=True)
class WebhookRequest:
    """The parts of an HTTP request an adapter needs, free of any framework."""

    url: str  # the public URL the carrier called (signatures cover it)
    method: str
    headers: Mapping[str, str]  # lower-case names
    form: Mapping[str, list[str]]  # every value of every field, in order
    body: bytes = b""
    content_type: str = ""

    def header(self, name: str) -> str:
        """A request header ('' when absent); ``name`` in any case."""
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        """The body as JSON (a gateway that posts JSON), or BadRequest."""
        if "json" not in self.content_type.lower():
            raise BadRequest(f"expected a JSON body, not {self.content_type[:60]!r}")
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadRequest(f"the body is not JSON ({type(exc).__name__})") from None
        # JSON may spell a NUL or a lone surrogate as an escape: refused here,
        # before any field of it is read.
        problem = unstorable_in(data)
        if problem:
            raise BadRequest(problem)
        return data

    def value(self, name: str) -> str:
        """The single value of a form field, '' when absent.

        A field sent twice with different values is a malformed request.
        """
        values = self.form.get(name) or []
        if len(set(values)) > 1:
            raise BadRequest(f"field {name} given {len(values)} different values")
        value = values[0] if values else ""
        problem = unstorable(value)
        if problem:
            raise BadRequest(f"field {name}: {problem}")
        return value

    def required(self, name: str) -> str:
        """A form field that must be present and not blank, or BadRequest."""
        value = self.value(name).strip()
        if not value:
            raise BadRequest(f"no {name}")
        return value

    def identifier(self, name: str) -> str:
        """A carrier's id for a message: required, and no longer than any
        carrier's (``MAX_ID_LENGTH``), or BadRequest."""
        value = self.required(name)
        if len(value) > MAX_ID_LENGTH:
            raise BadRequest(f"{name} is longer than {MAX_ID_LENGTH} characters")
        return value

    def media(self, max_items: int) -> tuple[MediaItem, ...]:
        """The attachments a webhook names, Twilio's way (``NumMedia``,
        ``MediaUrlN``, ``MediaContentTypeN``), or BadRequest."""
        count = self.value("NumMedia") or "0"
        # isascii: str.isdigit() also takes digits int() refuses ('²'); and
        # int() refuses thousands of digits.
        if not (count.isascii() and count.isdigit() and len(count) < 4):
            raise BadRequest(f"NumMedia is {count[:20]!r}: expected 0 to {max_items}")
        if int(count) > max_items:
            raise BadRequest(f"NumMedia is {count!r}: expected 0 to {max_items}")
        items = []
        for index in range(int(count)):
            url = self.required(f"MediaUrl{index}")
            if len(url) > MAX_MEDIA_URL_LENGTH:
                raise BadRequest(f"MediaUrl{index} is too long")
            content_type = self.value(f"MediaContentType{index}").strip()[:100]
            items.append(MediaItem(url=url, content_type=content_type))
        return tuple(items)

    def number(self, name: str) -> str:
        """A phone number field in E.164, or BadRequest naming the field."""
        value = self.required(name)
        try:
            return normalize_number(value)
        except InvalidNumber as exc:
            raise BadRequest(f"{name}: {exc}") from None


@dataclass(frozen=True)
class Acknowledgement:
    """The HTTP answer the gateway expects when we accepted its request."""

    body: bytes = b""
    content_type: str = "text/plain"
    status: int = 200


class CarrierAdapter:
    """The interface of a gateway adapter.

    ``kinds`` names the webhook paths it serves (``/carriers/<name>/<kind>``).
    """

    name: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ("inbound", "status")

    def verify(self, request: WebhookRequest) -> None:
        """Raise Forbidden unless the request is signed by the gateway."""
        raise NotImplementedError

    def parse(
        self, kind: str, request: WebhookRequest
    ) -> list[InboundMessage | StatusUpdate]:
        """Turn a verified request into events; raise BadRequest if unreadable.

        It may read any part of the request (a JSON gateway reads the body).
        ``kind`` is the URL's (``inbound`` or ``status``): a gateway that
        posts every kind of event to one URL may route by the event's own type
        and take either kind at either URL.
        """
        raise NotImplementedError

    def acknowledgement(self, kind: str) -> Acknowledgement:
        """What to answer the gateway once its events are stored."""
        return Acknowledgement()

    def send(self, message: OutboundMessage, status_callback: str) -> SendResult:
        """Hand a message to the gateway; raise CarrierError when it refuses."""
        raise NotImplementedError

    def media_hosts(self) -> tuple[str, ...]:
        """The origins (``scheme://host[:port]``) whose media URLs may be
        fetched: the carrier's own media hosts. Nothing else is fetched,
        whatever a webhook names."""
        return ()

    def on_media_hosts(self, url: str) -> bool:
        """Whether a URL is on one of the carrier's media hosts."""
        origin = url_origin(url)
        return bool(origin) and origin in self.media_hosts()

    def may_fetch_media(self, url: str) -> bool:
        """Whether an inbound media URL may be fetched: on the carrier's media
        hosts (an adapter narrows it to our account's paths)."""
        return self.on_media_hosts(url)

    def is_own_media(self, url: str, *prefixes: str) -> bool:
        """Whether an inbound media URL is on the carrier's media hosts and
        under one of ``prefixes`` (our account's paths), with no way out of
        them (no ``..``, spelt plainly or percent-encoded)."""
        try:
            path = urlsplit(url).path
        except ValueError:
            return False
        return (
            self.on_media_hosts(url)
            and all(prefixes)
            and path.startswith(prefixes)
            and ".." not in path
            and "%2e" not in path.lower()
        )

    def fetch_media(self, url: str, max_bytes: int) -> FetchedMedia:
        """Fetch an inbound attachment with the account's credentials, reading
        no more than ``max_bytes``; MediaError when it cannot be had."""
        raise NotImplementedError

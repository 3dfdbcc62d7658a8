"""Telnyx, as far as tests can have it: its webhook signatures and its API.

* ``TelnyxKeys`` signs a webhook exactly as Telnyx does: Ed25519 (PyNaCl)
  over ``f"{timestamp}|".encode() + raw_body``, the signature in base64 in
  ``telnyx-signature-ed25519``, the timestamp in ``telnyx-timestamp``, with a
  key pair made for the test (the public key in base64, as Mission Control
  shows it).
* ``FakeTelnyx`` is a real HTTP server on 127.0.0.1 playing
  ``POST /v2/messages`` ("Send a message", operationId ``createMessage``). It
  checks what the ``telnyx`` SDK sends against Telnyx's published OpenAPI
  description (team-telnyx/openapi ``openapi/spec3.yml``, read 2026-08:
  ``CreateMessageRequest``; the two fields it lacks, ``encoding`` and
  ``send_at``, from the newer description telnyx 4.189.0's
  ``types/message_send_params.py`` is generated from): bearer auth, a JSON
  object, ``to`` required, no field it does not describe, each field's type
  and allowed values. It answers with the documented ``MessageResponse``
  (``{"data": OutboundMessagePayload}``) or the documented error body
  (``{"errors": [{"code", "title", "detail", "source"}]}``), records every
  request, and can refuse as Telnyx refuses a recipient who opted out (40300,
  HTTP 409: developers.telnyx.com/api/errors/40300) or an invalid number
  (40310, HTTP 400: developers.telnyx.com/api/errors/40310).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from nacl.signing import SigningKey

API_KEY = "KEYtests-only-not-a-key"
# +E.164, or a short code (the description's ``address`` format).
ADDRESS = re.compile(r"^(\+[1-9][0-9]{6,14}|[0-9]{3,8})$")
URL = re.compile(r"^https?://[^\s/]+\S*$")

# CreateMessageRequest's properties: what each must be.
FIELDS = {
    "to": "address",
    "from": "address",
    "text": "text",
    "media_urls": "urls",
    "messaging_profile_id": "string",
    "subject": "string",
    "type": ("SMS", "MMS"),
    "auto_detect": "boolean",
    "use_profile_webhooks": "boolean",
    "webhook_url": "url",
    "webhook_failover_url": "url",
    "encoding": ("auto", "gsm7", "ucs2"),
    "send_at": "string",
}

REFUSALS = {
    "opted_out": (
        409,
        {
            "code": "40300",
            "title": "Blocked due to STOP message",
            "detail": "Messages cannot be sent from '{from}' to '{to}' due to an "
            "existing block rule.",
        },
    ),
    "invalid_number": (
        400,
        {
            "code": "40310",
            "title": "Invalid 'to' address",
            "detail": "The 'to' address should be a single valid number.",
            "source": {"pointer": "/to"},
        },
    ),
}


class TelnyxKeys:
    """An Ed25519 key pair standing in for a Telnyx account's."""

    def __init__(self) -> None:
        self.signing_key = SigningKey.generate()
        self.public_key = base64.b64encode(bytes(self.signing_key.verify_key)).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        """The ``telnyx-signature-ed25519`` Telnyx sends with ``body``."""
        signed = self.signing_key.sign(f"{timestamp}|".encode() + body)
        return base64.b64encode(signed.signature).decode()

    def headers(self, body: bytes, at: float | None = None) -> dict[str, str]:
        """Both headers of a delivery signed at ``at`` (default: now)."""
        timestamp = str(int(time.time() if at is None else at))
        return {
            "telnyx-signature-ed25519": self.sign(body, timestamp),
            "telnyx-timestamp": timestamp,
        }


def event(event_type: str, payload: dict, *, attempt: int = 1, delivered_to: str = ""):
    """The raw body of a messaging event as Telnyx posts it (``data`` and the
    delivery's ``meta``)."""
    body = {
        "data": {
            "record_type": "event",
            "id": str(uuid.uuid4()),
            "event_type": event_type,
            "occurred_at": datetime.now(UTC).isoformat(),
            "payload": payload,
        },
        "meta": {"attempt": attempt, "delivered_to": delivered_to},
    }
    return json.dumps(body).encode()


def problems(body: object) -> list[tuple[str, str]]:
    """What the description forbids in a send's body: (pointer, why) pairs."""
    if not isinstance(body, dict):
        return [("/", "the body must be a JSON object")]
    found = [
        (f"/{name}", "not a described field") for name in body if name not in FIELDS
    ]
    if "to" not in body:
        found.append(("/to", "required"))
    for name, value in body.items():
        rule = FIELDS.get(name)
        if rule is None:
            continue
        pointer = f"/{name}"
        if isinstance(rule, tuple):
            ok = value in rule
        elif rule == "boolean":
            ok = isinstance(value, bool)
        elif rule == "address":
            ok = isinstance(value, str) and bool(ADDRESS.match(value))
        elif rule == "url":
            ok = isinstance(value, str) and bool(URL.match(value))
        elif rule == "urls":
            ok = isinstance(value, list) and all(
                isinstance(item, str) and URL.match(item) for item in value
            )
        elif rule == "text":
            ok = isinstance(value, str) and value != ""  # "a non-empty string"
        else:
            ok = isinstance(value, str)
        if not ok:
            found.append((pointer, f"not a valid {rule}"))
    if "text" not in body and not body.get("media_urls"):
        found.append(("/text", "required for SMS"))
    return found


def message_payload(body: dict) -> dict:
    """The documented OutboundMessagePayload for an accepted send."""
    media = body.get("media_urls") or []
    now = datetime.now(UTC).isoformat()
    return {
        "record_type": "message",
        "direction": "outbound",
        "id": str(uuid.uuid4()),
        "type": "MMS" if media else "SMS",
        "messaging_profile_id": str(uuid.uuid4()),
        "organization_id": str(uuid.uuid4()),
        "from": {
            "phone_number": body.get("from"),
            "carrier": "TELNYX LLC",
            "line_type": "VoIP",
        },
        "to": [
            {
                "phone_number": body["to"],
                "status": "queued",
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            }
        ],
        "cc": [],
        "text": body.get("text", ""),
        "subject": body.get("subject"),
        "media": [
            {"url": url, "content_type": None, "sha256": None, "size": None}
            for url in media
        ],
        "webhook_url": body.get("webhook_url"),
        "webhook_failover_url": body.get("webhook_failover_url"),
        "encoding": "GSM-7",
        "parts": 1,
        "tags": [],
        "cost": None,
        "received_at": now,
        "sent_at": None,
        "completed_at": None,
        "valid_until": None,
        "errors": [],
    }


def error_body(code: str, title: str, detail: str, pointer: str = "") -> dict:
    error = {"code": code, "title": title, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return {"errors": [error]}


class FakeTelnyx:
    """``POST /v2/messages`` on 127.0.0.1, checked and answered as described.

    ``requests`` holds every request (``path``, ``headers``, ``json``);
    ``answers`` planned answers, ``(status, json_body)`` or ``"hang"`` (read
    the request, never answer), used before checking anything;
    ``refuse(kind)`` makes every send refused as ``REFUSALS[kind]``.
    """

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.requests: list[dict] = []
        self.answers: list = []
        self.refusal: tuple[int, dict] | None = None
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": body}
                )
                if fake.answers:
                    answer = fake.answers.pop(0)
                    if answer == "hang":
                        fake._release.wait(30)
                        return
                    self.reply(*answer)
                    return
                self.reply(*fake.answer(self.path, self.headers, body))

            def reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path, headers, body) -> tuple[int, dict]:
        """What Telnyx answers this request."""
        if path != "/v2/messages":
            return 404, error_body(
                "10005",
                "Resource not found",
                "The requested resource or URL could not be found.",
            )
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, error_body(
                "10009",
                "Authentication failed",
                "The required authentication headers were either invalid or not "
                "included in the request.",
            )
        if not (headers.get("Content-Type") or "").startswith("application/json"):
            return 415, error_body(
                "10014",
                "Unsupported Media Type",
                "The request failed because the server does not support the media "
                "type.",
            )
        found = problems(body)
        if found:
            pointer, why = found[0]
            return 422, error_body("10015", "Bad Request", why, pointer)
        if self.refusal is not None:
            status, error = self.refusal
            return status, {"errors": [error]}
        return 200, {"data": message_payload(body)}

    def refuse(self, kind: str) -> None:
        """Refuse every send as Telnyx does for ``kind`` (``REFUSALS``)."""
        self.refusal = REFUSALS[kind]

    def sent(self) -> list[dict]:
        """The JSON bodies of the sends the SDK made (answered or refused)."""
        return [r["json"] for r in self.requests if isinstance(r["json"], dict)]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

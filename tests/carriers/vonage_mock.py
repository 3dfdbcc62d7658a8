"""Vonage, as far as tests can have it: its webhook signatures and its
Messages API, on 127.0.0.1.

``FakeVonage`` follows Vonage's published OpenAPI description of the Messages
API, version 1.20.0 ("messages-olympus", Messages API v1,
https://developer.vonage.com/api/v1/developer/api/file/messages-olympus?format=yml,
as archived on 2026-10-08), for the SMS and MMS channels:

* ``POST /v1/messages`` only, ``Authorization: Bearer`` a JWT of the
  application (RS256 with its private key, ``application_id`` claim), else
  401 with the description's problem+json;
* the request checked against ``OutboundSMSText`` / ``OutboundMMS*``: the
  required ``to`` (7-15 digits, no '+'), ``from``, ``message_type`` and
  ``channel``, the fields' types, lengths and allowed values; a request that
  breaks them gets the description's 422 ``ErrorMessageParams`` (#1150) with
  its ``invalid_parameters``;
* 202 with ``{"message_uuid": ...}`` (``MessageAcceptedResponse``);
* planned answers: the description's 422 ``ErrorRecipient`` (#1430, "Invalid
  recipient") for an invalid number, 429, 500, or a connection dropped
  without an answer.

An opted-out recipient is not refused by the API: Vonage's "Messaging
Opted-out Numbers" guide (Opt-out Assist) says the send gets its 202 and the
status webhook then says ``rejected`` with error 1240 ("Illegal Number: the
user has already sent a STOP"): ``status_body`` builds that webhook
(``messageStatusSMS``), ``sign_like_vonage`` signs it as Vonage's "Signed
webhooks" page describes (HS256 with the signature secret; ``iat``, ``jti``,
``iss``, ``payload_hash``, ``api_key``, ``application_id``).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TEST_APPLICATION_ID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
TEST_API_KEY = "abcd1234"
TEST_SIGNATURE_SECRET = "tests-only-vonage-signature-secret-0123456789"
ERRORS_URL = "https://developer.vonage.com/api-errors/messages"
MMS_TYPES = ("text", "image", "vcard", "audio", "video", "file", "content")
CONTENT_TYPES = ("image", "audio", "video", "vcard", "file")


@functools.cache
def throwaway_key() -> rsa.RSAPrivateKey:
    """A throwaway RSA key for the test application, made once per run."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def throwaway_key_pem() -> str:
    return (
        throwaway_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def application_jwt_ok(header: str | None) -> bool:
    """Whether an Authorization header is ``Bearer`` a JWT of the test
    application, signed with its private key."""
    scheme, _, token = (header or "").partition(" ")
    if scheme != "Bearer":
        return False
    try:
        claims = jwt.decode(
            token,
            throwaway_key().public_key(),
            algorithms=["RS256"],
            options={"require": ["iat", "jti", "exp", "application_id"]},
        )
    except jwt.PyJWTError:
        return False
    return claims["application_id"] == TEST_APPLICATION_ID


def sign_like_vonage(
    body: bytes,
    secret: str = TEST_SIGNATURE_SECRET,
    *,
    issued_at: float | None = None,
    jti: str | None = None,
) -> str:
    """The ``Authorization`` header Vonage would send with this body."""
    claims = {
        "iat": int(time.time() if issued_at is None else issued_at),
        "jti": jti or str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": TEST_API_KEY,
        "application_id": TEST_APPLICATION_ID,
    }
    return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def problem(number: str, title: str, detail: str, **extra) -> dict:
    """A Messages API error answer (RFC 7807, as the description gives them)."""
    return {
        "type": f"{ERRORS_URL}#{number}",
        "title": title,
        "detail": detail,
        "instance": uuid.uuid4().hex,
        **extra,
    }


INVALID_RECIPIENT = (
    422,
    problem(
        "1430",
        "Invalid recipient",
        "The `to` parameter is invalid for the given channel.",
    ),
)
THROTTLED = (429, problem("1000", "Throttled", "Please wait and retry."))
INTERNAL = (500, problem("1030", "Internal error", "Please retry."))


def _string(body, name, problems, *, required=False, low=0, high=None, pattern=None):
    value = body.get(name)
    if value is None:
        if required:
            problems.append((name, "is required."))
        return
    if not isinstance(value, str):
        problems.append((name, "must be a string."))
    elif len(value) < low or (high is not None and len(value) > high):
        problems.append((name, f"must be {low} to {high} characters."))
    elif pattern == "digits" and not value.isdigit():
        problems.append((name, "must be E.164 digits without a leading +."))


def _integer(body, name, low, high, problems):
    value = body.get(name)
    if value is not None and (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        problems.append((name, f"must be an integer from {low} to {high}."))


def check_message(body) -> list[tuple[str, str]]:
    """What in a send request breaks the description (SMS and MMS)."""
    if not isinstance(body, dict):
        return [("body", "must be a JSON object.")]
    problems: list[tuple[str, str]] = []
    _string(body, "to", problems, required=True, low=7, high=15, pattern="digits")
    _string(body, "from", problems, required=True, low=1)
    _string(body, "client_ref", problems, high=100)
    _string(body, "webhook_url", problems)
    if body.get("webhook_version") not in (None, "v0.1", "v1"):
        problems.append(("webhook_version", "must be one of v0.1, v1."))
    channel, kind = body.get("channel"), body.get("message_type")
    if channel == "sms":
        _integer(body, "ttl", 20, 604800, problems)
        if kind != "text":
            problems.append(("message_type", "must be text for sms."))
        _string(body, "text", problems, required=True, high=3200)
        encoding = (body.get("sms") or {}).get("encoding_type")
        if encoding not in (None, "text", "unicode", "auto"):
            problems.append(("sms.encoding_type", "must be text, unicode or auto."))
    elif channel == "mms":
        _integer(body, "ttl", 300, 259200, problems)
        if kind not in MMS_TYPES:
            problems.append(("message_type", f"must be one of {', '.join(MMS_TYPES)}."))
        elif kind == "text":
            _string(body, "text", problems, required=True)
        elif kind == "content":
            items = body.get("content")
            if not isinstance(items, list) or not items:
                problems.append(("content", "must be a non-empty array."))
            for item in items if isinstance(items, list) else ():
                if not isinstance(item, dict) or item.get("type") not in CONTENT_TYPES:
                    problems.append(("content.type", "must be an attachment type."))
                    continue
                _string(item, "url", problems, required=True, low=1)
                _string(item, "caption", problems, low=1, high=3000)
        else:
            attachment = body.get(kind)
            if not isinstance(attachment, dict):
                problems.append((kind, "is required."))
            else:
                _string(attachment, "url", problems, required=True, low=1)
                _string(attachment, "caption", problems, low=1, high=3000)
    else:
        problems.append(("channel", "must be sms or mms."))
    return problems


class FakeVonage:
    """A Messages API on 127.0.0.1 that records what the SDK sends.

    ``answers``: planned answers, used first: ``(status, json)``, or "drop"
    (read the request, close the connection without answering).
    ``accepted``: the requests answered 202, as ``(message_uuid, body)``.
    """

    def __init__(self) -> None:
        self.answers: list = []
        self.requests: list[dict] = []
        self.accepted: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                record = {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "content_type": self.headers.get("Content-Type", ""),
                    "body": raw.decode("utf-8", "replace"),
                }
                fake.requests.append(record)
                status, payload = fake.answer(record, raw)
                if status is None:
                    self.close_connection = True  # the client sees no answer
                    return
                data = json.dumps(payload).encode()
                self.send_response(status)
                kind = (
                    "application/json" if status < 300 else "application/problem+json"
                )
                self.send_header("Content-Type", kind)
                self.send_header("X-Request-Id", str(uuid.uuid4()))
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

    def answer(self, record: dict, raw: bytes) -> tuple[int | None, dict]:
        if record["path"] != "/v1/messages":
            return 404, problem("not-found", "Not found", "No such resource.")
        if not application_jwt_ok(record["authorization"]):
            return 401, {
                "type": "https://developer.vonage.com/api-errors/#unathorized",
                "title": "You did not provide correct credentials.",
                "instance": uuid.uuid4().hex,
            }
        if self.answers:
            planned = self.answers.pop(0)
            return (None, {}) if planned == "drop" else planned
        try:
            if "application/json" not in record["content_type"]:
                raise ValueError("not JSON")
            body = json.loads(raw)
        except ValueError:
            return 422, problem("invalid-json", "Invalid JSON", "Not valid JSON.")
        problems = check_message(body)
        if problems:
            return 422, problem(
                "1150",
                "Invalid params",
                "The value of one or more parameters is invalid.",
                invalid_parameters=[{"name": n, "reason": r} for n, r in problems],
            )
        message_uuid = str(uuid.uuid4())
        self.accepted.append((message_uuid, body))
        return 202, {"message_uuid": message_uuid}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def status_body(
    message_uuid: str, request: dict, status: str, error_code: str = ""
) -> dict:
    """The status webhook Vonage sends about a message it accepted."""
    body = {
        "message_uuid": message_uuid,
        "to": request["to"],
        "from": request["from"],
        "timestamp": now_iso(),
        "status": status,
        "channel": request.get("channel", "sms"),
        "usage": {"currency": "EUR", "price": "0.0333"},
    }
    if request.get("client_ref"):
        body["client_ref"] = request["client_ref"]
    if error_code:
        body["error"] = {
            "type": f"{ERRORS_URL}#{error_code}",
            "title": error_code,
            "detail": "Illegal Number - the user has already sent a STOP opt-out."
            if error_code == "1240"
            else "Rejected.",
            "instance": uuid.uuid4().hex,
        }
    return body

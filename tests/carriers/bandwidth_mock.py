"""A local mock of Bandwidth's Messaging API v2, for the real ``bandwidth-sdk``.

It follows Bandwidth's published OpenAPI description, ``bandwidth.yml`` of
github.com/Bandwidth/python-sdk (commit ba8d157, 22 July 2026; the document's
``info.version`` 1.0.0, which SDK 23.3.1 is generated from):

* ``createMessage``: ``POST /users/{accountId}/messages`` on the server
  ``https://messaging.bandwidth.com/api/v2``; request body ``messageRequest``
  (``applicationId``, ``to`` and ``from`` required; ``to`` an array of unique
  strings in E.164; ``text`` at most 2048 characters; ``media`` URIs of at most
  4096; ``tag`` a string, at most 1024 characters in the docs; ``priority``
  ``default`` or ``high``; ``expiration`` a date-time), ``application/json``;
  answer ``202`` with a ``message``; ``400`` ``createMessageRequestError``
  (``type``, ``description``, ``fieldErrors`` of ``fieldName`` and
  ``description``); ``401``/``403``/``415``/``429`` ``messagingRequestError``
  (``type``, ``description``), their wording from dev.bandwidth.com's
  messaging errors page (Bandwidth/api-docs ``site/docs/messaging/errors.mdx``,
  November 2023).
* ``getMedia``: ``GET /users/{accountId}/media/{mediaId}``, the URLs inbound
  ``message-received`` callbacks name.
* Security ``OAuth2`` client credentials, ``tokenUrl``
  ``https://api.bandwidth.com/api/v1/oauth2/token``: a form POST of
  ``grant_type=client_credentials`` with the client ID and secret as HTTP Basic
  credentials, answered with ``access_token``, ``token_type`` and
  ``expires_in`` (RFC 6749, section 4.4); the API then wants ``Bearer``.

Bandwidth refuses an opted-out recipient or an unreachable number after
accepting the message (202), in a ``message-failed`` callback with an
``errorCode`` (4775, 4720, ...) posted to the application's URL, shaped as
Bandwidth's webhooks page shows (``site/docs/messaging/webhooks.mdx``).
``fail`` plans that: the callback waits in ``callbacks`` for a test to deliver.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

TOKEN_PATH = "/api/v1/oauth2/token"
MESSAGES = re.compile(r"^/api/v2/users/(?P<account>[^/]+)/messages$")
MEDIA = re.compile(r"^/api/v2/users/(?P<account>[^/]+)/media/.+$")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
NOT_E164 = "must be replaced with a valid E164 formatted telephone number"
REQUEST_FIELDS = {
    "applicationId",
    "to",
    "from",
    "text",
    "media",
    "tag",
    "priority",
    "expiration",
}
# Descriptions of the message-failed callbacks the tests plan (the errors page).
FAILURES = {
    4775: "destination-rejected-due-to-user-opt-out",
    4720: "invalid-destination-address",
    4702: "destination-subscriber-unavailable",
}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_errors(body) -> list[tuple[str, str]]:
    """What ``messageRequest`` forbids in ``body``: (fieldName, description)."""
    if not isinstance(body, dict):
        return [("", "the body is not a JSON object")]
    errors = [(n, f"'{n}' is required") for n in ("applicationId", "to", "from")]
    errors = [e for e in errors if e[0] not in body]
    errors += [(n, f"unknown field '{n}'") for n in body if n not in REQUEST_FIELDS]
    to = body.get("to", [])
    if not isinstance(to, list) or len(set(map(str, to))) != len(to) or not to:
        errors.append(("to", "'to' must be an array of unique numbers"))
    else:
        wrong = [n for n in to if not (isinstance(n, str) and E164.match(n))]
        errors += [("to", f"'{n}' {NOT_E164}") for n in wrong]
    for name, limit in (("applicationId", 100), ("from", 32), ("text", 2048)):
        value = body.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            errors.append((name, f"'{name}' must be a string of at most {limit}"))
    tag = body.get("tag", "")
    if not isinstance(tag, str) or len(tag) > 1024:
        errors.append(("tag", "'tag' must be a string of at most 1024 characters"))
    media = body.get("media", [])
    if not isinstance(media, list) or not all(
        isinstance(u, str) and u.startswith(("http://", "https://")) and len(u) <= 4096
        for u in media
    ):
        errors.append(("media", "'media' must be an array of URLs"))
    if body.get("priority", "default") not in ("default", "high"):
        errors.append(("priority", "'priority' must be one of default, high"))
    return errors


class FakeBandwidth:
    """Bandwidth's token endpoint, messaging API and media, on 127.0.0.1.

    ``requests`` records every request (method, path, authorization, and the
    JSON body of a send); ``answers`` plans the next sends' answers
    (``(status, json)``, or ``"hang"``: read the request, never answer);
    ``fail(to, code)`` makes sends to ``to`` accepted, then failed by a
    callback queued in ``callbacks``; ``serve(path, body, type)`` a media file;
    ``token_hangs`` a token endpoint that never answers.
    """

    def __init__(self, account_id, client_id, client_secret):
        self.account_id = account_id
        self.client_basic = (
            "Basic "
            + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        )
        self.tokens: list[str] = []
        self.requests: list[dict] = []
        self.answers: list = []
        self.failures: dict[str, int] = {}
        self.callbacks: list[dict] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.token_hangs = False
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                fake.handle(self, "POST", self.rfile.read(length))

            def do_GET(self):  # noqa: N802
                fake.handle(self, "GET", b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- what tests plan and read ------------------------------------------

    def fail(self, to: str, code: int) -> None:
        self.failures[to] = code

    def serve(self, path: str, body: bytes, content_type: str) -> str:
        self.media[path] = (body, content_type)
        return self.url + path

    def sends(self) -> list[dict]:
        return [r["json"] for r in self.requests if MESSAGES.match(r["path"])]

    def media_requests(self) -> list[dict]:
        return [r for r in self.requests if MEDIA.match(r["path"])]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- the API ------------------------------------------------------------

    def handle(self, handler, method: str, raw: bytes) -> None:
        path = handler.path
        auth = handler.headers.get("Authorization", "")
        record = {"method": method, "path": path, "authorization": auth}
        self.requests.append(record)
        bearer = auth.startswith("Bearer ") and auth[7:] in self.tokens
        unauthorized = (
            401,
            {"type": "unauthorized", "description": "Authentication Failed"},
        )
        if method == "POST" and path == TOKEN_PATH and self.token_hangs:
            answer = "hang"
        elif method == "POST" and path == TOKEN_PATH:
            answer = self.token(auth, handler.headers.get("Content-Type", ""), raw)
        elif method == "POST" and MESSAGES.match(path):
            record["json"] = self.json_of(raw)
            if not bearer:
                answer = unauthorized
            elif MESSAGES.match(path)["account"] != self.account_id:
                answer = (403, {"type": "forbidden", "description": "Access Denied"})
            elif "application/json" not in handler.headers.get("Content-Type", ""):
                answer = (
                    415,
                    {
                        "type": "unsupported-content-type",
                        "description": "Please use 'application/json'",
                    },
                )
            else:
                answer = self.create(record["json"])
        elif method == "GET" and MEDIA.match(path):
            if not bearer or MEDIA.match(path)["account"] != self.account_id:
                answer = unauthorized
            elif path in self.media:
                return self.reply(handler, 200, *self.media[path])
            else:
                answer = (404, {"type": "not-found", "description": "Media not found"})
        else:
            answer = (404, {"type": "not-found", "description": "Not Found"})
        if answer == "hang":
            self._release.wait(30)
            return
        status, payload = answer
        self.reply(handler, status, json.dumps(payload).encode(), "application/json")

    @staticmethod
    def json_of(raw: bytes):
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def token(self, auth: str, content_type: str, raw: bytes):
        form = parse_qs(raw.decode()) if "x-www-form-urlencoded" in content_type else {}
        if form.get("grant_type") != ["client_credentials"]:
            return (400, {"error": "unsupported_grant_type"})
        if auth != self.client_basic:
            return (401, {"error": "invalid_client"})
        token = uuid.uuid4().hex
        self.tokens.append(token)
        return (
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": 3600},
        )

    def create(self, body):
        errors = request_errors(body)
        if errors:
            return (
                400,
                {
                    "type": "request-validation",
                    "description": "Your request could not be accepted",
                    "fieldErrors": [
                        {"fieldName": f, "description": d} for f, d in errors
                    ],
                },
            )
        if self.answers:
            return self.answers.pop(0)
        message = {
            "id": f"{int(datetime.now(UTC).timestamp() * 1000)}{uuid.uuid4().hex[:16]}",
            "owner": body["from"],
            "applicationId": body["applicationId"],
            "time": now(),
            "segmentCount": 1,
            "direction": "out",
            "to": body["to"],
            "from": body["from"],
            "text": body.get("text", ""),
            **{k: body[k] for k in ("media", "tag", "priority") if k in body},
        }
        code = self.failures.get(body["to"][0])
        if code:
            self.callbacks.append(
                {
                    "type": "message-failed",
                    "time": now(),
                    "description": FAILURES.get(code, "message-failed"),
                    "to": body["to"][0],
                    "errorCode": code,
                    "message": {**message, "text": ""},
                }
            )
        return (202, message)

    @staticmethod
    def reply(handler, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

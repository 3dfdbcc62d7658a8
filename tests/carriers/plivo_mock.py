"""Plivo, as far as tests can have it: its signatures, its Message API, its refusals.

* ``sign_like_plivo`` signs a webhook as Plivo does (``X-Plivo-Signature-V3``),
  written from the algorithm Plivo's SDKs implement (plivo-python
  ``plivo/utils/signature_v3.py``, plivo-go ``ComputeSignatureV3``, read
  2025), not with the SDK: the adapter's check, which is the SDK's, is then
  tested against an independent signer.
* ``FakePlivo`` is a real HTTP server on 127.0.0.1 playing Plivo's Message
  API as documented in "Send a message" and "API responses"
  (https://plivo.com/docs/messaging/api/message/send-a-message and
  https://plivo.com/docs/messaging/api/response, read 2025): ``POST
  /v1/Account/{auth_id}/Message/``, HTTP basic auth with the Auth ID and
  token, a JSON body whose fields are checked against the documented ones
  (src or powerpack_uuid, dst, text, type, media_urls, url, method, log,
  ...), answered 202 with ``api_id``, ``message`` and ``message_uuid``. A
  request the description forbids gets Plivo's error shape, 400
  ``{"api_id", "error"}``; so does an invalid destination, in the words
  Plivo's API uses for one (quoted in plivo/plivo-node#222, 2021). Plivo
  publishes no OpenAPI description of its API to build this from.

An opted-out recipient is not refused by Plivo's API: it queues the text and
fails it in a status callback (error 200, "Source number blocked by STOP from
destination number", Plivo's SMS error codes page). ``FakePlivo`` accepts such
a send like any other; tests/carriers/test_contract_plivo.py then delivers the
callback Plivo would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TEST_AUTH_ID = "MA" + "X" * 18  # Plivo's shape: MA (or SA) and 18 characters
TEST_AUTH_TOKEN = "tests-only-plivo-auth-token"

MESSAGE_PATH = re.compile(r"^/v1/Account/((?:MA|SA)[A-Z0-9]{18})/Message/$")
FIELDS = {
    "src", "powerpack_uuid", "dst", "text", "type", "media_urls", "media_ids",
    "url", "method", "log", "trackable", "message_expiry", "template",
    "interactive", "location", "dlt_entity_id", "dlt_template_id",
    "dlt_template_category",
}  # fmt: skip
# "/, -, ., +, (, ), and white spaces" are stripped from numbers.
SANITIZED = re.compile(r"[/\-.+()\s]")


def sign_like_plivo(url: str, fields: dict, nonce: str, token: str) -> str:
    """The X-Plivo-Signature-V3 Plivo sends with a POST of ``fields`` to ``url``:
    base64 HMAC-SHA256, keyed by the auth token, of the URL without its query,
    ``?``, the query's pairs sorted (``k=v`` joined by ``&``) and a ``.`` when
    there are both, the POST fields sorted (``kv`` run together), then ``.``
    and the nonce."""
    parts = urlsplit(url)
    signed = f"{parts.scheme}://{parts.netloc}{parts.path}"
    query = "&".join(
        f"{key}={value}"
        for key, values in sorted(parse_qs(parts.query, keep_blank_values=True).items())
        for value in sorted(values)
    )
    posted = "".join(
        f"{key}{value}"
        for key in sorted(fields)
        for value in sorted(_values(fields[key]))
    )
    if query or posted:
        signed += "?" + query + ("." if query and posted else "") + posted
    digest = hmac.new(
        token.encode(), f"{signed}.{nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def _values(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def refusal(body: dict) -> str:
    """Why Plivo's API would refuse this send ('' when it would not)."""
    unknown = set(body) - FIELDS
    if unknown:
        return f"unexpected parameters: {', '.join(sorted(unknown))}"
    if ("src" in body) == ("powerpack_uuid" in body):
        return "specify either src or powerpack_uuid"
    kind = body.get("type", "sms")
    if kind not in ("sms", "mms", "whatsapp"):
        return f"invalid type: {kind!r}"
    for name in ("src", "dst", "text", "url", "method", "powerpack_uuid"):
        if name in body and not isinstance(body[name], str):
            return f"{name} must be a string"
    if not body.get("dst"):
        return "dst is required"
    for number in body["dst"].split("<"):
        digits = SANITIZED.sub("", number)
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 14):
            return f"'{number}' is not a valid phone number."
    if kind == "sms" and not body.get("text"):
        return "text is required for an SMS"
    if len(body.get("text", "")) > 1600:
        return "text is longer than 1600 characters"
    media = body.get("media_urls")
    if kind == "mms" and not (media or body.get("media_ids")):
        return "media_urls or media_ids is required for an MMS"
    if media is not None:
        if not isinstance(media, list) or len(media) > 10:
            return "media_urls must be a list of at most 10 URLs"
        if not all(isinstance(u, str) and u.startswith("http") for u in media):
            return "media_urls must be URLs"
    if "url" in body and not re.match(r"^https?://", body["url"]):
        return "url must be an http(s) URL"
    if body.get("method", "POST") not in ("GET", "POST"):
        return "method must be GET or POST"
    return ""


class FakePlivo:
    """Plivo's Message API on 127.0.0.1: checks each send, records it, answers.

    ``invalid`` holds destinations it refuses as Plivo refuses an invalid
    number; ``answers`` (``(status, json_body)``, or ``"hang"`` to never
    answer) overrides the next answers. Each recorded request has ``path``,
    ``json`` and, once accepted, the ``message_uuid`` given.
    """

    def __init__(self, auth_id: str = TEST_AUTH_ID, token: str = TEST_AUTH_TOKEN):
        self.invalid: set[str] = set()
        self.answers: list = []
        self.requests: list[dict] = []
        self._release = threading.Event()
        expected_auth = (
            "Basic " + base64.b64encode(f"{auth_id}:{token}".encode()).decode()
        )
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                record = {"path": self.path, "json": None}
                fake.requests.append(record)
                if fake.answers:
                    answer = fake.answers.pop(0)
                    if answer == "hang":
                        fake._release.wait(30)
                        return
                    self.reply(*answer)
                    return
                path = MESSAGE_PATH.match(self.path)
                if not path:
                    self.reply(404, {"error": "not found"})
                    return
                if self.headers.get("Authorization") != expected_auth or (
                    path.group(1) != auth_id
                ):
                    self.reply(401, {"error": "authentication failed"})
                    return
                if not self.headers.get("Content-Type", "").startswith(
                    "application/json"
                ):
                    self.reply(400, {"error": "expected a JSON body"})
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self.reply(400, {"error": "the body is not JSON"})
                    return
                record["json"] = body
                why = refusal(body) if isinstance(body, dict) else "not an object"
                if not why and body["dst"] in fake.invalid:
                    why = f"'{body['dst']}' is not a valid phone number."
                if why:
                    self.reply(400, {"error": why})
                    return
                record["message_uuid"] = str(uuid.uuid4())
                self.reply(
                    202,
                    {
                        "message": "message(s) queued",
                        "message_uuid": [record["message_uuid"]],
                    },
                )

            def reply(self, status, payload):
                payload = {"api_id": str(uuid.uuid4()), **payload}
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
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def accepted(self) -> list[dict]:
        """The sends it queued, in order."""
        return [r for r in self.requests if "message_uuid" in r]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

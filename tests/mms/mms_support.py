"""Helpers for the MMS tests: real images, a media host that demands basic
auth (as Twilio's API does for media), and multipart forms."""

from __future__ import annotations

import base64
import re
import struct
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.carriers.twilio_support import INBOUND, inbound, post_twilio
from tests.twilio_mock import TEST_SID

# Real images, as phones send them (an 8x8 JPEG, a 2x2 GIF, PNGs made below).
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIf"
    "IiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7"
    "Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAIAAgDASIA"
    "AhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQA"
    "AAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3"
    "ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWm"
    "p6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEA"
    "AwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSEx"
    "BhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElK"
    "U1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3"
    "uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDJooor"
    "xD7o/9k="
)
GIF = base64.b64decode("R0lGODdhAgACAIEAABSgKAAAAAAAAAAAACwAAAAAAgACAAAIBgABCAQQEAA7")
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


def png(width: int = 24, height: int = 16, rgb=(37, 99, 235)) -> bytes:
    """A real PNG of one colour (a browser shows it at width x height)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def media_path(name: str) -> str:
    """A media URL's path on Twilio's API, for our test account."""
    return f"/2010-04-01/Accounts/{TEST_SID}/Messages/MM{uuid.uuid4().hex}/Media/{name}"


@dataclass
class Answer:
    """What the media host answers for one path: a status, headers, and a
    body (bytes, or chunks sent one by one without a Content-Length)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Callable[[], Iterable[bytes]] = b""


class MediaHost:
    """A real HTTP server on 127.0.0.1 playing a carrier's media host.

    With ``credentials`` it demands HTTP basic auth, as Twilio's API does for
    media. It records every request (path and Authorization header) and, for
    streamed answers, how many bytes it managed to send.
    """

    def __init__(
        self,
        credentials: tuple[str, str] | None = None,
        authorized: Callable[[str | None], bool] | None = None,
    ):
        """``credentials``: the basic-auth pair it wants; or ``authorized``,
        a check of the Authorization header (a bearer token, a JWT)."""
        self.answers: dict[str, Answer] = {}
        self.requests: list[dict] = []
        self.streamed: dict[str, int] = {}
        self.credentials_header = (
            "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
            if credentials
            else None
        )
        if authorized is None and self.credentials_header:
            authorized = self.credentials_header.__eq__
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's naming)
                auth = self.headers.get("Authorization")
                host.requests.append({"path": self.path, "authorization": auth})
                if authorized is not None and not authorized(auth):
                    self.reply(401, {"WWW-Authenticate": 'Basic realm="media"'}, b"")
                    return
                answer = host.answers.get(self.path, Answer(404))
                if callable(answer.body):
                    self.stream(answer)
                else:
                    self.reply(answer.status, answer.headers, answer.body)

            def reply(self, status, headers, body):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def stream(self, answer):
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent = 0
                try:
                    for piece in answer.body():
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        sent += len(piece)
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass  # the client hung up: the point of the test
                finally:
                    host.streamed[self.path] = sent
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body, content_type: str = "", **kw) -> str:
        """Serve ``body`` at ``path``; returns the full URL."""
        headers = {"Content-Type": content_type} if content_type else {}
        headers.update(kw.pop("headers", {}))
        self.answers[path] = Answer(kw.pop("status", 200), headers, body)
        return self.url + path

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def twilio_mms(client, to, from_, media, body="Here it is", sid=None):
    """POST a signed Twilio inbound webhook naming ``media`` ([(url, type)])."""
    params = inbound(
        MessageSid=sid or "MM" + uuid.uuid4().hex,
        From=from_,
        To=to,
        Body=body,
        NumMedia=str(len(media)),
    )
    for index, (url, kind) in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = kind
    return post_twilio(client, INBOUND, params)


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]):
    """A multipart/form-data body: ``files`` as (field, filename, bytes, type).
    Returns (body, content type header)."""
    boundary = "----mms" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, filename, content, kind in files:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class RecordingProxy:
    """A real HTTP proxy in front of another server (Prism's mock of Twilio):
    forwards each POST and records its body as the SDK sent it, so a test
    sees what went out while the mock still checks it against Twilio's API.

    One rewrite: Twilio (and its SDK) repeat ``MediaUrl`` once per image,
    which Prism 5 reads as one value overriding the last and refuses as "not
    an array" (stoplightio/prism#2473); it accepts ``MediaUrl[]``.
    """

    def __init__(self, target: str):
        import urllib.error
        import urllib.request

        self.requests: list[dict] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                proxy.requests.append({"path": self.path, "body": body.decode()})
                for_prism = re.sub(rb"(^|&)MediaUrl=", rb"\1MediaUrl%5B%5D=", body)
                forwarded = urllib.request.Request(
                    target + self.path,
                    data=for_prism,
                    headers={
                        name: self.headers[name]
                        for name in ("Authorization", "Content-Type", "Accept")
                        if self.headers.get(name)
                    },
                )
                try:
                    with urllib.request.urlopen(forwarded, timeout=30) as answer:
                        status, data = answer.status, answer.read()
                        kind = answer.headers.get("Content-Type", "")
                except urllib.error.HTTPError as exc:
                    status, data = exc.code, exc.read()
                    kind = exc.headers.get("Content-Type", "")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

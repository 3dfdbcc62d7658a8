"""Twilio, as far as tests can have it: its signatures, its API, its errors.

* ``sign_like_twilio`` signs a webhook exactly as Twilio does (the SDK's own
  ``RequestValidator``, itself checked against Twilio's published vectors in
  tests/carriers/test_twilio_webhooks.py).
* ``twilio_api`` (session fixture) is Prism serving Twilio's own OpenAPI
  description: the real ``twilio`` SDK sends to it, and it answers with
  Twilio's response shapes and refuses requests the description forbids.
* ``twilio_errors`` is a tiny HTTP server that answers the way Twilio answers
  when it refuses a message (its error JSON, 429, 5xx) or never answers at
  all: Prism cannot, since the description holds no error responses.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.servers import ROOT, free_port

PRISM = ROOT / "var" / "prism" / "node_modules" / ".bin" / "prism"
SPEC_NAME = "twilio_api_v2010.json"
TEST_SID = "AC" + "0" * 32


def sign_like_twilio(url: str, params: dict, token: str) -> str:
    """The X-Twilio-Signature Twilio would send with these POST fields."""
    return RequestValidator(token).compute_signature(url, params)


def twilio_spec() -> Path | None:
    """Twilio's OpenAPI description: $TWILIO_OPENAPI_SPEC, or the copy shared
    beside this checkout (../shared/twilio/)."""
    candidates = [
        os.environ.get("TWILIO_OPENAPI_SPEC", ""),
        ROOT.parent / "shared" / "twilio" / SPEC_NAME,
        ROOT / "var" / "twilio" / SPEC_NAME,
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def install_prism() -> bool:
    """Install Prism with bench/install-prism.sh when npm is there."""
    if PRISM.exists():
        return True
    if shutil.which("npm") is None:
        return False
    subprocess.run(
        ["bash", str(ROOT / "bench" / "install-prism.sh")],
        cwd=ROOT,
        timeout=600,
        check=False,
        capture_output=True,
    )
    return PRISM.exists()


def wait_for_prism(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until Prism answers a real Messages.json request."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{url}/2010-04-01/Accounts/{TEST_SID}/Messages.json",
        data=b"To=%2B14155550123&From=%2B14155550100&Body=ping",
        headers={"Authorization": "Basic QUM6dG9rZW4="},
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prism exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 201:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"prism did not answer on {url} within {timeout}s")


@pytest.fixture(scope="session")
def twilio_api():
    """The base URL of a Prism mock of Twilio's REST API, for the session."""
    from tests.conftest import require_or_skip

    spec = twilio_spec()
    if spec is None:
        require_or_skip(
            f"Twilio's OpenAPI description ({SPEC_NAME}) not found: set "
            "TWILIO_OPENAPI_SPEC"
        )
    if not install_prism():
        require_or_skip("npm/Prism missing: run bench/install-prism.sh")
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="prism-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [str(PRISM), "mock", "-d", "-h", "127.0.0.1", "-p", str(port), str(spec)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_prism(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        os.unlink(log.name)


class FakeTwilio:
    """Answers each POST with the next planned answer, and records requests.

    An answer is ``(status, json_body)``, or ``"hang"`` (accept, read the
    request, never answer: a read timeout for the client).
    """

    def __init__(self) -> None:
        self.answers: list = []
        self.requests: list[dict] = []
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                fake.requests.append({"path": self.path, "body": body})
                answer = fake.answers.pop(0) if fake.answers else (500, {})
                if answer == "hang":
                    fake._release.wait(30)
                    return
                status, payload = answer
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

    def release(self) -> None:
        """End the requests left hanging (their clients see no answer)."""
        self._release.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio_errors():
    """A fake Twilio that answers as the test plans (see FakeTwilio)."""
    fake = FakeTwilio()
    yield fake
    fake.close()


def closed_port_url() -> str:
    """A URL on which nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"

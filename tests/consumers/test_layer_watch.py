"""Redis restarted under an open console: the text that arrived meanwhile still
shows up, without the console reconnecting (consumers/layer_watch.py).

A real Daphne on a redis-server of the test's own, killed and started again;
the text comes in as a signed Twilio webhook. Takes about 15 seconds."""

import asyncio
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
import uuid

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import require_or_skip
from tests.servers import Browserless, free_port, wait_for_port

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TOKEN = "layer-watch-test-token"
BASE = "https://chat.example.com"
TWILIO_NUMBER = "+14155550101"
LEAD = "+12125550142"


class RedisServer:
    """A redis-server this test may kill and start again on the same port."""

    def __init__(self, workdir):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            require_or_skip("redis-server is not installed")
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def text_in(server, body: str) -> int:
    """POST an inbound text signed as Twilio signs it; returns the status."""
    path = "/carriers/twilio/inbound"
    sid = "SM" + uuid.uuid4().hex
    form = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": LEAD,
        "To": TWILIO_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    request = urllib.request.Request(
        server.url + path,
        data=urllib.parse.urlencode(form).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status


async def until_text(ws, body: str, timeout: float) -> dict:
    """Frames until a message.created with this body (TimeoutError if none)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message.created" and frame["message"]["body"] == body:
                return frame


async def test_a_text_that_arrives_while_redis_restarts_reaches_the_open_console(
    stack, tmp_path
):
    from websockets.asyncio.client import connect

    redis = RedisServer(tmp_path)
    redis.start()
    try:
        stack.command("add_number", TWILIO_NUMBER, "--carrier", "twilio")
        server = stack.start_server(
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
            TWILIO_AUTH_TOKEN=TOKEN,
            PUBLIC_BASE_URL=BASE,
        )
        client = Browserless(server.url)
        client.login("alice", "alice-pass-1")
        async with connect(server.ws_url, additional_headers=client.ws_headers()) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            assert await asyncio.to_thread(text_in, server, "Before the restart") == 200
            await until_text(ws, "Before the restart", timeout=10)

            redis.kill()
            # Answered and stored although nobody can be told right now.
            assert await asyncio.to_thread(text_in, server, "During the restart") == 200
            await asyncio.sleep(1)
            redis.start()

            frame = await until_text(ws, "During the restart", timeout=15)
            assert frame["message"]["direction"] == "in"
            # Live again afterwards, on the same socket.
            assert await asyncio.to_thread(text_in, server, "After the restart") == 200
            await until_text(ws, "After the restart", timeout=10)
    finally:
        redis.kill()

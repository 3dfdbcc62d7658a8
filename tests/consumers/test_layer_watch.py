"""Redis lost messages under an open console: the text that arrived meanwhile
still shows up, without the console reconnecting.

- Redis restarted (consumers/layer_watch.py): a real Daphne on a redis-server
  of the test's own, killed and started again. About 15 seconds.
- Redis out of reach of the worker alone (chatserver.publish._Missed):
  the worker reaches Redis through a proxy the test cuts, while the Daphne
  serving the console reaches it directly. About 10 seconds.

Texts come in as signed Twilio webhooks."""

import asyncio
import shutil
import socket
import subprocess
import threading
import urllib.parse
import urllib.request
import uuid

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import require_or_skip
from tests.servers import free_port, next_of, open_console, wait_for_port

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
    """The next message.created with this body (TimeoutError if none)."""
    return await next_of(
        ws, "message.created", timeout, where=lambda f: f["message"]["body"] == body
    )


async def test_a_text_that_arrives_while_redis_restarts_reaches_the_open_console(
    stack, tmp_path
):
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        stack.command("add_number", TWILIO_NUMBER, "--carrier", "twilio")
        server = stack.start_server(
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
            TWILIO_AUTH_TOKEN=TOKEN,
            PUBLIC_BASE_URL=BASE,
        )
        _, ws, _ = await open_console(server, "alice", "alice-pass-1")
        async with ws:
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


class CuttableProxy:
    """A TCP proxy to a port on this machine, whose link the test can cut:
    every connection through it closed, new ones closed as they come."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_cut = False
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.is_cut:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self.pump, args=(source, sink), daemon=True
                ).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            end.close()

    def cut(self):
        self.is_cut = True
        with self.lock:
            for end in self.open:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()
            self.open.clear()

    def restore(self):
        self.is_cut = False

    def close(self):
        self.cut()
        self.listener.close()


async def test_a_text_the_worker_could_not_publish_reaches_the_open_console(
    stack, tmp_path
):
    """Redis stays up for the Daphne serving the console, so nothing there
    notices a gap: the worker, whose publish failed, asks for the catch-up."""
    redis = RedisServer(tmp_path)
    redis.start()
    proxy = CuttableProxy(redis.port)
    env = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": BASE,
        "WEBHOOKS_QUEUED": "true",
        "OUTBOX_IN_PROCESS": "false",
    }
    worker = None
    try:
        stack.command("add_number", TWILIO_NUMBER, "--carrier", "twilio")
        server = stack.start_server(
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/0", **env
        )
        worker = stack.start_worker(
            REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0", **env
        )
        _, ws, _ = await open_console(server, "alice", "alice-pass-1")
        async with ws:
            assert await asyncio.to_thread(text_in, server, "Before the cut") == 200
            await until_text(ws, "Before the cut", timeout=15)

            proxy.cut()
            assert await asyncio.to_thread(text_in, server, "During the cut") == 200
            # Stored and applied, but the worker cannot tell anyone yet.
            with pytest.raises(TimeoutError):
                await until_text(ws, "During the cut", timeout=3)
            proxy.restore()

            frame = await until_text(ws, "During the cut", timeout=15)
            assert frame["message"]["direction"] == "in"
            assert await asyncio.to_thread(text_in, server, "After the cut") == 200
            await until_text(ws, "After the cut", timeout=10)
    finally:
        if worker is not None:
            worker.kill()
            worker.wait(10)
        proxy.close()
        redis.kill()

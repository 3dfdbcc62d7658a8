"""A web process asked to stop (SIGTERM, a deploy) lets its consoles go first:
they are told 1012 ("service restart"), the process stops accepting and exits
once they have gone, and each console reconnects to another process and
resumes from its cursor: a text that arrives meanwhile reaches each of them
once, nothing is lost."""

import asyncio
import json
import re
import signal
import socket
import time
import uuid

import pytest
import websockets

from tests.conftest import SENDER_NUMBER
from tests.servers import Browserless, next_of, open_console, text_through_simulator

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LEAD = "+12065550166"
CONSOLES = 3


def text_from_lead(server, secret_key: str, body: str) -> int:
    return text_through_simulator(server, secret_key, LEAD, SENDER_NUMBER, body)


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


async def close_code(ws, timeout: float = 10) -> int:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006


async def reconnect(client: Browserless, server, cursor: int):
    """What socket.js does after a 1012: a new socket (here on the other
    process, as the load balancer would pick), then ``resume``; returns the
    frames up to ``resumed``."""
    headers = {**client.ws_headers(), "Origin": server.url}
    ws = await websockets.connect(server.ws_url, additional_headers=headers)
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "hello"
    await ws.send(json.dumps({"type": "resume", "cursor": cursor}))
    frames = []
    while not frames or frames[-1]["type"] != "resumed":
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    return ws, frames


async def test_sigterm_moves_consoles_to_another_process_and_loses_nothing(
    redis_url, stack
):
    shared = {
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": f"e2e{uuid.uuid4().hex[:10]}",
        "SHUTDOWN_DRAIN_SECONDS": "8",
    }
    leaving = stack.start_server(**shared)
    staying = stack.start_server(**shared)
    secret = stack.env["SECRET_KEY"]
    consoles = [
        await open_console(leaving, "alice", "alice-pass-1") for _ in range(CONSOLES)
    ]
    assert await asyncio.to_thread(text_from_lead, staying, secret, "Before") == 204
    cursors = []
    for _, ws, _ in consoles:
        cursors.append((await next_of(ws, "message.created"))["cursor"])

    started = time.monotonic()
    leaving.process.send_signal(signal.SIGTERM)
    codes = await asyncio.gather(*(close_code(ws) for _, ws, _ in consoles))
    assert codes == [1012] * CONSOLES, leaving.log()
    assert await asyncio.to_thread(refuses_connections, leaving.port)

    # A lead texts while the consoles are away.
    assert await asyncio.to_thread(text_from_lead, staying, secret, "During") == 204
    assert await asyncio.to_thread(leaving.process.wait, 10) == 0
    assert time.monotonic() - started < 8  # drained, not timed out
    assert "drained in" in leaving.log()

    for (client, _, _), cursor in zip(consoles, cursors, strict=True):
        ws, frames = await reconnect(client, staying, cursor)
        created = [f for f in frames if f["type"] == "message.created"]
        # The text that came meanwhile, once; the one before, not again.
        assert [f["message"]["body"] for f in created] == ["During"]
        # Only what came after the console's cursor is replayed.
        assert all(f["cursor"] > cursor for f in frames if "cursor" in f)
        await ws.close()


def test_a_console_slow_to_answer_the_restarts_close_is_let_go_cleanly(stack):
    """A console busy (or still reading a backlog of frames) answers the
    drain's close frame late: the server waits for it, within the drain's
    bound, instead of cutting the socket after autobahn's 1 s, which lost the
    1012 of 943 of 2,000 consoles in a storm (they came back at once,
    without their jitter)."""
    from websockets.client import ClientProtocol
    from websockets.frames import Opcode
    from websockets.uri import parse_uri

    server = stack.start_server(SHUTDOWN_DRAIN_SECONDS="8")
    client = Browserless(server.url)
    client.login("alice", "alice-pass-1")
    protocol = ClientProtocol(parse_uri(server.ws_url))
    request = protocol.connect()
    request.headers.update(client.ws_headers())
    protocol.send_request(request)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:

        def frames():
            """What the server sends, as the socket reads it (only here)."""
            while True:
                data = sock.recv(65536)
                protocol.receive_data(data)
                yield from protocol.events_received()
                if not data:
                    return

        sock.sendall(b"".join(protocol.data_to_send()))
        received = frames()
        assert next(received).status_code == 101
        hello = next(received)
        assert json.loads(hello.data)["type"] == "hello"
        server.process.send_signal(signal.SIGTERM)
        close = next(f for f in received if f.opcode is Opcode.CLOSE)
        assert protocol.close_rcvd.code == 1012, close

        time.sleep(2.5)  # busy: the console's reply to the close goes late
        # The socket is still there to take it (one the server had cut would
        # answer with a reset), and the drain waited for it.
        sock.sendall(b"".join(protocol.data_to_send()))
    assert server.process.wait(10) == 0
    drained = re.search(r"drained in ([\d.]+) s", server.log())
    assert drained and float(drained.group(1)) >= 2.5, server.log()

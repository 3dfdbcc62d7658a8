"""A web process asked to stop (SIGTERM, a deploy) lets its consoles go first:
they are told 1012 ("service restart"), the process stops accepting and exits
once they have gone, and each console reconnects to another process and
resumes from its cursor: a text that arrives meanwhile reaches each of them
once, nothing is lost."""

import asyncio
import json
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

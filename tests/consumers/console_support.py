"""Helpers for the console socket's tests: logged-in WebsocketCommunicators
on the real WebSocket stack (origin check, session auth, the consumer)."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from consumers.urls import websocket_application

SITE = "testserver"
ORIGIN = f"http://{SITE}"
_numbers = itertools.count()
# Frames a socket sends of its own accord about other features (the lead
# buckets' counts): tests of this protocol look past them.
IGNORED = frozenset({"buckets.changed"})


def lead_number() -> str:
    """A fresh fictional number for a lead (Denver's 555-01xx range)."""
    return f"+1303555{100 + next(_numbers) % 100:04d}"


@pytest.fixture(
    name="layer",
    params=["memory", pytest.param("redis", marks=pytest.mark.integration)],
)
def channel_layer_fixture(request):
    """Run the test on the in-memory channel layer, then on Redis (PubSub)."""
    if request.param == "redis":
        request.getfixturevalue("redis_layer")
        isolate_redis_layer(request.getfixturevalue("settings"))
    return request.param


def isolate_redis_layer(settings) -> None:
    """A prefix of this test's own on Redis: other test runs sharing the
    server (Pub/Sub channels span all its databases) cannot cross-talk."""
    from channels.layers import channel_layers

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {**config, "prefix": f"t{uuid.uuid4().hex[:12]}"},
        }
    }
    channel_layers.backends.clear()


def session_cookie(agent) -> str:
    """A logged-in session of the agent's user, as its cookie value."""
    client = Client()
    client.force_login(agent.user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def communicator(cookie: str | None = None, origin: str | None = ORIGIN, host=SITE):
    """A socket to /ws/console/ as a browser on our page opens it."""
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(websocket_application, "/ws/console/", headers)


class Console:
    """One connected console socket: the frames it received, and helpers."""

    def __init__(self, comm: WebsocketCommunicator, hello: dict):
        self.comm = comm
        self.hello = hello
        self.frames: list[dict] = []

    async def send(self, **frame):
        await self.comm.send_to(text_data=json.dumps(frame))

    async def send_text(self, text: str):
        await self.comm.send_to(text_data=text)

    async def next(self, timeout: float = 5) -> dict:
        frame = json.loads(await self.comm.receive_from(timeout))
        self.frames.append(frame)
        return frame

    async def until(self, type_: str, timeout: float = 5, **fields) -> dict:
        """The next frame of this type (and these field values); frames before
        it are kept in ``frames``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"no {type_} {fields} within {timeout}s: {self.frames}"
                )
            try:
                frame = await self.next(remaining)
            except TimeoutError:
                raise AssertionError(
                    f"no {type_} {fields} within {timeout}s: {self.frames}"
                ) from None
            if frame.get("type") == type_ and all(
                frame.get(k) == v for k, v in fields.items()
            ):
                return frame

    async def drain(self, timeout: float = 0.3) -> list[dict]:
        """Every frame that arrives until none has for ``timeout`` seconds."""
        frames = []
        while not await self.comm.receive_nothing(timeout):
            frames.append(await self.next())
        return frames

    async def quiet(self, timeout: float = 0.3, ignore=IGNORED) -> None:
        """Assert that nothing more arrives for a while (but frames of the
        ``ignore`` types, which a socket sends of its own accord)."""
        frames = [f for f in await self.drain(timeout) if f["type"] not in ignore]
        assert not frames, frames

    async def close(self):
        await self.comm.disconnect()


async def connect(agent) -> Console:
    """Log the agent in and open a console socket; returns it after its hello."""
    cookie = await database_sync_to_async(session_cookie)(agent)
    return await connect_with(cookie)


async def fresh_hello(agent) -> dict:
    """The hello a new socket of the agent gets now (a refresh, another device)."""
    console = await connect(agent)
    await console.close()
    return console.hello


async def connect_with(cookie: str) -> Console:
    comm = communicator(cookie)
    connected, _ = await comm.connect()
    assert connected
    hello = json.loads(await comm.receive_from(5))
    assert hello["type"] == "hello", hello
    return Console(comm, hello)


def db(func):
    """Run a database function from an async test (in a worker thread)."""
    return database_sync_to_async(func)

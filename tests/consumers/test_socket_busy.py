"""A console is never refused because the server is busy: a database that
cannot answer while a socket says hello (its pool exhausted by a reconnect
storm, a restart) closes the socket with 1013, "try again later", and the
console comes back; only a missing login or seat closes it for good."""

import pytest
from django.db import OperationalError

from chatserver import metrics
from chatserver.queries import console as console_state
from consumers import console
from consumers.lifecycle import CLOSE_TRY_AGAIN
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    communicator,
    connect_with,
    db,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)

POOL_TIMEOUT = OperationalError("couldn't get a connection after 10.00 sec")


async def close_code(comm) -> int:
    connected, _ = await comm.connect()
    assert connected
    output = await comm.receive_output(5)
    assert output["type"] == "websocket.close", output
    return output["code"]


def tried_again() -> float:
    return metrics.SOCKETS_CLOSED.labels("try_again")._value.get()


@pytest.mark.parametrize("busy_step", ["login", "hello"])
async def test_a_busy_database_asks_the_console_to_come_back(
    alice, monkeypatch, busy_step
):
    cookie = await db(session_cookie)(alice)
    before = tried_again()

    def busy(*args, **kwargs):
        raise POOL_TIMEOUT

    if busy_step == "login":
        monkeypatch.setattr(console, "read_seat", busy)
    else:
        monkeypatch.setattr(console_state, "hello", busy)
    assert await close_code(communicator(cookie)) == CLOSE_TRY_AGAIN
    assert tried_again() == before + 1

    monkeypatch.undo()
    back = await connect_with(cookie)  # the console comes back, and is greeted
    assert back.hello["agent"]["username"] == "alice"
    await back.close()


async def test_open_sockets_are_counted_while_open(alice):
    cookie = await db(session_cookie)(alice)
    before = metrics.SOCKETS._value.get()
    first = await connect_with(cookie)
    second = await connect_with(cookie)
    assert metrics.SOCKETS._value.get() == before + 2
    await first.close()
    await second.close()
    assert metrics.SOCKETS._value.get() == before

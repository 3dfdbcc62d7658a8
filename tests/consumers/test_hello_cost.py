"""What a console's ``hello`` costs the database: the figure that bounds how
fast a process greets thousands of consoles reconnecting at once (a deploy,
docs/performance.md). Everything a socket reads between its handshake and its
hello: the session, the user, the agent seat, the state."""

import time

import pytest
from channels.auth import UserLazyObject
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chatserver import actions
from chatserver.queries import console
from chatserver.models.sessions import SessionStore
from consumers.auth import read_seat
from tests.conftest import fictional_number
from tests.consumers.console_support import session_cookie

pytestmark = pytest.mark.django_db


def greet(cookie: str) -> dict:
    """What ``ConsoleConsumer.greet`` reads, in the order it reads it."""
    _, agent = read_seat({"session": SessionStore(cookie), "user": UserLazyObject()})
    return console.hello(agent)


def cost(cookie: str) -> tuple[int, float, dict]:
    """Statements of one hello, the median milliseconds of five, the hello."""
    greet(cookie)  # warm: content types, the first connection
    with CaptureQueriesContext(connection) as queries:
        hello = greet(cookie)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        greet(cookie)
        times.append(time.perf_counter() - started)
    return len(queries), sorted(times)[2] * 1000, hello


def test_a_hello_costs_the_same_statements_however_many_conversations(
    alice, make_agent, text_in
):
    cookie = session_cookie(alice)
    text_in("First", from_number=fictional_number())
    few, few_ms, hello = cost(cookie)
    assert len(hello["conversations"]) == 1

    bob = make_agent("bob")
    for n in range(30):
        message = text_in(f"Lead {n}", from_number=fictional_number())
        if n % 3 == 0:
            actions.assign_lead(message.conversation.lead, bob, actor=bob)
    many, many_ms, hello = cost(cookie)
    assert len(hello["conversations"]) == 31
    assert many == few, "statements per hello grow with the conversations (N+1)"
    # Figures for docs/performance.md, never asserted on.
    print(
        f"\nstatements per hello: {many}; {few_ms:.1f} ms with 1 conversation, "
        f"{many_ms:.1f} ms with 31 ({settings.DATABASES['default']['ENGINE']})"
    )

"""Fixtures shared by the whole suite: a small organisation, its agents and leads."""

from __future__ import annotations

import itertools
import os
import uuid

import pytest
from django.conf import settings

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.models import Agent, Consent, Organisation
from tests.twilio_mock import twilio_api, twilio_errors  # noqa: F401 (fixtures)

SENDER_NUMBER = "+14155550100"
_numbers = itertools.count(110)


def fictional_number() -> str:
    """A fresh fictional North American number (555-01xx is for fiction)."""
    n = next(_numbers)
    area = ["415", "212", "312", "617", "206", "303", "512", "702"][n // 90 % 8]
    return f"+1{area}5550{100 + n % 90:03d}"


@pytest.fixture
def org(db) -> Organisation:
    return actions.add_organisation("Acme Roofing")


@pytest.fixture
def sender(org):
    return actions.add_number(SENDER_NUMBER, "simulator", org)


@pytest.fixture
def make_agent(org):
    def make(username=None, access=Agent.Access.ALL, sms="allow", organisation=None, **kw):
        username = username or f"agent{uuid.uuid4().hex[:8]}"
        return actions.add_agent(
            username, "pw-" + username, organisation or org, access=access, sms=sms, **kw
        )

    return make


@pytest.fixture
def alice(make_agent) -> Agent:
    return make_agent("alice", first_name="Alice")


@pytest.fixture
def bob(make_agent) -> Agent:
    return make_agent("bob", access=Agent.Access.MINE, first_name="Bob")


@pytest.fixture
def text_in(sender):
    """Deliver an inbound text as a carrier would; returns the stored message."""

    def deliver(body="Hello", from_number=None, to_number=None, carrier="simulator", sid=None):
        return actions.receive_inbound(
            InboundMessage(
                carrier=carrier,
                carrier_message_id=sid or f"SM{uuid.uuid4().hex}",
                from_number=from_number or fictional_number(),
                to_number=to_number or sender.number,
                body=body,
            )
        )

    return deliver


@pytest.fixture
def conversation(text_in):
    """A conversation started by a lead texting in (so consent is given)."""
    return text_in("Hi, I need a quote").conversation


@pytest.fixture
def authorized(org):
    def authorize(number):
        Consent.objects.update_or_create(
            organisation=org, number=number, defaults={"state": Consent.State.AUTHORIZED}
        )

    return authorize


@pytest.fixture
def redis_url():
    url = settings.TEST_REDIS_URL
    if not url:
        require_or_skip("REDIS_URL is not set: no Redis to test against")
    return url


@pytest.fixture
def redis_layer(settings, redis_url):
    """Switch the channel layer to the production one, on a real Redis."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": redis_url, "socket_timeout": None}]},
        }
    }
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets an empty channel layer."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def fresh_hello_snapshots():
    """Each test starts with no shared hello (chatserver.queries.snapshot):
    a test database may give its organisation an id an earlier test's had."""
    from chatserver.queries import snapshot

    snapshot.forget()
    yield


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache (no login failures counted)."""
    from django.core.cache import cache

    cache.clear()
    yield


def require_or_skip(reason: str) -> None:
    """Skip a test whose service or tool is missing; in CI (REQUIRE_REAL_SERVICES)
    fail instead, since there nothing may skip."""
    if os.environ.get("REQUIRE_REAL_SERVICES"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is a failed one: every part must really run there."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("REQUIRE_REAL_SERVICES") and report.skipped and not hasattr(
        report, "wasxfail"
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may skip: {report.longrepr}"


@pytest.fixture
def stack():
    """A fresh database for real server processes (tests/servers.py), with an
    organisation, two agents (alice: all leads; bob: his own) and a simulator
    number, made by the real commands."""
    from tests.servers import make_stack

    stack = make_stack()
    try:
        stack.command("add_org", "Acme Roofing")
        stack.command("add_agent", "alice", "--password", "alice-pass-1", "--access", "all",
                      "--sms", "allow", "--admin", "--first-name", "Alice")
        stack.command("add_agent", "bob", "--password", "bob-pass-1", "--access", "mine",
                      "--sms", "allow", "--first-name", "Bob")
        stack.command("add_number", SENDER_NUMBER, "--carrier", "simulator")
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, whose drop at the end must not find it
    still in use: the sockets' database threads (consumers/db.py) may each
    hold a connection to it, so each closes its own first."""
    yield
    import threading

    from django.db import connections

    from consumers.db import DATABASE_THREADS, _database_threads

    # One task per thread: each waits at the barrier until all are running,
    # so no thread takes two and every thread's connection is closed.
    barrier = threading.Barrier(DATABASE_THREADS)

    def close_own():
        barrier.wait(10)
        connections.close_all()

    for task in [_database_threads.submit(close_own) for _ in range(DATABASE_THREADS)]:
        task.result(15)

"""Sign-ins are throttled against guessing: too many failures for a username,
or from one address, and further attempts are refused for a while without
the password being looked at, on both sign-in forms."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client

from chatserver.web import login as throttle
from tests.conftest import require_or_skip

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery"


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    settings.LOGIN_THROTTLE_SECONDS = 600
    return settings


@pytest.fixture
def victim(org):
    from chatserver import actions

    return actions.add_agent("vera", PASSWORD, org, access="all", admin=True)


def sign_in(
    username, password, address="203.0.113.7", path="/accounts/login/", **extra
):
    client = Client()
    response = client.post(
        path,
        {"username": username, "password": password, "next": "/"},
        REMOTE_ADDR=address,
        **extra,
    )
    return response, client


def signed_in(response, client) -> bool:
    return response.status_code == 302 and "_auth_user_id" in client.session


def test_a_guessed_username_is_locked_even_for_the_right_password(limits, victim):
    for _ in range(3):
        response, _ = sign_in("vera", "wrong")
        assert response.status_code == 200
        assert b"didn&#x27;t match" in response.content or b"match" in response.content

    response, client = sign_in("vera", PASSWORD)

    assert response.status_code == 429
    assert not signed_in(response, client)
    assert "Too many failed sign-ins" in response.content.decode()
    assert int(response["Retry-After"]) == 600
    # The lock is on the username, whatever the address or the case typed.
    response, client = sign_in("VERA", PASSWORD, address="198.51.100.9")
    assert response.status_code == 429
    # Other people sign in as usual.
    from chatserver import actions

    actions.add_agent("walt", PASSWORD, victim.organisation)
    assert signed_in(*sign_in("walt", PASSWORD))


def test_one_address_guessing_many_usernames_is_locked_out(limits, victim):
    for n in range(6):
        response, _ = sign_in(f"user{n}", "guess", address="192.0.2.50")
        assert response.status_code == 200

    response, client = sign_in("vera", PASSWORD, address="192.0.2.50")
    assert response.status_code == 429 and not signed_in(response, client)
    # The same person from elsewhere is fine.
    assert signed_in(*sign_in("vera", PASSWORD, address="192.0.2.51"))


def test_a_successful_sign_in_clears_its_usernames_count(limits, victim):
    for _ in range(2):
        sign_in("vera", "wrong", address="192.0.2.60")
    assert signed_in(*sign_in("vera", PASSWORD, address="192.0.2.61"))
    for _ in range(2):
        response, _ = sign_in("vera", "wrong", address="192.0.2.62")
        assert response.status_code == 200
    assert signed_in(*sign_in("vera", PASSWORD, address="192.0.2.63"))


def test_the_lock_lifts_when_the_window_has_passed(limits, victim):
    limits.LOGIN_THROTTLE_SECONDS = 1
    for _ in range(3):
        sign_in("vera", "wrong")
    assert sign_in("vera", PASSWORD)[0].status_code == 429
    time.sleep(1.2)
    assert signed_in(*sign_in("vera", PASSWORD))


def test_the_admins_sign_in_form_shares_the_same_counts(limits, victim):
    for _ in range(2):
        sign_in("vera", "wrong", path="/admin/login/")
    sign_in("vera", "wrong")  # and one on the console's form
    response, client = sign_in("vera", PASSWORD, path="/admin/login/?next=/admin/")
    assert response.status_code == 429 and not signed_in(response, client)
    response, _ = sign_in("vera", PASSWORD)
    assert response.status_code == 429


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(limits, victim):
    """Behind one proxy (PROXY_COUNT=1) the proxy's own entry, the last one, is
    the client: whatever the client writes before it changes nothing."""
    limits.PROXY_COUNT = 1
    for n in range(6):
        forged = f"10.9.8.{n}, 203.0.113.99"
        sign_in(f"user{n}", "guess", address="10.0.0.2", HTTP_X_FORWARDED_FOR=forged)
    response, _ = sign_in(
        "vera",
        PASSWORD,
        address="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.99",
    )
    assert response.status_code == 429
    response, client = sign_in(
        "vera", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.100"
    )
    assert signed_in(response, client)


def test_an_ipv6_client_is_counted_by_its_64_block(limits, victim):
    for n in range(6):
        sign_in(f"user{n}", "guess", address=f"2001:db8:1:2::{n + 1:x}")
    response, _ = sign_in("vera", PASSWORD, address="2001:db8:1:2:ffff::1")
    assert response.status_code == 429
    assert signed_in(*sign_in("vera", PASSWORD, address="2001:db8:1:3::1"))


def test_throttle_keys_stay_short_whatever_is_typed(rf):
    request = rf.post("/accounts/login/", REMOTE_ADDR="not an address" * 20)
    counters = throttle.keys(request, "x" * 10_000 + "\x00")
    assert all(len(key) < 120 for key, _ in counters.values())


@pytest.mark.integration
def test_counts_live_in_redis_so_every_web_process_shares_them(
    limits, victim, settings, rf
):
    url = settings.TEST_REDIS_URL
    if not url:
        require_or_skip("REDIS_URL is not set: no Redis to test against")
    import redis

    prefix = f"throttle-test-{uuid.uuid4().hex}"  # other runs share the server
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    for _ in range(3):
        sign_in("vera", "wrong")
    response, client = sign_in("vera", PASSWORD)
    assert response.status_code == 429 and not signed_in(response, client)
    # Read back over a connection of its own, as another process would.
    counters = throttle.keys(rf.post("/", REMOTE_ADDR="203.0.113.7"), "vera")
    server = redis.Redis.from_url(url)
    try:
        stored = {
            name: server.get(f"{prefix}:1:{key}") for name, (key, _) in counters.items()
        }
        # Three failures and the refused fourth: every attempt is counted
        # before its password is (issue 16, finding 4).
        assert stored == {"username": b"4", "address": b"4"}
        assert 0 < server.ttl(f"{prefix}:1:{counters['username'][0]}") <= 600
    finally:
        server.delete(*[f"{prefix}:1:{key}" for key, _ in counters.values()])
        server.close()


def test_sign_in_says_so_when_the_rate_limiter_is_down(limits, victim, settings):
    """Issue 16, finding 6: with Redis down, sign-in answered 500. It now
    refuses with a 503 that says why (and checks no password unthrottled)."""
    from tests.twilio_mock import closed_port_url

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": closed_port_url().replace("http://", "redis://"),
        }
    }
    from django.core.cache import caches

    caches._settings = None  # rebuilt from the settings above
    try:
        del caches["default"]
    except (AttributeError, KeyError):
        pass
    response, client = sign_in("vera", PASSWORD)
    assert response.status_code == 503
    assert "unavailable for a moment" in response.content.decode()
    assert not signed_in(response, client)
    assert b'value="vera"' in response.content  # the name typed stays

"""Settings for the test suite: the project's own, with test-only defaults.

The real services come in through the environment exactly as in production
(DATABASE_URL, REDIS_URL), so CI's run exercises PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
os.environ.setdefault("TWILIO_AUTH_TOKEN", "tests-only-auth-token")
os.environ.setdefault("PUBLIC_BASE_URL", "https://chat.example.com")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,chat.example.com,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("OUTBOX_IN_PROCESS", "false")
# Results must not depend on the hour the suite runs at: quiet-hours tests
# switch them on (tests/chatserver/test_quiet_hours.py) under a frozen clock.
os.environ.setdefault("ENFORCE_QUIET_HOURS", "false")
# The send governor too (tests/chatserver/test_governor_sends.py switches it on).
os.environ.setdefault("ENFORCE_SEND_GOVERNOR", "false")

from chatserver.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests choose their channel layer: in memory unless a test asks for Redis
# (tests/conftest.py's `redis_layer`), which CI's REDIS_URL provides.
TEST_REDIS_URL = REDIS_URL  # noqa: F405
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Likewise the cache (login throttling counts): in memory and emptied for each
# test (tests/conftest.py); tests of the Redis cache switch to it themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Each test run gets its own PostgreSQL test database, so runs never collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_chatserver_{os.getpid()}"}  # noqa: F405
    # In this process, no connection pool: pytest-django wraps each test in a
    # transaction on one connection and drops the test database at the end,
    # which pooled connections held open by other threads would block. The
    # servers that end-to-end tests start run with the product's own setting
    # (the pool on), and tests/chatserver/test_settings.py checks it.
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405

# The tests' simulated phones, apart from those of `make run` (var/simulator).
SIMULATOR_DIR = VAR_DIR / "test-simulator"  # noqa: F405

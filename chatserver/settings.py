"""Settings for the SMS chat server, read once from the environment.

Without any variable set, the server runs on its embedded defaults: a SQLite file
under ``var/``, the in-memory channel layer and the simulator carrier. Production
sets ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS``,
``PUBLIC_BASE_URL`` and the carrier's credentials; see docs/operations.md.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CHATSERVER_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable; '1', 'true', 'yes' and 'on' mean yes."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list."""
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off "
            "(set SECRET_KEY, or DEBUG=true for local development)."
        )
    # A fixed development key: sessions survive restarts of `make run`.
    SECRET_KEY = "django-insecure-local-development-only"

# Where the server is reached from outside (behind a TLS proxy, say). Carrier
# signatures are computed over this URL and callbacks point at it.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL] if PUBLIC_BASE_URL else []
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "chatserver",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chatserver.web.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "chatserver.urls"
ASGI_APPLICATION = "chatserver.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded SQLite file lives here
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (the web process, the in-process outbox) write the file:
    # wait for the lock instead of failing at once, and use WAL so readers
    # never block the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_POOL", True
):
    # A pool of connections in each process. Under ASGI every request runs in
    # a thread of its own, and each database call of a socket ends by closing
    # its connection, so without a pool every webhook and every socket's
    # database call opened a new PostgreSQL connection (milliseconds each, and
    # no bound on how many: see docs/performance.md).
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them instead
    # No check before each use: it costs a round trip every time, and after
    # PostgreSQL restarted the pool's check loop slept 0.1, 0.2, 0.4 s ... per
    # dead connection, holding requests and socket handshakes for seconds. A
    # dead connection instead fails the one request that meets it (a webhook
    # answers 503 and is retried; a socket reconnects), and is replaced.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", "0")),
        "max_size": int(os.environ.get("DB_POOL_MAX_SIZE", "20")),
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "10")),
        # A process that goes quiet gives its connections back to PostgreSQL
        # (whose max_connections every process shares) within a minute.
        "max_idle": float(os.environ.get("DB_POOL_MAX_IDLE", "60")),
    }
    # psycopg_pool waits 1 s, then 2, 4, 8 s between failed attempts to open a
    # connection: after PostgreSQL came back from a short outage, requests
    # still waited seconds for one. Starting at 0.1 s, they wait about as long
    # as the outage lasted (docs/performance.md, "PostgreSQL briefly down").
    from psycopg_pool.base import AttemptWithBackoff

    AttemptWithBackoff.INITIAL_DELAY = 0.1

# The statements every text runs are prepared on PostgreSQL (parsed and
# planned once per connection: chatserver.models.prepared). Off for a
# transaction-mode pooler that cannot keep them (PgBouncer before 1.21).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DB_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # psycopg prepares nothing with Django's default (None), even when asked;
    # Django's own queries bind on the client and are never prepared.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # The PubSub layer: it does not drop group messages when a socket is slow
    # (the core layer drops at `capacity`). socket_timeout=None: redis-py 8's
    # default of 5 s would cut every idle subscription (see DESIGN.md's traps).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                # Installations sharing one Redis keep apart by prefix (Pub/Sub
                # channels ignore Redis's database numbers).
                "prefix": os.environ.get("REDIS_PREFIX", "asgi"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000},
        }
    }

# The cache holds short-lived counters (login throttling): in this process by
# default, in Redis when there is one, so every web process shares them.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("REDIS_PREFIX", "asgi"),
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# Sign-ins refused for a while after this many failures for one username, or
# from one client address (chatserver/web/login.py).
LOGIN_FAILURES_PER_USERNAME = int(os.environ.get("LOGIN_FAILURES_PER_USERNAME", "10"))
LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "50"))
LOGIN_THROTTLE_SECONDS = int(os.environ.get("LOGIN_THROTTLE_SECONDS", "900"))
# Proxies in front of the web processes that each append the address they saw
# to X-Forwarded-For: the client's address is read that many entries from the
# right (anything further left is the client's own claim). The Procfile's web
# process runs behind one (the platform's router or a TLS proxy).
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0" if DEBUG else "1"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
# Serve straight from static/ (no collectstatic needed for `make run` or tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# MMS images are stored through Django's default storage (files under
# MEDIA_ROOT unless STORAGES says otherwise) and never served from MEDIA_URL:
# only chatserver/web/media.py serves them, to agents who may see them.
# The largest image accepted, in or out (carriers take 5 MB).
MMS_MAX_BYTES = int(os.environ.get("MMS_MAX_BYTES", 5 * 1024 * 1024))
# How long the signed URL a carrier fetches an outbound image from stays valid.
MMS_URL_MAX_AGE = int(os.environ.get("MMS_URL_MAX_AGE", 2 * 60 * 60))
# Seconds a fetch of an inbound image may take before it is tried again later.
MMS_FETCH_TIMEOUT = float(os.environ.get("MMS_FETCH_TIMEOUT", "20"))

# Email: the console in development, SMTP in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chatserver@localhost")

# Carriers. The simulator needs nothing; Twilio needs its account's credentials.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
# Tests and the load harness point the SDK at a mock of Twilio's API.
TWILIO_API_URL = os.environ.get("TWILIO_API_URL", "").rstrip("/")
# Seconds a send waits for Twilio's answer. No answer in time means the text
# may have been sent: it is marked for an agent to check, never sent twice.
TWILIO_TIMEOUT = float(os.environ.get("TWILIO_TIMEOUT", "15"))
# The other gateways (docs/carriers.md). Each is offered when all of its
# required settings are set; *_API_URL points its SDK at a local mock (tests,
# the load harness).
TELNYX_API_KEY = os.environ.get("TELNYX_API_KEY", "")
TELNYX_PUBLIC_KEY = os.environ.get("TELNYX_PUBLIC_KEY", "")
TELNYX_API_URL = os.environ.get("TELNYX_API_URL", "").rstrip("/")
BANDWIDTH_ACCOUNT_ID = os.environ.get("BANDWIDTH_ACCOUNT_ID", "")
BANDWIDTH_USERNAME = os.environ.get("BANDWIDTH_USERNAME", "")
BANDWIDTH_PASSWORD = os.environ.get("BANDWIDTH_PASSWORD", "")
BANDWIDTH_APPLICATION_ID = os.environ.get("BANDWIDTH_APPLICATION_ID", "")
BANDWIDTH_CALLBACK_USERNAME = os.environ.get("BANDWIDTH_CALLBACK_USERNAME", "")
BANDWIDTH_CALLBACK_PASSWORD = os.environ.get("BANDWIDTH_CALLBACK_PASSWORD", "")
BANDWIDTH_API_URL = os.environ.get("BANDWIDTH_API_URL", "").rstrip("/")
PLIVO_AUTH_ID = os.environ.get("PLIVO_AUTH_ID", "")
PLIVO_AUTH_TOKEN = os.environ.get("PLIVO_AUTH_TOKEN", "")
PLIVO_API_URL = os.environ.get("PLIVO_API_URL", "").rstrip("/")
VONAGE_APPLICATION_ID = os.environ.get("VONAGE_APPLICATION_ID", "")
# The application's private key: the PEM text, or the path of a file holding it.
VONAGE_PRIVATE_KEY = os.environ.get("VONAGE_PRIVATE_KEY", "")
VONAGE_SIGNATURE_SECRET = os.environ.get("VONAGE_SIGNATURE_SECRET", "")
VONAGE_API_URL = os.environ.get("VONAGE_API_URL", "").rstrip("/")
# Seconds a send waits for any gateway other than Twilio (TWILIO_TIMEOUT).
CARRIER_TIMEOUT = float(os.environ.get("CARRIER_TIMEOUT", "15"))

# Where the simulated phone network keeps its phones (shared by every process
# of one installation: web and worker).
SIMULATOR_DIR = Path(os.environ.get("SIMULATOR_DIR", VAR_DIR / "simulator"))

# The outbox sends from a thread of the web process unless a separate worker
# (`chatserver run_outbox`, the Procfile's worker) does it. Either way each
# message is claimed by exactly one sender, so running both is safe.
OUTBOX_IN_PROCESS = env_bool("OUTBOX_IN_PROCESS", True)
# Answer carriers' webhooks as soon as they are stored, and leave turning them
# into messages to the worker (chatserver/actions/webhooks.py): the Procfile's
# web process, whose event loop then serves sockets instead of webhooks' SQL.
# Off, each webhook is applied before it is answered (`make run`, tests). On
# or off, a process running the outbox applies whatever receipts wait.
WEBHOOKS_QUEUED = env_bool("WEBHOOKS_QUEUED", False)
# A message still 'sending' this many seconds after it was claimed belongs to
# a sender that died: it is marked for an agent to check. Keep it well above
# the carriers' timeouts (TWILIO_TIMEOUT).
OUTBOX_SENDING_LEASE = float(os.environ.get("OUTBOX_SENDING_LEASE", "120"))

# Quiet hours (each organisation's, in the recipient's local time) hold back
# agents' texts. Only a test suite, whose results must not depend on the hour
# it runs at, switches them off; see docs/operations.md ("Compliance").
ENFORCE_QUIET_HOURS = env_bool("ENFORCE_QUIET_HOURS", True)
# The send governor (states' hours and caps, docs/compliance.md): the same.
ENFORCE_SEND_GOVERNOR = env_bool("ENFORCE_SEND_GOVERNOR", True)

# Request bodies larger than this are refused (413) before the application
# reads them (chatserver/web/bodylimit.py), and Django enforces it again on parse.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_BYTES", 1024 * 1024))
# ...except uploads of images (chatserver/web/bodylimit.py names their paths):
# one MMS's images plus its form fields.
MAX_UPLOAD_REQUEST_BYTES = MMS_MAX_BYTES + 256 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

# Seconds a WebSocket handshake may take before Daphne gives up on it (its
# --websocket_connect_timeout, when the command line leaves it at Daphne's
# 5): when thousands of consoles reconnect at once, 5 s was too short and the
# retries made the storm worse (docs/performance.md).
WEBSOCKET_HANDSHAKE_SECONDS = int(os.environ.get("WEBSOCKET_HANDSHAKE_SECONDS", "20"))
# On SIGTERM a web process closes its consoles with 1012 and waits at most
# this long for them and the requests in flight before it exits
# (consumers/draining.py).
SHUTDOWN_DRAIN_SECONDS = float(os.environ.get("SHUTDOWN_DRAIN_SECONDS", "10"))
# /metrics (chatserver/web/metrics.py) is served only to a request with this
# bearer token and/or from these addresses (CIDR blocks allowed); with
# neither set it answers 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])

# Django's database sessions, read by a query compiled once per process.
SESSION_ENGINE = "chatserver.models.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # the console reads it to send JSON writes
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# Seconds a hello's shared part (what every agent with access All sees) may
# serve other hellos that read the same cursor (chatserver.queries.snapshot):
# when thousands of consoles reconnect at once it is built once, not once
# each. 0 builds every hello afresh.
HELLO_SHARE_SECONDS = float(os.environ.get("HELLO_SHARE_SECONDS", "1"))

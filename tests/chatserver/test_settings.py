"""Settings come from the environment: embedded defaults, or the real services."""

import json
import os
import subprocess

import pytest
from channels.layers import get_channel_layer
from django.db import connection

from tests.conftest import require_or_skip
from tests.servers import BIN, ROOT

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!Qm2#pL9$vR4@wZ8^kT1&nB6*cY3(dF5)hJ0_sG2+eU9=aX4-iO7",
    "ALLOWED_HOSTS": "chat.example.com",
    "PUBLIC_BASE_URL": "https://chat.example.com",
    "DATABASE_URL": "postgres://chat:secret@db.example.com:5432/chat",
    "REDIS_URL": "redis://cache.example.com:6379/0",
}


def settings_in(env: dict) -> dict:
    """What chatserver.settings reads from this environment, in a fresh process."""
    code = (
        "import json; from chatserver import settings as s; print(json.dumps({"
        "'engine': s.DATABASES['default']['ENGINE'],"
        "'name': str(s.DATABASES['default']['NAME']),"
        "'layer': s.CHANNEL_LAYERS['default']['BACKEND'],"
        "'hosts': s.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('hosts'),"
        "'pool': s.DATABASES['default'].get('OPTIONS', {}).get('pool'),"
        "'webhooks_queued': s.WEBHOOKS_QUEUED,"
        "'debug': s.DEBUG, 'email': s.EMAIL_BACKEND}))"
    )
    base = {"PATH": os.environ["PATH"], "CHATSERVER_VAR_DIR": "/tmp/chatserver-settings-test"}
    result = subprocess.run(
        [str(BIN / "python"), "-c", code], env={**base, **env}, cwd=ROOT,
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_defaults_need_no_service():
    seen = settings_in({"DEBUG": "true"})
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["name"].endswith("db.sqlite3")
    assert seen["layer"] == "channels.layers.InMemoryChannelLayer"
    assert seen["email"].endswith("console.EmailBackend")


def test_database_and_redis_urls_switch_to_the_real_services():
    seen = settings_in(PRODUCTION_ENV)
    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["name"] == "chat"
    assert seen["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    # redis-py 8 would otherwise cut idle subscriptions every 5 s
    assert seen["hosts"] == [
        {"address": "redis://cache.example.com:6379/0", "socket_timeout": None}
    ]
    assert seen["email"].endswith("smtp.EmailBackend")


def test_postgresql_connections_come_from_a_pool_unless_switched_off():
    # Without a pool, each webhook and each socket's database call opened a
    # connection, and under load PostgreSQL refused "too many clients".
    assert settings_in(PRODUCTION_ENV)["pool"]["max_size"] == 20
    assert settings_in({**PRODUCTION_ENV, "DB_POOL": "false"})["pool"] is None
    assert settings_in({"DEBUG": "true"})["pool"] is None  # SQLite


def test_webhooks_are_applied_before_answering_unless_queued():
    assert settings_in(PRODUCTION_ENV)["webhooks_queued"] is False
    assert settings_in({**PRODUCTION_ENV, "WEBHOOKS_QUEUED": "true"})["webhooks_queued"]


def test_the_procfile_web_process_queues_webhooks_for_its_worker():
    procfile = (ROOT / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert "WEBHOOKS_QUEUED=true" in web and "OUTBOX_IN_PROCESS=false" in web
    assert any(line.startswith("worker:") for line in procfile.splitlines())


def test_secret_key_is_required_without_debug():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = subprocess.run(
        [str(BIN / "python"), "-c", "import chatserver.settings"],
        env={"PATH": os.environ["PATH"], **env}, cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_deploy_check_is_clean_in_production_settings():
    result = subprocess.run(
        [str(BIN / "chatserver"), "check", "--deploy", "--fail-level", "WARNING"],
        env={"PATH": os.environ["PATH"], **PRODUCTION_ENV}, cwd=ROOT,
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.integration
@pytest.mark.django_db
def test_the_suite_runs_on_postgresql_when_database_url_names_it():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        require_or_skip("DATABASE_URL does not name a PostgreSQL database")
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


@pytest.mark.integration
async def test_the_redis_channel_layer_carries_group_messages(redis_layer):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("settings-test", channel)
    await layer.group_send("settings-test", {"type": "hello.there", "n": 1})
    assert (await layer.receive(channel))["n"] == 1
    await layer.group_discard("settings-test", channel)

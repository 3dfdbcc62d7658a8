"""``/metrics``: a real webhook reaching a real socket moves the figures, read
through the web process from every process of the host (the worker's too);
refused to anyone without the token or from another address."""

import asyncio
import re
import urllib.request
import uuid

import pytest
from django.test import Client

from carriers import phone_network
from chatserver import actions, metrics
from chatserver.worker import loop as outbox
from tests.conftest import SENDER_NUMBER
from tests.servers import next_of, open_console, text_through_simulator

TOKEN = "metrics-test-token"


def scrape(server, token: str | None = TOKEN) -> tuple[int, str]:
    request = urllib.request.Request(f"{server.url}/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def figure(text: str, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total, found = 0.0, False
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        given = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(given.get(k) == v for k, v in labels.items()):
            total += float(match.group(3))
            found = True
    assert found, f"{name} {labels} not in the scrape"
    return total


@pytest.mark.e2e
@pytest.mark.integration
async def test_a_webhook_reaching_a_socket_moves_the_figures(redis_url, stack, tmp_path):
    env = {
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": f"e2e{uuid.uuid4().hex[:10]}",
        "OUTBOX_IN_PROCESS": "false",
        "WEBHOOKS_QUEUED": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "METRICS_TOKEN": TOKEN,
    }
    web = stack.start_server(**env)
    worker = stack.start_worker(**env)
    try:
        _, console, _ = await open_console(web, "alice", "alice-pass-1")
        status, before = await asyncio.to_thread(scrape, web)
        assert status == 200
        assert figure(before, "chatserver_console_sockets") == 1
        assert figure(before, "chatserver_outbox_depth") == 0

        status = await asyncio.to_thread(
            text_through_simulator,
            web,
            stack.env["SECRET_KEY"],
            "+12065550177",
            SENDER_NUMBER,
            "Counted?",
        )
        assert status == 204
        await next_of(console, "message.created", timeout=15)
        # The worker counts a batch once its commit returns, which the
        # socket may beat by a moment.
        for _ in range(50):
            _, after = await asyncio.to_thread(scrape, web)
            if "chatserver_webhooks_applied_total{" in after:
                break
            await asyncio.sleep(0.2)

        labels = {"carrier": "simulator", "kind": "inbound"}
        assert figure(after, "chatserver_webhooks_stored_total", **labels) == 1
        # Applied by the worker, a process of its own, read through the web's.
        assert figure(after, "chatserver_webhooks_applied_total", **labels) == 1
        assert figure(after, "chatserver_webhook_to_socket_seconds_count") == 1
        assert figure(after, "chatserver_webhook_to_socket_seconds_sum") > 0
        assert figure(after, "chatserver_webhooks_waiting") == 0

        await console.close()
        for _ in range(50):  # the server notices the close within moments
            _, closed = await asyncio.to_thread(scrape, web)
            if figure(closed, "chatserver_console_sockets") == 0:
                break
            await asyncio.sleep(0.2)
        assert figure(closed, "chatserver_console_sockets") == 0

        assert (await asyncio.to_thread(scrape, web, None))[0] == 401
        assert (await asyncio.to_thread(scrape, web, "not-the-token"))[0] == 401
    finally:
        worker.kill()
        worker.wait(10)


@pytest.mark.django_db
def test_metrics_are_not_served_unless_an_operator_set_who_may_read_them(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert Client().get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_by_address(settings):
    settings.METRICS_TOKEN = ""
    settings.PROXY_COUNT = 0
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    outsider = Client(REMOTE_ADDR="192.0.2.7").get("/metrics")
    assert outsider.status_code == 403
    inside = Client(REMOTE_ADDR="10.1.2.3").get("/metrics")
    assert inside.status_code == 200
    assert "chatserver_outbox_depth 0.0" in inside.content.decode()


@pytest.mark.django_db
def test_metrics_with_both_settings_need_both(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.PROXY_COUNT = 0
    settings.METRICS_ALLOWED_IPS = ["10.1.2.3"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert Client(REMOTE_ADDR="192.0.2.7").get("/metrics", **auth).status_code == 403
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 401
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics", **auth).status_code == 200


@pytest.mark.django_db
def test_a_login_is_no_way_in(settings, admin_client):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    assert admin_client.get("/metrics").status_code == 401


@pytest.fixture
def network(settings, tmp_path):
    settings.SIMULATOR_DIR = tmp_path / "simulator"
    return phone_network.network()


@pytest.mark.django_db
def test_sends_and_failures_are_counted_by_carrier(conversation, alice, network):
    def sends():
        return metrics.SENDS.labels("simulator")._value.get()

    def failures(kind):
        return metrics.SEND_FAILURES.labels("simulator", kind)._value.get()

    sent, retried = sends(), failures("retryable")
    actions.send_message(alice, conversation, "Going out")
    outbox.run_once()
    assert (sends(), failures("retryable")) == (sent + 1, retried)

    network.set_mode(conversation.contact_number.number, "down")
    actions.send_message(alice, conversation, "Carrier down")
    outbox.run_once()
    assert (sends(), failures("retryable")) == (sent + 2, retried + 1)

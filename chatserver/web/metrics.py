"""``GET /metrics``: the server's figures in Prometheus's text format, for
operators only (``METRICS_TOKEN`` and/or ``METRICS_ALLOWED_IPS``; with
neither set, there is no such page: 404). What is counted, and how several
processes are scraped: ``chatserver.metrics``, docs/operations.md."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from chatserver import metrics
from chatserver.queries import outbox
from chatserver.web.login import client_address
from chatserver.web.responses import plain


class OutboxCollector(Collector):
    """The outbox's depth and age, read from the database at each scrape:
    the same for every process, so none counts it on its own."""

    def collect(self):
        figures = outbox.figures()
        yield GaugeMetricFamily(
            "chatserver_outbox_depth",
            "Texts queued or being sent to a carrier.",
            value=figures.depth,
        )
        yield GaugeMetricFamily(
            "chatserver_outbox_oldest_seconds",
            "How long the oldest text waiting to go out has waited.",
            value=figures.oldest_seconds,
        )
        yield GaugeMetricFamily(
            "chatserver_webhooks_waiting",
            "Stored carrier webhooks the worker has yet to apply.",
            value=figures.webhooks_waiting,
        )


class Scrape:
    """The processes' figures and the database's, as one registry to read
    (registering the outbox's collector globally would count it twice in
    multiprocess mode, and scrapes may run at once)."""

    def __init__(self, *sources):
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def address_allowed(request: HttpRequest) -> bool:
    try:
        client = ipaddress.ip_network(client_address(request), strict=False)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_IPS:
        try:
            network = ipaddress.ip_network(allowed, strict=False)
        except ValueError:
            continue
        if client.version == network.version and client.subnet_of(network):
            return True
    return False


def token_given(request: HttpRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), settings.METRICS_TOKEN.encode()
    )


@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        return plain(404, "Not found.")
    if settings.METRICS_ALLOWED_IPS and not address_allowed(request):
        return plain(403, "Not from this address.")
    if settings.METRICS_TOKEN and not token_given(request):
        response = plain(401, "A bearer token is required.")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(Scrape(metrics.registry(), OutboxCollector()))
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response

"""The server's own figures, read from its ``/metrics`` (Prometheus's text
format, docs/operations.md "Metrics") with the bench's bearer token.

The harness starts the product with ``METRICS_TOKEN`` and a
``PROMETHEUS_MULTIPROC_DIR`` of its own, so one scrape of any web process
answers for all of them and the worker. A product without ``/metrics`` (404)
gives ``None``: the figures the clients measure stand on their own.
"""

from __future__ import annotations

import math
import re
import urllib.error
import urllib.request

TOKEN = "bench-metrics-token-not-a-secret"
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)")


def scrape(base_url: str) -> dict[str, dict[str, float]] | None:
    """Every sample: {metric name: {labels as written: value}}."""
    request = urllib.request.Request(
        base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        found = _SAMPLE.match(line)
        if found and not line.startswith("#"):
            name, labels, value = found.groups()
            out.setdefault(name, {})[labels or ""] = float(value)
    return out


def total(samples: dict | None, name: str, where: str = "") -> float | None:
    """The sum of a metric's samples (those whose labels contain ``where``)."""
    if not samples or name not in samples:
        return None
    return sum(v for labels, v in samples[name].items() if where in labels)


def histogram_quantiles(
    before: dict | None, after: dict | None, name: str, qs=(50, 99)
) -> dict | None:
    """Quantiles (ms) of what a histogram counted between two scrapes, as the
    upper bound of the bucket each falls in (what Prometheus would report)."""
    if not after or f"{name}_bucket" not in after:
        return None
    # A lead's text (the histogram is labelled by event where it is).
    text = 'event="message.created"'
    where = text if any(text in k for k in after[f"{name}_bucket"]) else ""

    def buckets(samples):
        out: dict[float, float] = {}
        for labels, value in (samples or {}).get(f"{name}_bucket", {}).items():
            if where not in labels:
                continue
            bound = re.search(r'le="([^"]+)"', labels)
            if bound:
                le = math.inf if bound.group(1) == "+Inf" else float(bound.group(1))
                out[le] = out.get(le, 0) + value
        return out

    was, now = buckets(before), buckets(after)
    counts = sorted((le, now[le] - was.get(le, 0)) for le in now)
    seen = counts[-1][1] if counts else 0
    figures: dict = {"count": int(seen)}
    for q in qs:
        rank = seen * q / 100
        bound = next((le for le, n in counts if n >= rank and n > 0), None)
        figures[f"p{q}"] = None if bound is None else round(bound * 1000, 1)
    return figures


def figures(before: dict | None, after: dict | None) -> dict | None:
    """What the server says happened between two scrapes."""
    if after is None:
        return None

    def delta(name, where=""):
        now = total(after, name, where)
        return None if now is None else now - (total(before, name, where) or 0)

    return {
        "sockets_open": total(after, "chatserver_console_sockets"),
        "sockets_connecting": total(after, "chatserver_console_sockets_connecting"),
        "sockets_closed_restart": delta(
            "chatserver_console_sockets_closed_total", 'reason="restart"'
        ),
        "sockets_closed_try_again": delta(
            "chatserver_console_sockets_closed_total", 'reason="try_again"'
        ),
        "sockets_closed_handshake_timeout": delta(
            "chatserver_console_sockets_closed_total", 'reason="handshake_timeout"'
        ),
        "webhooks_stored": delta("chatserver_webhooks_stored_total"),
        "webhooks_applied": delta("chatserver_webhooks_applied_total"),
        "webhooks_waiting": total(after, "chatserver_webhooks_waiting"),
        "outbox_depth": total(after, "chatserver_outbox_depth"),
        "webhook_to_socket_ms": histogram_quantiles(
            before, after, "chatserver_webhook_to_socket_seconds"
        ),
    }

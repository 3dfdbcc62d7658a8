"""Figures from raw timings: percentiles, timelines, losses, ratios."""

from __future__ import annotations

import math
from collections import Counter, defaultdict


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), nearest rank: a value that was measured."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def describe(values: list[float]) -> dict:
    """Count, p50, p90, p99, max and mean of some milliseconds."""
    if not values:
        return {
            "count": 0,
            "p50": None,
            "p90": None,
            "p99": None,
            "max": None,
            "mean": None,
        }
    ordered = sorted(values)

    def at(q):
        return round(ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1], 2)

    return {
        "count": len(ordered),
        "p50": at(50),
        "p90": at(90),
        "p99": at(99),
        "max": round(ordered[-1], 2),
        "mean": round(sum(ordered) / len(ordered), 2),
    }


def deliveries(sockets: list[dict], webhooks: list, start: float) -> dict:
    """What the sockets got, against what the server accepted.

    Every socket should have every accepted text once: live, or replayed when
    it resumed. ``missing`` counts (socket, text) pairs that never arrived.
    """
    accepted = {d.seq for d in webhooks if d.accepted}
    sent_at = {d.seq: d.sent for d in webhooks}
    live: list[float] = []
    resumed: list[float] = []
    missing = 0
    extra = 0
    arrivals: list[float] = []
    buckets: dict[int, list[float]] = defaultdict(list)
    missing_by_socket: Counter[int] = Counter()
    for socket in sockets:
        seen = set(socket["seqs"])
        lost = accepted - seen
        missing += len(lost)
        if lost:
            missing_by_socket[socket["index"]] = len(lost)
        extra += len(seen - accepted)
        for seq, latency, via in zip(
            socket["seqs"], socket["latency_ms"], socket["via"], strict=True
        ):
            if seq not in sent_at:
                continue
            (resumed if via else live).append(latency)
            arrivals.append(sent_at[seq] + latency / 1000)
            if not via:
                buckets[int(sent_at[seq] - start)].append(latency)
    span = (max(arrivals) - start) if arrivals else 0
    return {
        "expected": len(accepted) * len(sockets),
        "live": len(live),
        "resumed": len(resumed),
        "missing": missing,
        "sockets_missing_some": len(missing_by_socket),
        "delivered_without_an_accepted_webhook": extra,
        "latency_ms": describe(live),
        "resumed_latency_ms": describe(resumed),
        "per_second": round((len(live) + len(resumed)) / span, 1) if span else None,
        "timeline": [
            {"t": second, **{k: v for k, v in describe(values).items() if k != "mean"}}
            for second, values in sorted(buckets.items())
        ],
    }


def webhook_answers(webhooks: list, start: float) -> dict:
    """How the server answered: first answers' times, statuses and retries."""
    first = [d.first_ms for d in webhooks if d.answers and d.answers[0][0]]
    statuses = Counter(str(status) for d in webhooks for status, _ in d.answers)
    buckets: dict[int, list[float]] = defaultdict(list)
    for d in webhooks:
        if d.answers and d.answers[0][0]:
            buckets[int(d.sent - start)].append(d.first_ms)
    return {
        "sent": len(webhooks),
        "accepted": sum(1 for d in webhooks if d.accepted),
        "accepted_first_time": sum(
            1 for d in webhooks if d.answers and 200 <= d.answers[0][0] < 300
        ),
        "retried": sum(1 for d in webhooks if len(d.answers) > 1),
        "answers": dict(statuses),
        "response_ms": describe(first),
        "timeline": [
            {
                "t": second,
                "p50": percentile(v, 50),
                "p99": percentile(v, 99),
                "max": max(v),
            }
            for second, v in sorted(buckets.items())
        ],
    }


def ratio(ours: float | None, floor: float | None) -> float | None:
    """Ours divided by the floor's (how many times the floor's figure)."""
    if ours is None or not floor:
        return None
    return round(ours / floor, 2)


def cpu_per_text(resources: dict, texts: int) -> dict:
    """Server CPU (ms) per text accepted: the web processes, the worker and
    the PostgreSQL backends of the run's database (Redis apart)."""
    parts: dict = {}
    for name, figures in resources.get("processes", {}).items():
        if name in ("redis", "haproxy") or not texts:
            continue
        if figures.get("cpu_seconds") is None:
            continue
        kind = "daphne" if name.startswith("daphne") else name
        parts[kind] = parts.get(kind, 0) + figures["cpu_seconds"] * 1000 / texts
    out = {name: round(value, 2) for name, value in parts.items()}
    out["total"] = round(sum(parts.values()), 2) if parts else None
    return out

"""The figures operators scrape at ``/metrics`` (Prometheus's text format).

Each is counted where it happens: sockets and the webhook-to-socket latency in
the Daphne processes (``consumers``), webhooks stored in the process that
answers the carrier, webhooks applied and texts sent in whichever process
runs the outbox (the worker, under the Procfile). The outbox's depth and age
are read from the database when ``/metrics`` is scraped
(``chatserver.web.metrics``).

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (to a directory of
its own per host, shared by that host's web processes and worker), every
process writes its figures there and any web process's ``/metrics`` answers
for all of them (prometheus-client's multiprocess mode): a scrape through the
load balancer sees the whole host. Without it each process counts only
itself. See docs/operations.md, "Metrics".

No database and nothing of ours is imported here: every layer counts.
"""

from __future__ import annotations

import glob
import os
import re
import time

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    # Each process's files are opened as its figures are made, below.
    os.makedirs(MULTIPROC_DIR, exist_ok=True)

# Per process ("liveall": one series per live process, labelled with its pid;
# a process that exits takes its series with it, see ``forget``).
SOCKETS = Gauge(
    "chatserver_console_sockets",
    "Console sockets open (that have had their hello), per process.",
    multiprocess_mode="liveall",
)
# Console sockets whose hello is being read: high while consoles reconnect.
CONNECTING = Gauge(
    "chatserver_console_sockets_connecting",
    "Console sockets accepted and waiting for their hello, per process.",
    multiprocess_mode="liveall",
)
# Sockets told to try again later (1013) or to reconnect elsewhere (1012).
SOCKETS_CLOSED = Counter(
    "chatserver_console_sockets_closed",
    "Console sockets the server closed, by why (try_again, restart).",
    ["reason"],
)

# From the carrier's webhook reaching us (the receipt's time, or the inline
# request's) to the first socket of each process relaying what it carried: a
# lead's text (message.created) or a delivery status (message.status). Once
# per process, not per socket: an observation costs two writes to the shared
# files, and one per socket was 8% of the web process's CPU for a text to 100
# sockets; the process's other sockets relay it in the same pass of its loop.
WEBHOOK_TO_SOCKET = Histogram(
    "chatserver_webhook_to_socket_seconds",
    "From a carrier's webhook reaching us to the first socket of a process "
    "relaying its event.",
    ["event"],
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# The latest events timed here (see ``webhook_reached_socket``).
_TIMED: dict[tuple, None] = {}
_TIMED_KEEP = 256


def webhook_reached_socket(event_type: str, cursor: int, arrived: float) -> None:
    """A socket relays an event a webhook caused (``arrived``: a Unix time):
    timed if it is the first of this process's sockets to relay it. (The
    cursor alone is not the event: each organisation numbers its own.)"""
    key = (event_type, cursor, arrived)
    if key in _TIMED:
        return
    _TIMED[key] = None
    if len(_TIMED) > _TIMED_KEEP:
        del _TIMED[next(iter(_TIMED))]
    WEBHOOK_TO_SOCKET.labels(event_type).observe(time.time() - arrived)

WEBHOOKS_STORED = Counter(
    "chatserver_webhooks_stored",
    "Carrier webhooks verified and stored (queued) or applied at once (inline).",
    ["carrier", "kind"],
)
WEBHOOKS_APPLIED = Counter(
    "chatserver_webhooks_applied",
    "Carrier webhooks turned into messages and statuses.",
    ["carrier", "kind"],
)

SENDS = Counter(
    "chatserver_sends",
    "Texts handed to a carrier (each attempt).",
    ["carrier"],
)
SEND_FAILURES = Counter(
    "chatserver_send_failures",
    "Sends that failed, by the carrier error's kind: retryable (tried again "
    "later), permanent, opted_out, invalid_number, uncertain (for an agent "
    "to check).",
    ["carrier", "kind"],
)


def registry() -> CollectorRegistry:
    """What a scrape reads: every process of the host in multiprocess mode,
    else this process's own figures."""
    if not MULTIPROC_DIR:
        return REGISTRY
    scraped = CollectorRegistry()
    multiprocess.MultiProcessCollector(scraped)
    return scraped


_PID = re.compile(r"_(\d+)\.db$")


def forget(pid: int) -> None:
    """A process has exited: its per-process gauges go (its counters stay in
    the host's totals, as counters must)."""
    if MULTIPROC_DIR:
        multiprocess.mark_process_dead(pid, MULTIPROC_DIR)


def forget_dead_processes() -> None:
    """Forget the per-process gauges of processes that died without saying
    (killed): called as each process starts."""
    if not MULTIPROC_DIR:
        return
    for path in glob.glob(os.path.join(MULTIPROC_DIR, "gauge_live*_*.db")):
        found = _PID.search(path)
        if found and not _alive(int(found.group(1))):
            forget(int(found.group(1)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

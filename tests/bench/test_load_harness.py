"""The load harness (bench/) runs against the real stack and its figures hold
together: a quick run of the Redis-restart scenario, end to end.

Real PostgreSQL, a redis-server of the harness's own that it kills and starts
again, Daphne, the outbox worker, Prism for Twilio's API, signed webhooks and
real WebSocket clients. Takes about 40 seconds.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import require_or_skip
from tests.servers import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_a_quick_redis_restart_run_reports_every_text_stored_and_delivered(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith(
        ("postgres://", "postgresql://")
    ):
        require_or_skip("the harness runs on PostgreSQL: set DATABASE_URL")
    if shutil.which("redis-server") is None:
        require_or_skip("redis-server is not installed")
    if not (ROOT / "var/prism/node_modules/.bin/prism").exists():
        require_or_skip("Prism is not installed (bash bench/install-prism.sh)")

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--only",
            "fault_redis",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["failures"] == {}
    fault = result["scenarios"]["fault_redis"]

    # Redis really went away mid-run and came back.
    assert 0 < fault["fault"]["redis_killed"] < fault["fault"]["redis_back"]
    # Every webhook was answered 200 and stored once, whole.
    webhooks = fault["webhooks"]
    assert webhooks["sent"] == webhooks["accepted"] > 0
    assert webhooks["answers"] == {"200": webhooks["sent"]}
    stored = fault["stored"]
    assert stored["distinct"] == stored["messages"] == webhooks["accepted"]
    assert stored["stored_without_event"] == 0
    # Every socket got every text, some of them only by catching up.
    deliveries = fault["deliveries"]
    agents = result["profile"]["agents"]
    assert deliveries["expected"] == webhooks["accepted"] * agents
    assert deliveries["missing"] == 0
    assert deliveries["live"] + deliveries["resumed"] == deliveries["expected"]
    assert fault["sockets"]["caught_up_unasked"] >= agents
    assert deliveries["latency_ms"]["max"] > 1000 * (
        fault["fault"]["redis_back"] - fault["fault"]["redis_killed"] - 1
    )
    assert all(check["pass"] for check in result["checks"])


def run_quick(tmp_path, *args: str) -> dict:
    """A quick run of some scenarios; its result.json."""
    if not os.environ.get("DATABASE_URL", "").startswith(
        ("postgres://", "postgresql://")
    ):
        require_or_skip("the harness runs on PostgreSQL: set DATABASE_URL")
    if shutil.which("redis-server") is None:
        require_or_skip("redis-server is not installed")
    if not (ROOT / "var/prism/node_modules/.bin/prism").exists():
        require_or_skip("Prism is not installed (bash bench/install-prism.sh)")
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", *args, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["failures"] == {}
    return result


def test_a_restarted_process_greets_every_console_again_and_costs_are_counted(
    tmp_path,
):
    """storm and cpu_per_text, tiny: the process really restarts, every
    console has its hello back, and CPU is counted for the web process, the
    worker and the database's backends (about 45 s)."""
    result = run_quick(
        tmp_path,
        "--only",
        "storm",
        "cpu_per_text",
        "--set",
        "storm_agents=40",
        "cpu_seconds=4",
    )
    storm = result["scenarios"]["storm"]
    for side in ("floor", "product"):
        figures = storm[side]
        assert figures["sockets"] == 40
        assert figures["hellos_back"] == 40, figures
        assert figures["all_back_seconds"] is not None
        # Each console had to connect again: at least one handshake each.
        assert figures["handshake_attempts"] >= 40
        assert figures["server_cpu_ms_per_hello"] > 0
    ours = storm["product"]
    assert ours["database_backends"] > 0 and ours["database_cpu_seconds"] > 0
    if ours.get("statements") is not None:  # PostgreSQL's log readable here
        assert ours["statements_per_hello"] >= 1
    assert storm["all_back_ratio"] is not None

    cpu = result["scenarios"]["cpu_per_text"]
    assert cpu["product"]["missing"] == cpu["floor"]["missing"] == 0
    parts = cpu["product"]["cpu_ms_per_text"]
    assert parts["daphne"] > 0 and parts["worker"] > 0 and parts["postgres"] > 0
    assert parts["total"] == pytest.approx(
        parts["daphne"] + parts["worker"] + parts["postgres"], abs=0.05
    )
    assert cpu["floor"]["cpu_ms_per_text"]["total"] > 0
    assert cpu["ratio"] is not None


def test_a_rolling_restart_behind_haproxy_loses_nothing(tmp_path):
    """rolling, tiny: three Daphne processes behind a real HAProxy, each
    restarted in turn under a load of texts; nothing lost, every console back
    (about 45 s)."""
    if shutil.which("haproxy") is None:
        require_or_skip("haproxy is not installed (bash bench/install-haproxy.sh)")
    result = run_quick(
        tmp_path,
        "--only",
        "rolling",
        "--set",
        "rolling_agents=12",
        "rolling_steady=3",
        "rolling_seconds=10",
    )
    roll = result["scenarios"]["rolling"]
    restarts = roll["roll"]["fault"]["restarts"]
    assert len(restarts) == 3
    assert len({r["pid"] for r in restarts}) == 3
    assert sum(roll["spread_before"].values()) == 12
    assert roll["open_after"] == 12
    during = roll["roll"]
    assert during["webhooks"]["accepted"] == during["webhooks"]["sent"] > 0
    assert during["stored"]["distinct"] == during["stored"]["messages"]
    assert during["stored"]["accepted_not_stored"] == 0
    assert during["deliveries"]["missing"] == 0
    # Every console was on a process that restarted, and came back.
    outages = during["sockets"]["outages"]
    assert outages["sockets"] == 12 and outages["came_back"] == outages["count"]
    assert roll["p99_ratio_roll_to_steady"] is not None
    assert all(
        check["pass"] for check in result["checks"] if check["kind"] == "correctness"
    )

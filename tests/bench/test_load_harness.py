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

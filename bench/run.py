"""Run the load harness: ``python -m bench.run [--quick] [--only NAME ...]``.

Starts the real stack (Daphne on the Redis PubSub layer and PostgreSQL, the
outbox worker, Twilio mocked by Prism), runs the scenarios of
``bench.scenarios`` against it and against the floor app, and writes
``bench/results/<time>/result.json`` and plots next to it. See
docs/performance.md for what each figure means and the figures measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

from bench import capacity, checks, profiling, restarts
from bench.harness import Harness
from bench.profiles import PROFILES
from bench.scenarios import SCENARIOS as BASIC
from tests.servers import ROOT

RESULTS = ROOT / "bench" / "results"
EXTRA = {"queries": profiling.queries, "profile": profiling.profile}
# Issue 21's: restarts agents should not notice, and what a process holds.
SCENARIOS = {
    **BASIC,
    "storm": restarts.storm,
    "idle10k": capacity.idle10k,
    "rolling": restarts.rolling,
    "cpu_per_text": capacity.cpu_per_text,
}


def machine() -> dict:
    """What the figures were measured on."""
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]

    def version(command: list[str]) -> str:
        try:
            return (
                subprocess.run(command, capture_output=True, text=True, timeout=10)
                .stdout.strip()
                .splitlines()[0]
            )
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return ""

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory) / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "postgresql": version(["psql", "--version"]),
        "redis": version(["redis-server", "--version"]),
        "packages": {
            name: metadata.version(name)
            for name in (
                "Django",
                "channels",
                "channels-redis",
                "daphne",
                "redis",
                "Twisted",
                "autobahn",
                "psycopg",
                "twilio",
                "websockets",
            )
        },
    }


async def main_async(args) -> int:
    profile = dataclasses.replace(PROFILES[args.profile], **overrides(args))
    names = args.only or list(SCENARIOS) + ["queries"] + (
        ["profile"] if args.py_spy else []
    )
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{profile.name}"
    out_dir = Path(args.out) if args.out else RESULTS / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {
        "command": "python -m bench.run " + " ".join(sys.argv[1:]),
        "profile": vars(profile),
        "machine": machine(),
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "scenarios": {},
        "failures": {},
    }
    harness = Harness(
        profile, server_env=dict(kv.split("=", 1) for kv in args.server_env)
    )
    result["server_env"] = harness.server_env
    # Stopped (SIGTERM, a timeout): still stop the servers and drop the database.
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, asyncio.current_task().cancel
    )
    began = time.monotonic()
    try:
        await harness.start()
        for name in names:
            runner = SCENARIOS.get(name) or EXTRA[name]
            harness.say(f"== {name}")
            started = time.monotonic()
            try:
                result["scenarios"][name] = await runner(harness)
            except Exception as exc:  # keep the other scenarios' figures
                traceback.print_exc()
                result["failures"][name] = f"{type(exc).__name__}: {exc}"
                await harness.pool.disconnect_all()
            harness.say(
                f"   {name} took {time.monotonic() - started:.0f} s "
                f"(load average {os.getloadavg()[0]:.1f})"
            )
            write(out_dir, result)
    finally:
        logs = out_dir / "logs"
        logs.mkdir(exist_ok=True)
        for pattern in ("*.log", "*.pyspy.txt"):
            for path in harness.workdir.glob(pattern):
                shutil.copy(path, logs / path.name)
        if harness.stack:
            for path in harness.stack.workdir.glob("*.log"):
                shutil.copy(path, logs / path.name)
        await harness.stop()
    result["seconds"] = round(time.monotonic() - began)
    result["machine"]["load_average_at_end"] = os.getloadavg()
    result["checks"] = checks.evaluate(result)
    write(out_dir, result)
    try:
        from bench import plot

        plot.draw(result, out_dir)
    except ImportError:
        print("matplotlib is missing (pip install -e '.[bench]'): no plots")
    latest = RESULTS / "latest"
    if out_dir.parent == RESULTS:
        latest.unlink(missing_ok=True)
        latest.symlink_to(out_dir.name)
    print(checks.table(result))
    print(f"\nresults: {out_dir / 'result.json'}")
    return (
        1
        if any(
            c["kind"] == "correctness" and c["pass"] is False for c in result["checks"]
        )
        or result["failures"]
        else 0
    )


def overrides(args) -> dict:
    """Profile fields changed on the command line (--agents, --set name=value)."""
    changed = {
        name: value
        for name, value in (
            ("agents", args.agents),
            ("rate", args.rate),
            ("duration", args.seconds),
        )
        if value is not None
    }
    fields = {f.name: f.type for f in dataclasses.fields(PROFILES["full"])}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in fields or name == "name":
            raise SystemExit(f"--set: no profile field {name!r} ({', '.join(fields)})")
        kind = fields[name]
        if kind == "list[float]":
            changed[name] = [float(v) for v in value.split(",")]
        else:
            changed[name] = {"int": int, "float": float}[kind](value)
    return changed


def write(out_dir: Path, result: dict) -> None:
    (out_dir / "result.json").write_text(json.dumps(result, indent=1, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        dest="profile",
        action="store_const",
        const="quick",
        default="full",
        help="a small run that checks the harness works",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SCENARIOS) + list(EXTRA),
        help="run only these scenarios",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="also profile the server under load with py-spy",
    )
    parser.add_argument("--agents", type=int, help="agents in the steady runs")
    parser.add_argument("--rate", type=float, help="webhooks a second, steady runs")
    parser.add_argument("--seconds", type=float, help="length of the steady run")
    parser.add_argument(
        "--set",
        nargs="+",
        action="extend",
        default=[],
        metavar="FIELD=VALUE",
        help="change any field of the profile (bench/harness.py), e.g. "
        "idle_agents=500 sweep_rates=10,20,40",
    )
    parser.add_argument(
        "--server-env",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the product's processes (to compare settings)",
    )
    parser.add_argument(
        "--out", help="directory for the results (default bench/results/)"
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()

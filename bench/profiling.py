"""Where the time goes: SQL queries per webhook, and a sampling profile of the
Daphne process under the steady load (py-spy, outside the measured runs)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.harness import Harness
from tests.servers import ROOT


async def queries(h: Harness) -> dict:
    """Run bench/queries.py against the harness's database."""
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bench.queries"],
        env=h.stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.queries failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    for case in data["cases"]:
        h.say(
            f"  {case['queries']:3d} queries, {case['ms']:7.1f} ms "
            f"(+{case['connect_ms']:.1f} ms to connect): {case['case']}"
        )
    return data


FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:]*):?(?P<line>\d*)\)$")


def summarise(raw: str, top: int = 30) -> dict:
    """Self and inclusive sample shares per function, from py-spy's raw output."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        names = []
        for frame in stack.split(";"):
            match = FRAME.match(frame)
            if match:
                path = match["file"]
                short = "/".join(Path(path).parts[-2:]) if path else ""
                names.append(f"{match['func']} ({short})")
            else:
                names.append(frame)
        if names:
            self_time[names[-1]] += n
        for name in set(names):
            inclusive[name] += n

    def share(counter):
        return [
            {"function": k, "percent": round(100 * v / total, 1)}
            for k, v in counter.most_common(top)
        ]

    return {"samples": total, "self": share(self_time), "inclusive": share(inclusive)}


def start_recorder(pid: int, seconds: float, raw: Path, gil: bool = False):
    """py-spy sampling a process for ``seconds`` into ``raw`` (its raw format);
    with ``gil``, only samples that hold the interpreter (CPU)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise RuntimeError("py-spy is not installed (pip install -e '.[bench]')")
    return subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--rate", "200"]
        + ["--duration", str(int(seconds)), "--format", "raw", "--threads"]
        + ["--nonblocking", "--output", str(raw)]
        + (["--gil"] if gil else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def read_recording(recorder, raw: Path) -> dict:
    """Wait for py-spy to finish; the samples by thread and by function."""
    _, err = await asyncio.to_thread(recorder.communicate)
    if not raw.exists():
        raise RuntimeError(f"py-spy wrote nothing: {err.decode()[-500:]}")
    text = raw.read_text()
    by_thread: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            by_thread[stack.split(";", 1)[0]] += int(count)
    return {
        "threads": dict(by_thread.most_common(10)),
        **summarise(text),
        "raw_file": raw.name,
    }


async def profile(h: Harness) -> dict:
    """The steady load for a while with py-spy sampling the product's Daphne."""
    p = h.profile
    await h.pool.disconnect_all()
    product = h.product(servers=1)
    await h.connect(h.specs(product, 0, p.agents))
    raw = h.workdir / "daphne.pyspy.txt"
    recorder = start_recorder(product.servers[0].process.pid, p.profile_seconds, raw)
    h.say(f"py-spy on the product's Daphne: {p.rate}/s for {p.profile_seconds:.0f} s")
    await h.measure(
        product, "profile", p.rate, int(p.rate * p.profile_seconds), p.agents
    )
    result = await read_recording(recorder, raw)
    await h.pool.disconnect_all()
    return result

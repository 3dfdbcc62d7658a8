"""What the harness starts besides the product: its own Redis, the Twilio mock,
the floor app, and the samplers that read servers' CPU and memory.

Everything listens on a free port and is stopped by the harness, so a run never
touches the machine's shared Redis or the servers other people run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.servers import BIN, ROOT, Server, free_port, wait_for_port

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
TWILIO_SPEC = Path(
    os.environ.get(
        "TWILIO_OPENAPI", ROOT.parent / "shared/twilio/twilio_api_v2010.json"
    )
)


class RedisServer:
    """A redis-server of the harness's own, which it may kill and restart."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        """Stop it at once, as a crash would (nothing saved)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


class Prism:
    """Prism serving Twilio's OpenAPI description: the Twilio API, mocked."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = ROOT / "var/prism/node_modules/.bin/prism"
        if not binary.exists():
            subprocess.run(["bash", str(ROOT / "bench/install-prism.sh")], check=True)
        if not binary.exists():
            raise RuntimeError(
                "Prism is not installed (needs npm): bench/install-prism.sh"
            )
        if not TWILIO_SPEC.exists():
            raise RuntimeError(
                f"Twilio's OpenAPI description not found: set TWILIO_OPENAPI "
                f"(looked at {TWILIO_SPEC})"
            )
        log = (self.workdir / "prism.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(binary),
                "mock",
                "-d",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                str(TWILIO_SPEC),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process, timeout=90)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_floor(workdir: Path, redis_url: str, port: int | None = None) -> Server:
    """The floor app (bench/floor) under Daphne, on the same Redis."""
    port = port or free_port()
    log_path = workdir / f"floor-{port}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "DJANGO_SETTINGS_MODULE": "bench.floor.settings",
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [
            str(BIN / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            # The handshake time ours has (WEBSOCKET_HANDSHAKE_SECONDS): with
            # Daphne's 5 s, the floor's restarted process dropped nearly every
            # handshake of a 2,000-socket storm here and never recovered.
            "--websocket_connect_timeout",
            "20",
            "bench.floor.asgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server(port, process, log_path)
    try:
        wait_for_port(port, process)
    except Exception:
        server.stop(kill=True)
        raise RuntimeError(f"the floor did not start:\n{server.log()}") from None
    return server


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except OSError:
        return None


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    values = [
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / TICKS, total / TICKS


class Sampler:
    """Samples CPU and memory of some processes (and the machine) in a thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.5, postgres=None):
        self.pids = pids
        # A bench.pgcpu.Backends: the database work of the processes sampled.
        self.postgres = postgres
        self.interval = interval
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _take(self) -> dict:
        if self.postgres is not None:
            self.postgres.take()
        busy, total = machine_busy()
        return {
            "t": time.monotonic(),
            "machine": (busy, total),
            "cpu": {name: cpu_seconds(pid) for name, pid in self.pids.items()},
            "rss": {name: rss_bytes(pid) for name, pid in self.pids.items()},
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._take())
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self._take())

    def summary(self) -> dict:
        """Average and peak CPU (percent of one core) and peak memory, per process."""
        if len(self.samples) < 2:
            return {}
        first, last = self.samples[0], self.samples[-1]
        wall = last["t"] - first["t"]
        out: dict = {"seconds": round(wall, 1), "processes": {}}
        for name in self.pids:
            start, end = first["cpu"][name], last["cpu"][name]
            peaks = []
            for a, b in zip(self.samples, self.samples[1:], strict=False):
                if a["cpu"][name] is not None and b["cpu"][name] is not None:
                    peaks.append((b["cpu"][name] - a["cpu"][name]) / (b["t"] - a["t"]))
            rss = [s["rss"][name] for s in self.samples if s["rss"][name]]
            out["processes"][name] = {
                "cpu_percent": (
                    round(100 * (end - start) / wall, 1)
                    if start is not None and end is not None
                    else None
                ),
                "cpu_seconds": (
                    round(end - start, 3)
                    if start is not None and end is not None
                    else None
                ),
                "cpu_percent_peak": round(100 * max(peaks), 1) if peaks else None,
                "rss_mb": round(rss[-1] / 2**20, 1) if rss else None,
                "rss_mb_peak": round(max(rss) / 2**20, 1) if rss else None,
            }
        if self.postgres is not None:
            used = self.postgres.cpu_seconds()
            out["processes"]["postgres"] = {
                "cpu_percent": round(100 * used / wall, 1),
                "cpu_seconds": round(used, 3),
                "backends": len(self.postgres.last),
            }
        busy = last["machine"][0] - first["machine"][0]
        total = last["machine"][1] - first["machine"][1]
        out["machine_cpu_percent"] = round(100 * busy / total, 1) if total else None
        return out

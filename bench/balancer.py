"""HAProxy in front of the product's Daphne processes (the rolling scenario).

Installed from the distribution's packages by ``bench/install-haproxy.sh``;
the harness runs its own on free ports with the configuration below:
WebSockets and webhooks balanced by ``leastconn``, a health check on
``/healthz`` twice a second, and a refused connection sent to another server
(``option redispatch``), as a deploy's balancer would be set up.
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.servers import ROOT, Server, free_port, wait_for_port

CONFIG = """\
global
    maxconn 8000

defaults
    mode http
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-request 10s
    # A process busy greeting a storm of consoles answers /healthz late: a
    # check that gives up after 0.5 s marks healthy processes down, and their
    # consoles then storm the others (seen here with 300 consoles).
    timeout check 3s
    retries 3
    option redispatch

frontend consoles
    bind 127.0.0.1:{port}
    default_backend daphnes

backend daphnes
    balance leastconn
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server check inter 1s fall 3 rise 2
{servers}

listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
"""


class HAProxy:
    def __init__(self, workdir: Path, ports: list[int]):
        self.workdir = workdir
        self.ports = ports
        self.port = free_port()
        self.stats_port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("haproxy")
        if binary is None:
            subprocess.run(["bash", str(ROOT / "bench/install-haproxy.sh")], check=True)
            binary = shutil.which("haproxy")
        if binary is None:
            raise RuntimeError(
                "haproxy is not installed: bash bench/install-haproxy.sh"
            )
        servers = "\n".join(
            f"    server d{n + 1} 127.0.0.1:{port}" for n, port in enumerate(self.ports)
        )
        config = self.workdir / "haproxy.cfg"
        config.write_text(
            CONFIG.format(port=self.port, stats_port=self.stats_port, servers=servers)
        )
        log = (self.workdir / "haproxy.log").open("wb")
        self.process = subprocess.Popen(
            [binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        wait_for_port(self.port, self.process)

    @property
    def server(self) -> Server:
        """The balancer, as the one server the clients and webhooks see."""
        return Server(self.port, self.process, self.workdir / "haproxy.log")

    def stats(self) -> list[dict]:
        url = f"http://127.0.0.1:{self.stats_port}/stats;csv"
        with urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode().lstrip("# ")
        return [
            row
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "daphnes" and row["svname"] not in ("BACKEND",)
        ]

    def sessions(self) -> dict[str, int]:
        """Open sessions (sockets) per server, as HAProxy counts them."""
        return {row["svname"]: int(row["scur"] or 0) for row in self.stats()}

    def name_of(self, port: int) -> str:
        return f"d{self.ports.index(port) + 1}"

    async def wait_up(self, names: list[str], limit: float = 120) -> None:
        """Until HAProxy's health checks see these servers up."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            rows = await asyncio.to_thread(self.stats)
            up = {r["svname"] for r in rows if r["status"].startswith("UP")}
            if up >= set(names):
                return
            await asyncio.sleep(0.25)
        raise TimeoutError(f"HAProxy did not see {names} up in {limit} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

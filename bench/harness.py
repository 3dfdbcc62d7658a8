"""The harness: the real stack on a fresh database, agents' sockets, and one
measured load run (``Harness.measure``) that every scenario is made of."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench import metrics, stats
from bench.clients import SocketSpec, bench_text
from bench.pgcpu import Backends
from bench.pool import ClientPool
from bench.profiles import Profile
from bench.services import Prism, RedisServer, Sampler, rss_bytes, start_floor
from bench.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    FakeTwilio,
    Webhooks,
    lead_numbers,
)
from tests.servers import ROOT, Server, Stack, free_port, make_stack, psql

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass
class Target:
    """Servers under load: where webhooks go, and their processes to sample."""

    name: str
    servers: list[Server]
    pids: dict[str, int]
    stored: bool = True  # whether texts are stored (the floor stores nothing)
    resume: bool = True

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]


@dataclass
class Harness:
    profile: Profile
    workdir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-"))
    )
    redis: RedisServer | None = None
    prism: Prism | None = None
    twilio: FakeTwilio | None = None
    stack: Stack | None = None
    worker: subprocess.Popen | None = None
    agents: list[dict] = field(default_factory=list)
    sender: str = ""
    numbers: list[str] = field(default_factory=list)
    pool: ClientPool | None = None
    log: list[str] = field(default_factory=list)
    # Extra environment for the product's processes (A/B experiments).
    server_env: dict[str, str] = field(default_factory=dict)

    # -- starting and stopping ---------------------------------------------

    def say(self, text: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {text}"
        self.log.append(line)
        print(line, flush=True)

    async def start(self) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets
        os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
        if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
            raise SystemExit(
                "The harness needs PostgreSQL: set DATABASE_URL=postgres://..."
            )
        self.redis = RedisServer(self.workdir)
        self.redis.start()
        self.say(f"redis-server of the harness on port {self.redis.port}")
        self.twilio = FakeTwilio("", [])
        await self.twilio.start(free_port())
        self.prism = Prism(self.workdir)
        self.prism.start()
        self.twilio.prism_url = self.prism.url
        self.say(f"Prism (Twilio's API, mocked) on port {self.prism.port}")
        self.stack = make_stack(
            DEBUG="false",
            SECRET_KEY="bench-only-not-a-secret-" + "x" * 32,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",
            SECURE_HSTS_SECONDS="0",
            REDIS_URL=self.redis.url,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_API_URL=self.twilio.url,
            OUTBOX_IN_PROCESS="false",
            WEBHOOKS_QUEUED="true",
            LOG_LEVEL="WARNING",
            # /metrics for the bench's own reading (bench/metrics.py): every
            # process of the stack counted in one scrape.
            METRICS_TOKEN=metrics.TOKEN,
            PROMETHEUS_MULTIPROC_DIR=str(self.prometheus_dir()),
            **self.server_env,
        )
        self.say(
            f"fresh database {self.stack.database_url.rsplit('/', 1)[-1]}, migrated"
        )
        started = time.monotonic()
        seeded = self.seed(self.profile.agents + self.profile.idle_agents)
        self.say(
            f"{len(seeded)} agents with sessions made in "
            f"{time.monotonic() - started:.1f} s"
        )
        self.numbers = lead_numbers(self.profile.lead_numbers)
        self.worker = self.stack.start_worker()
        self.pool = ClientPool(self.profile.client_processes)

    def prometheus_dir(self) -> Path:
        path = self.workdir / "prometheus"
        path.mkdir(exist_ok=True)
        return path

    def ensure_agents(self, count: int) -> None:
        """At least ``count`` agents with sessions (more are made as needed:
        the big scenarios need thousands the others do not)."""
        if len(self.agents) < count:
            started = time.monotonic()
            prefix = f"more{len(self.agents)}_"
            made = self.seed(count - len(self.agents), prefix=prefix)
            self.say(
                f"{len(made)} more agents made in {time.monotonic() - started:.1f} s"
            )

    def seed(self, count: int, prefix: str = "bench") -> list[dict]:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.seed",
                "--agents",
                str(count),
                "--prefix",
                prefix,
            ],
            env=self.stack.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if out.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{out.stderr}")
        data = json.loads(out.stdout.strip().splitlines()[-1])
        self.sender = data["sender"]
        self.agents.extend(data["agents"])
        return data["agents"]

    async def stop(self) -> None:
        if self.pool:
            await self.pool.close()
        if self.worker and self.worker.poll() is None:
            self.worker.terminate()
            self.worker.wait(10)
        if self.stack:
            self.stack.stop()
        if self.twilio:
            await self.twilio.stop()
        if self.prism:
            self.prism.stop()
        if self.redis:
            self.redis.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def product(self, servers: int = 1) -> Target:
        """The product's Daphne processes (started as the Procfile's web)."""
        running = [s for s in self.stack.servers if s.process.poll() is None]
        while len(running) < servers:
            running.append(self.stack.start_server())
        running = running[:servers]
        self.twilio.servers = [s.url for s in running]
        pids = {
            f"daphne{i + 1}" if servers > 1 else "daphne": s.process.pid
            for i, s in enumerate(running)
        }
        pids["worker"] = self.worker.pid
        pids["redis"] = self.redis.pid
        return Target("product", running, pids)

    def floor(self) -> Target:
        server = start_floor(self.workdir, self.redis.url)
        return Target(
            "floor",
            [server],
            {"daphne": server.process.pid, "redis": self.redis.pid},
            stored=False,
            resume=False,
        )

    # -- sockets ---------------------------------------------------------------

    def specs(self, target: Target, first: int, count: int) -> list[SocketSpec]:
        """Sockets for agents first..first+count, spread over the target's servers."""
        servers = target.servers
        out = []
        for index in range(first, first + count):
            agent = self.agents[index]
            home = index % len(servers)
            urls = [
                servers[(home + k) % len(servers)].ws_url for k in range(len(servers))
            ]
            out.append(
                SocketSpec(index, agent["id"], agent["session"], urls, target.resume)
            )
        return out

    async def connect(self, specs: list[SocketSpec], timeout: float = 300) -> dict:
        started = time.monotonic()
        await self.pool.call("reset_counters")
        result = await self.pool.connect(specs, timeout=timeout)
        seconds = time.monotonic() - started
        if result["failed"]:
            raise RuntimeError(
                f"{len(result['failed'])} sockets failed to connect: "
                f"{result['failed'][:3]}"
            )
        # Handshakes the server dropped or refused before a socket got in
        # (each such socket tried again, as a console does).
        retried = (await self.pool.status())["close_codes"]
        return {
            "sockets": result["ok"],
            "seconds": round(seconds, 2),
            "per_second": round(result["ok"] / seconds, 1) if seconds else None,
            "connect_ms": stats.describe(result["connect_ms"]),
            "failed_attempts": retried,
        }

    # -- one measured run ------------------------------------------------------

    async def measure(
        self,
        target: Target,
        phase: str,
        rate: float,
        count: int,
        sockets: int,
        *,
        outbound: int = 0,
        fault=None,
        stall: float = 10,
    ) -> dict:
        """Send ``count`` webhooks at ``rate`` to the target while ``sockets``
        agents listen; returns every figure of the run."""
        await self.pool.call("reset_counters")
        hooks = Webhooks(
            target.urls, self.sender, self.numbers, retry_for=60 if fault else 10
        )
        scraped = metrics.scrape(target.urls[0]) if target.stored else None
        backends = Backends(self.database_url) if target.stored else None
        sampler = Sampler(target.pids, postgres=backends)
        start = time.monotonic()
        fault_log: dict = {}
        with sampler:
            async with hooks:
                if outbound:
                    await self.pool.send(self.outbound_plan(phase, outbound))
                fault_task = asyncio.create_task(fault(fault_log)) if fault else None
                sent = await hooks.run(phase, rate, count, bench_text)
                if fault_task:
                    await fault_task
            accepted = sum(1 for d in sent if d.accepted)
            got = await self.drain(phase, accepted * sockets, stall)
            if outbound:
                await self.wait_outbound(outbound)
        if backends is not None:
            backends.close()
        socket_reports = await self.pool.report(phase)
        status = await self.pool.status()
        result = {
            "phase": phase,
            "rate": rate,
            "webhooks": stats.webhook_answers(sent, start),
            "deliveries": stats.deliveries(socket_reports, sent, start),
            "resources": sampler.summary(),
            "sockets": {
                "listening": sockets,
                "frames": status["frames"],
                "frames_per_text_per_socket": round(
                    sum(status["frames"].values()) / (accepted * sockets), 2
                )
                if accepted and sockets
                else None,
                "errors": status["errors"],
                "close_codes": status["close_codes"],
                "reloads": status["reloads"],
                "caught_up_unasked": status["catch_ups"],
                "outages": summarise_outages(status["outages"]),
            },
        }
        result["deliveries"]["received_when_drained"] = got
        if fault_log:
            result["fault"] = {
                k: round(v - start, 2) if isinstance(v, float) else v
                for k, v in fault_log.items()
            }
        result["cpu_ms_per_text"] = stats.cpu_per_text(result["resources"], accepted)
        if scraped is not None:
            result["server_metrics"] = metrics.figures(
                scraped, metrics.scrape(target.urls[0])
            )
        if target.stored:
            result["stored"] = self.stored(phase, sent)
        if len(target.servers) > 1:
            result["crossing"] = crossing(socket_reports, sent, target, self)
        if outbound:
            result["outbound"] = await self.outbound_figures()
        return result

    async def drain(
        self, phase: str, expected: int, stall: float, limit: float = 120
    ) -> int:
        """Wait until every socket has every text, or nothing arrives for ``stall``."""
        begin = last_change = time.monotonic()
        last = -1
        while True:
            got = await self.pool.deliveries(phase)
            now = time.monotonic()
            if got >= expected:
                return got
            if got != last:
                last, last_change = got, now
            elif now - last_change > stall or now - begin > limit:
                return got
            await asyncio.sleep(0.25)

    # -- outbound --------------------------------------------------------------

    def outbound_plan(
        self, phase: str, count: int
    ) -> list[tuple[int, int, float, str]]:
        """Texts from the first few agents, each to a conversation of its own."""
        senders = self.profile.outbound_senders
        conversations = self.conversations(senders)
        return [
            (
                n % senders,
                conversations[n % senders],
                n / self.profile.outbound_rate,
                f"Thanks! Your quote is on its way. [out {phase}:{n}]",
            )
            for n in range(count)
        ]

    def conversations(self, count: int) -> list[int]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT id FROM chatserver_conversation ORDER BY id LIMIT %s", (count,)
            ).fetchall()
        if len(rows) < count:
            raise RuntimeError("not enough conversations: warm up first")
        return [r[0] for r in rows]

    async def wait_outbound(self, count: int, limit: float = 20) -> None:
        deadline = time.monotonic() + limit
        while len(self.twilio.callbacks) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)  # the last callbacks' events reach the sockets

    async def outbound_figures(self) -> dict:
        records = await self.pool.outbound()
        accepted, callbacks = self.twilio.accepted, self.twilio.callbacks
        to_ack, to_carrier, to_sent, to_delivered, callback_to_socket = (
            [],
            [],
            [],
            [],
            [],
        )
        pickup, mock = [], []
        errors: dict[str, int] = {}
        for r in records:
            if r["error"]:
                errors[r["error"]] = errors.get(r["error"], 0) + 1
            if r["ack"]:
                to_ack.append((r["ack"] - r["sent"]) * 1000)
            message = r["message"]
            if message in accepted:
                to_carrier.append((accepted[message]["t"] - r["sent"]) * 1000)
                if r["ack"]:
                    pickup.append((accepted[message]["received"] - r["ack"]) * 1000)
                mock.append(
                    (accepted[message]["t"] - accepted[message]["received"]) * 1000
                )
            if "sent" in r["statuses"]:
                to_sent.append((r["statuses"]["sent"] - r["sent"]) * 1000)
            if "delivered" in r["statuses"]:
                to_delivered.append((r["statuses"]["delivered"] - r["sent"]) * 1000)
                if message in callbacks:
                    callback_to_socket.append(
                        (r["statuses"]["delivered"] - callbacks[message]["t"]) * 1000
                    )
        figures = {
            "texts": len(records),
            "errors": errors,
            "send_to_ack_ms": stats.describe(to_ack),
            "send_to_carrier_accepted_ms": stats.describe(to_carrier),
            # Of which: the outbox picking the text up after the ack, and the
            # Twilio mock (Prism) answering, which is not the product.
            "ack_to_carrier_request_ms": stats.describe(pickup),
            "twilio_mock_answer_ms": stats.describe(mock),
            "send_to_sent_on_socket_ms": stats.describe(to_sent),
            "status_callback_to_socket_ms": stats.describe(callback_to_socket),
            "callback_answers": sorted({str(c["status"]) for c in callbacks.values()}),
            "carrier_refused": self.twilio.refused[:5],
        }
        self.twilio.accepted.clear()
        self.twilio.callbacks.clear()
        self.twilio.refused.clear()
        return figures

    # -- the database's view ---------------------------------------------------

    @property
    def database_url(self) -> str:
        return self.stack.database_url

    def stored(self, phase: str, sent: list) -> dict:
        """What the database holds for a phase: each text once, whole."""
        pattern = f"%[bench {phase}:%"
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT m.carrier_message_id, EXISTS (SELECT 1 FROM chatserver_event e "
                " WHERE e.type = 'message.created' "
                " AND (e.payload -> 'message' ->> 'id')::bigint = m.id) "
                "FROM chatserver_message m WHERE m.direction = 'in' AND m.body LIKE %s",
                (pattern,),
            ).fetchall()
        sids = [r[0] for r in rows]
        accepted = {d.sid for d in sent if d.accepted}
        unanswered = {d.sid for d in sent if not d.accepted}
        return {
            "messages": len(sids),
            "distinct": len(set(sids)),
            "webhooks_accepted": len(accepted),
            "accepted_not_stored": len(accepted - set(sids)),
            "stored_without_event": sum(1 for r in rows if not r[1]),
            "stored_though_never_acknowledged": len(unanswered & set(sids)),
        }

    def block_database(self, blocked: bool) -> None:
        """Make the harness's database refuse every connection (or accept again)."""
        name = self.database_url.rsplit("/", 1)[-1]
        admin = self.database_url.rsplit("/", 1)[0] + "/postgres"
        psql(admin, f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {not blocked}')
        if blocked:
            psql(
                admin,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
            )

    def rss(self, pid: int, samples: int = 5) -> float:
        values = []
        for _ in range(samples):
            values.append(rss_bytes(pid) or 0)
            time.sleep(0.2)
        return sum(values) / len(values)


def summarise_outages(outages: list[dict]) -> dict:
    """How long sockets were away when the server went, and how they came back."""
    if not outages:
        return {"count": 0}
    back = [o for o in outages if o.get("back")]
    return {
        "count": len(outages),
        "sockets": len({o["index"] for o in outages}),
        "came_back": len(back),
        "reloaded": sum(1 for o in back if o.get("reload")),
        "replayed": sum(o.get("replayed") or 0 for o in back),
        "away_ms": stats.describe([(o["back"] - o["lost"]) * 1000 for o in back]),
    }


def crossing(sockets: list[dict], sent: list, target: Target, harness: Harness) -> dict:
    """Deliveries per (server that took the webhook) x (server of the socket)."""
    by_server = {d.seq: d.server for d in sent if d.accepted}
    home = {}
    for index in {s["index"] for s in sockets}:
        home[index] = target.servers[index % len(target.servers)].url
    table: dict[str, int] = {}
    expected: dict[str, int] = {}
    for socket in sockets:
        seen = set(socket["seqs"])
        for seq, server in by_server.items():
            key = f"{port_of(server)}->{port_of(home[socket['index']])}"
            expected[key] = expected.get(key, 0) + 1
            if seq in seen:
                table[key] = table.get(key, 0) + 1
    return {
        key: {"expected": expected[key], "delivered": table.get(key, 0)}
        for key in sorted(expected)
    }


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[-1] if url else "?"

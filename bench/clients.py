"""Simulated agent consoles: real WebSocket clients, many per process.

A ``ClientPool`` (``bench.pool``) spreads sockets over a few worker processes: one Python process
cannot read thousands of frames a second and still time them well. Each socket
opens ``/ws/console/`` with its agent's session cookie, reads every frame, and
for each bench text it sees notes how long after its webhook was sent it arrived
(the text carries the send time; CLOCK_MONOTONIC is one clock for every process
of a Linux machine). A socket that is closed reconnects, to its home server
first and then to the others as a load balancer would, and resumes from the
last cursor it saw (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

# What a bench text carries: "[bench <phase>:<seq> <monotonic send time>]".
MARK = re.compile(r"\[bench (\w+):(\d+) ([\d.]+)\]")
LIVE, RESUMED = 0, 1
# A server restarting (1012) or shedding load (1013) asks consoles to come
# back after a random 0.5 to 5 s (consumers/draining.py, static/console/js).
RESTART_CODES = (1012, 1013)
RESTART_JITTER = (0.5, 5.0)


def bench_text(phase: str, seq: int, sent: float) -> str:
    """The body of bench text ``seq`` of ``phase``, sent at ``sent``."""
    return f"Any news on my quote? [bench {phase}:{seq} {sent:.6f}]"


@dataclass
class SocketSpec:
    """One agent console: who it is and where it may connect (home first)."""

    index: int
    agent: int
    session: str
    urls: list[str]
    resume: bool = True  # the floor has no resume


@dataclass
class Outbound:
    """One text an agent sends, and when each of its steps reached the socket."""

    client_id: str
    conversation: int
    sent: float
    ack: float | None = None
    message: int | None = None
    error: str | None = None
    statuses: dict[str, float] = field(default_factory=dict)


class Console:
    """One agent's socket: connects, reconnects, resumes and records."""

    def __init__(self, spec: SocketSpec):
        self.spec = spec
        self.cursor: int | None = None
        self.ws = None
        self.url = ""
        self.ready = asyncio.Event()
        self.failed: str | None = None
        self.closing = False
        self.connected_at: float | None = None
        self.connect_ms: float | None = None
        self.resuming = False
        self.deliveries: dict[str, dict[int, tuple[float, int]]] = {}
        self.frames: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.close_codes: Counter[str] = Counter()
        self.outages: list[dict] = []
        self.reloads = 0
        self.catch_ups = 0
        self.attempts = 0  # handshakes tried (a reconnect storm's cost)
        self.hellos: list[float] = []  # when each hello arrived
        self.outbound: dict[str, Outbound] = {}
        self.by_message: dict[int, Outbound] = {}
        self.task: asyncio.Task | None = None

    def headers(self, url: str) -> dict[str, str]:
        origin = "http://" + url.split("://", 1)[1].split("/", 1)[0]
        return {"Cookie": f"sessionid={self.spec.session}", "Origin": origin}

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import (
            ConnectionClosed,
            InvalidHandshake,
            InvalidStatus,
        )

        attempt = 0
        started = time.monotonic()
        while not self.closing:
            pause = 0.0
            urls = self.spec.urls
            url = urls[attempt % len(urls)]
            self.attempts += 1
            try:
                async with connect(
                    url,
                    additional_headers=self.headers(url),
                    open_timeout=60,
                    ping_interval=20,
                    ping_timeout=60,
                    close_timeout=2,
                    max_size=2**23,
                    # Thousands of sockets and their reconnects from one address
                    # would run out of ephemeral ports: spread them over 127/8.
                    local_addr=(f"127.0.{2 + self.spec.index // 250 % 250}."
                                f"{1 + self.spec.index % 250}", 0),
                ) as ws:
                    self.ws = ws
                    self.url = url
                    attempt = 0
                    await self.session(ws, started)
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else "none"
                self.close_codes[str(code)] += 1
                if code in (4401, 4403):
                    self.failed = f"closed by the server with {code}"
                    self.ready.set()
                    return
                if code in RESTART_CODES:  # as the console does: not all at once
                    pause = random.uniform(*RESTART_JITTER)
            except InvalidStatus as exc:  # refused: 403, 502, 503...
                self.close_codes[f"http {exc.response.status_code}"] += 1
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                self.close_codes[type(exc).__name__] += 1
            finally:
                self.ws = None
            if self.closing:
                return
            ongoing = self.outages and self.outages[-1].get("back") is None
            if self.connected_at is not None and not ongoing:
                self.outages.append({"lost": time.monotonic(), "back": None})
            attempt += 1
            if pause:
                await asyncio.sleep(pause)
            elif attempt > len(self.spec.urls):
                await asyncio.sleep(
                    min(0.1 * 2 ** (attempt // 2), 2) * random.uniform(0.5, 1.5)
                )

    async def session(self, ws, started: float) -> None:
        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise ConnectionError(f"first frame was {hello.get('type')!r}, not hello")
        self.hellos.append(time.monotonic())
        if self.cursor is None or not self.spec.resume:
            self.cursor = hello.get("cursor", 0)
            if self.connected_at is None:
                self.connected_at = time.monotonic()
                self.connect_ms = (self.connected_at - started) * 1000
        else:
            self.resuming = True
            await ws.send(json.dumps({"type": "resume", "cursor": self.cursor}))
            if self.outages:
                self.outages[-1]["reconnected"] = time.monotonic()
                self.outages[-1]["url"] = self.url
        self.ready.set()
        async for raw in ws:
            self.on_frame(raw, time.monotonic())

    def on_frame(self, raw: str, now: float) -> None:
        data = json.loads(raw)
        kind = data.get("type")
        self.frames[kind] += 1
        if kind == "message.created":
            message = data.get("message") or {}
            mark = MARK.search(message.get("body") or "")
            if mark:
                phase, seq, sent = (
                    mark.group(1),
                    int(mark.group(2)),
                    float(mark.group(3)),
                )
                seen = self.deliveries.setdefault(phase, {})
                if seq not in seen:
                    via = RESUMED if self.resuming else LIVE
                    seen[seq] = ((now - sent) * 1000, via)
            elif message.get("client_id") in self.outbound:
                self.outbound[message["client_id"]].statuses.setdefault("created", now)
        elif kind == "message.status":
            record = self.by_message.get(data.get("message"))
            if record is not None:
                record.statuses.setdefault(data.get("status"), now)
        elif kind == "ack":
            record = self.outbound.get(data.get("client_id"))
            if record is not None:
                record.ack = now
                record.message = data.get("message")
                self.by_message[record.message] = record
        elif kind == "error":
            self.errors[data.get("code") or "error"] += 1
            record = self.outbound.get(data.get("client_id"))
            if record is not None:
                record.error = data.get("code")
        elif kind == "resumed":
            if not self.resuming:
                self.catch_ups += 1  # the server replayed without being asked
            self.resuming = False
            if self.outages:
                self.outages[-1]["back"] = now
                self.outages[-1]["replayed"] = data.get("replayed")
        elif kind == "reload":
            self.reloads += 1
            self.resuming = False
            if self.outages:
                self.outages[-1]["back"] = now
                self.outages[-1]["reload"] = True
        cursor = data.get("cursor")
        if (
            not self.resuming
            and isinstance(cursor, int)
            and kind not in ("hello", "reload")
        ):
            self.cursor = max(self.cursor or 0, cursor)
        elif kind == "reload" and isinstance(cursor, int):
            self.cursor = cursor

    async def send_text(self, conversation: int, body: str) -> None:
        record = Outbound(str(uuid.uuid4()), conversation, time.monotonic())
        self.outbound[record.client_id] = record
        if self.ws is None:
            record.error = "not connected"
            return
        await self.ws.send(
            json.dumps(
                {
                    "type": "message.send",
                    "client_id": record.client_id,
                    "conversation": conversation,
                    "body": body,
                }
            )
        )

    def report(self, phase: str) -> dict:
        seen = self.deliveries.pop(phase, {})
        return {
            "index": self.spec.index,
            "seqs": list(seen),
            "latency_ms": [v[0] for v in seen.values()],
            "via": [v[1] for v in seen.values()],
        }


class Worker:
    """One client process: its sockets, driven by commands from the pool."""

    def __init__(self, conn):
        self.conn = conn
        self.consoles: dict[int, Console] = {}
        self.background: set[asyncio.Task] = set()

    async def run(self) -> None:
        while True:
            command = await asyncio.to_thread(self.conn.recv)
            name = command.pop("cmd")
            if name == "exit":
                await self.close()
                self.conn.send({"ok": True})
                return
            try:
                reply = await getattr(self, f"do_{name}")(**command)
            except Exception as exc:  # report it to the harness rather than hang
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            self.conn.send(reply)

    async def do_connect(
        self, specs: list[SocketSpec], concurrency: int, timeout: float
    ):
        gate = asyncio.Semaphore(concurrency)
        fresh = [Console(spec) for spec in specs]

        async def start(console: Console):
            async with gate:
                self.consoles[console.spec.index] = console
                console.task = asyncio.create_task(console.run())
                try:
                    await asyncio.wait_for(console.ready.wait(), timeout)
                except TimeoutError:
                    console.failed = console.failed or "no hello in time"

        await asyncio.gather(*(start(c) for c in fresh))
        return {
            "ok": sum(1 for c in fresh if c.connected_at and not c.failed),
            "failed": [(c.spec.index, c.failed) for c in fresh if c.failed],
            "connect_ms": [c.connect_ms for c in fresh if c.connect_ms is not None],
        }

    async def do_progress(self, phase: str):
        deliveries = sum(
            len(c.deliveries.get(phase, ())) for c in self.consoles.values()
        )
        return {"deliveries": deliveries}

    async def do_report(self, phase: str):
        return {"sockets": [c.report(phase) for c in self.consoles.values()]}

    async def do_status(self):
        frames: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        codes: Counter[str] = Counter()
        outages = []
        for c in self.consoles.values():
            frames.update(c.frames)
            errors.update(c.errors)
            codes.update(c.close_codes)
            outages.extend({"index": c.spec.index, **o} for o in c.outages)
        return {
            "sockets": len(self.consoles),
            "open": sum(1 for c in self.consoles.values() if c.ws is not None),
            "open_by_url": dict(
                Counter(c.url for c in self.consoles.values() if c.ws is not None)
            ),
            "resuming": sum(1 for c in self.consoles.values() if c.resuming),
            "reloads": sum(c.reloads for c in self.consoles.values()),
            "catch_ups": sum(c.catch_ups for c in self.consoles.values()),
            "frames": dict(frames),
            "errors": dict(errors),
            "close_codes": dict(codes),
            "outages": outages,
        }

    async def do_reset_counters(self):
        for c in self.consoles.values():
            c.frames.clear()
            c.errors.clear()
            c.close_codes.clear()
            c.outages.clear()
            c.reloads = 0
            c.catch_ups = 0
            c.attempts = 0
            c.hellos.clear()
        return {"ok": True}

    async def do_hellos(self, since: float):
        """Per socket, when its first hello after ``since`` came (a storm's
        end), and the handshakes tried meanwhile."""
        firsts = [
            next((t for t in c.hellos if t >= since), None)
            for c in self.consoles.values()
        ]
        return {
            "sockets": len(firsts),
            "times": [t for t in firsts if t is not None],
            "attempts": sum(c.attempts for c in self.consoles.values()),
        }

    async def do_send(self, plan: list[tuple[int, int, float, str]]):
        """Schedule texts: (socket index, conversation, seconds from now, body)."""
        start = time.monotonic()

        async def one(index, conversation, offset, body):
            await asyncio.sleep(max(0.0, start + offset - time.monotonic()))
            await self.consoles[index].send_text(conversation, body)

        for item in plan:
            self.background.add(task := asyncio.create_task(one(*item)))
            task.add_done_callback(self.background.discard)
        return {"ok": True}

    async def do_outbound(self):
        records = []
        for c in self.consoles.values():
            records.extend(
                vars(r) | {"socket": c.spec.index} for r in c.outbound.values()
            )
            c.outbound.clear()
            c.by_message.clear()
        return {"records": records}

    async def do_disconnect(self, indexes: list[int]):
        for index in indexes:
            console = self.consoles.pop(index, None)
            if console is not None:
                console.closing = True
                if console.ws is not None:
                    await console.ws.close()
                if console.task:
                    console.task.cancel()
        return {"ok": True}

    async def close(self) -> None:
        await self.do_disconnect(list(self.consoles))


def worker_main(conn) -> None:
    asyncio.run(Worker(conn).run())

"""The client processes that hold the agents' sockets (``bench.clients``):
every command goes to all of them, and their answers are merged."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter

from bench.clients import SocketSpec, worker_main


class ClientPool:
    """Worker processes holding the sockets; every command goes to all of them."""

    def __init__(self, processes: int):
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        for _ in range(processes):
            parent, child = context.Pipe()
            process = context.Process(target=worker_main, args=(child,), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        self.where: dict[int, int] = {}
        self.lock = asyncio.Lock()

    async def call(
        self, cmd: str, per_worker: list[dict] | None = None, **kwargs
    ) -> list:
        """Send a command to every worker (with its own arguments when given)."""
        async with self.lock:
            for i, pipe in enumerate(self.pipes):
                args = per_worker[i] if per_worker else kwargs
                pipe.send({"cmd": cmd, **args})
            replies = [await asyncio.to_thread(pipe.recv) for pipe in self.pipes]
        for reply in replies:
            if "error" in reply:
                raise RuntimeError(f"client worker failed on {cmd}: {reply['error']}")
        return replies

    async def connect(
        self, specs: list[SocketSpec], concurrency=100, timeout=120
    ) -> dict:
        shares: list[list[SocketSpec]] = [[] for _ in self.pipes]
        for n, spec in enumerate(specs):
            shares[n % len(self.pipes)].append(spec)
            self.where[spec.index] = n % len(self.pipes)
        per_worker = [
            {
                "specs": share,
                "concurrency": max(1, concurrency // len(self.pipes)),
                "timeout": timeout,
            }
            for share in shares
        ]
        replies = await self.call("connect", per_worker)
        return {
            "ok": sum(r["ok"] for r in replies),
            "failed": [f for r in replies for f in r["failed"]],
            "connect_ms": [m for r in replies for m in r["connect_ms"]],
        }

    async def deliveries(self, phase: str) -> int:
        return sum(r["deliveries"] for r in await self.call("progress", phase=phase))

    async def report(self, phase: str) -> list[dict]:
        return [s for r in await self.call("report", phase=phase) for s in r["sockets"]]

    async def status(self) -> dict:
        replies = await self.call("status")
        merged: dict = {
            "sockets": 0,
            "open": 0,
            "resuming": 0,
            "reloads": 0,
            "catch_ups": 0,
        }
        counters = {"frames": Counter(), "errors": Counter(), "close_codes": Counter()}
        outages = []
        by_url: Counter[str] = Counter()
        for r in replies:
            by_url.update(r["open_by_url"])
            for key in merged:
                merged[key] += r[key]
            for key, counter in counters.items():
                counter.update(r[key])
            outages.extend(r["outages"])
        return (
            merged
            | {k: dict(v) for k, v in counters.items()}
            | {"outages": outages, "open_by_url": dict(by_url)}
        )

    async def hellos(self, since: float) -> dict:
        replies = await self.call("hellos", since=since)
        return {
            "sockets": sum(r["sockets"] for r in replies),
            "times": sorted(t for r in replies for t in r["times"]),
            "attempts": sum(r["attempts"] for r in replies),
        }

    async def send(self, plan: list[tuple[int, int, float, str]]) -> None:
        per_worker = [{"plan": []} for _ in self.pipes]
        for item in plan:
            per_worker[self.where[item[0]]]["plan"].append(item)
        await self.call("send", per_worker)

    async def outbound(self) -> list[dict]:
        return [rec for r in await self.call("outbound") for rec in r["records"]]

    async def disconnect_all(self) -> None:
        await self.call(
            "disconnect",
            per_worker=[
                {"indexes": [i for i, w in self.where.items() if w == n]}
                for n in range(len(self.pipes))
            ],
        )
        self.where.clear()

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.call("exit"), 30)
        except Exception:
            pass
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()

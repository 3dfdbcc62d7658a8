"""What a process holds and what a text costs (issue 21): 10,000 idle consoles
on one process, and server CPU per inbound text delivered to 100 sockets,
each beside the floor's in the same run."""

from __future__ import annotations

import resource
from pathlib import Path

from bench import stats
from bench.harness import Harness, Target
from bench.scenarios import idle_one, warm_up


def open_files_limit(pid: int) -> int | None:
    """The soft limit on open files of a running process (/proc/<pid>/limits)."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_limits(h: Harness, target: Target, sockets: int) -> dict:
    """Each socket is a file on the server and one in a client process: the
    limits must hold them all (the harness raised its own to the hard limit,
    and the processes it starts inherit that)."""
    server = open_files_limit(target.servers[0].process.pid)
    per_client = -(-sockets // len(h.pool.processes))
    clients = open_files_limit(h.pool.processes[0].pid)
    out = {
        "harness_soft_hard": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
        "server": server,
        "client_process": clients,
        "client_processes": len(h.pool.processes),
        "sockets_per_client_process": per_client,
    }
    margin = 200  # the server's database, Redis and log files besides its sockets
    if (server is not None and server < sockets + margin) or (
        clients is not None and clients < per_client + margin
    ):
        raise RuntimeError(f"open files limit too low for {sockets} sockets: {out}")
    return out


async def idle10k(h: Harness) -> dict:
    """10,000 idle consoles on one process held for a minute, then one text to all."""
    p = h.profile
    h.ensure_agents(p.agents + p.idle10k_agents)
    out: dict = {}
    floor = h.floor()
    try:
        out["limits_floor"] = check_limits(h, floor, p.idle10k_agents)
        h.say(f"floor: {p.idle10k_agents} idle sockets for {p.idle10k_hold:.0f} s")
        out["floor"] = await idle_one(
            h, floor, p.idle10k_agents, p.idle10k_hold, texts=1
        )
    finally:
        floor.servers[0].stop()
    product = h.product()
    out["limits"] = check_limits(h, product, p.idle10k_agents)
    h.say(f"product: {p.idle10k_agents} idle sockets for {p.idle10k_hold:.0f} s")
    out["product"] = await idle_one(
        h, product, p.idle10k_agents, p.idle10k_hold, texts=1
    )
    out["kb_per_socket_ratio"] = stats.ratio(
        out["product"]["kb_per_socket"], out["floor"]["kb_per_socket"]
    )
    return out


async def cpu_one(h: Harness, target: Target) -> dict:
    p = h.profile
    await h.pool.disconnect_all()
    await h.connect(h.specs(target, 0, p.cpu_agents))
    await warm_up(h, target, p.cpu_agents)
    h.say(
        f"{target.name}: {p.cpu_rate}/s for {p.cpu_seconds:.0f} s to "
        f"{p.cpu_agents} sockets, CPU per text"
    )
    run = await h.measure(
        target,
        f"{target.name}cpu",
        p.cpu_rate,
        int(p.cpu_rate * p.cpu_seconds),
        p.cpu_agents,
    )
    await h.pool.disconnect_all()
    return {
        "cpu_ms_per_text": run["cpu_ms_per_text"],
        "texts": run["webhooks"]["accepted"],
        "webhook_to_socket_ms": run["deliveries"]["latency_ms"],
        "missing": run["deliveries"]["missing"],
        "resources": run["resources"],
        "run": run,
    }


async def cpu_per_text(h: Harness) -> dict:
    """Server CPU per inbound text delivered to 100 sockets: web process,
    worker and PostgreSQL backends for ours, the Daphne process for the floor."""
    p = h.profile
    out: dict = {"agents": p.cpu_agents, "rate": p.cpu_rate, "seconds": p.cpu_seconds}
    floor = h.floor()
    try:
        out["floor"] = await cpu_one(h, floor)
    finally:
        floor.servers[0].stop()
    out["product"] = await cpu_one(h, h.product())
    out["ratio"] = stats.ratio(
        out["product"]["cpu_ms_per_text"]["total"],
        out["floor"]["cpu_ms_per_text"]["total"],
    )
    return out

"""The runs the issue asks for, each against the product and, where it compares,
the floor: steady load, a rate sweep, idle sockets, two processes, faults."""

from __future__ import annotations

import asyncio
import time

from bench import stats
from bench.harness import Harness, Target

# A run "holds" at a rate while its p99 webhook-to-socket latency stays under this.
SWEEP_P99_MS = 250


async def warm_up(h: Harness, target: Target, sockets: int) -> None:
    """One text from every lead number (the product makes their leads), then a
    few seconds at a low rate, so measured runs start on a warm server."""
    numbers = len(h.numbers)
    await h.measure(
        target, f"warm{target.name}", rate=10, count=numbers, sockets=sockets
    )
    await h.measure(target, f"warm{target.name}2", rate=5, count=10, sockets=sockets)


async def steady(h: Harness) -> dict:
    """N agents who all see every text, R webhooks a second, for a while."""
    p = h.profile
    count = int(p.rate * p.duration)
    out: dict = {"agents": p.agents, "rate": p.rate, "seconds": p.duration}
    floor = h.floor()
    try:
        out["floor_connect"] = await h.connect(h.specs(floor, 0, p.agents))
        await warm_up(h, floor, p.agents)
        h.say(f"floor: {p.agents} sockets, {p.rate}/s for {p.duration:.0f} s")
        out["floor"] = await h.measure(floor, "floorsteady", p.rate, count, p.agents)
        await h.pool.disconnect_all()
    finally:
        floor.servers[0].stop()
    product = h.product()
    out["product_connect"] = await h.connect(h.specs(product, 0, p.agents))
    await warm_up(h, product, p.agents)
    h.say(
        f"product: {p.agents} sockets, {p.rate}/s for {p.duration:.0f} s, "
        f"with agents texting out at {p.outbound_rate}/s"
    )
    out["product"] = await h.measure(
        product,
        "steady",
        p.rate,
        count,
        p.agents,
        outbound=int(p.outbound_rate * p.duration) if p.outbound_senders else 0,
    )
    out["ratios"] = ratios(out["product"], out["floor"])
    return out


def ratios(ours: dict, floor: dict) -> dict:
    """Each figure of ours as a multiple of the floor's."""
    d, f = ours["deliveries"], floor["deliveries"]
    w, fw = ours["webhooks"]["response_ms"], floor["webhooks"]["response_ms"]
    cpu = ours["resources"].get("processes", {}).get("daphne", {})
    fcpu = floor["resources"].get("processes", {}).get("daphne", {})
    return {
        "webhook_to_socket_p50": stats.ratio(
            d["latency_ms"]["p50"], f["latency_ms"]["p50"]
        ),
        "webhook_to_socket_p99": stats.ratio(
            d["latency_ms"]["p99"], f["latency_ms"]["p99"]
        ),
        "webhook_to_socket_max": stats.ratio(
            d["latency_ms"]["max"], f["latency_ms"]["max"]
        ),
        "webhook_response_p50": stats.ratio(w["p50"], fw["p50"]),
        "webhook_response_p99": stats.ratio(w["p99"], fw["p99"]),
        "deliveries_per_second": stats.ratio(d["per_second"], f["per_second"]),
        "daphne_cpu": stats.ratio(cpu.get("cpu_percent"), fcpu.get("cpu_percent")),
        "daphne_rss": stats.ratio(cpu.get("rss_mb"), fcpu.get("rss_mb")),
    }


async def sweep_one(h: Harness, target: Target, sockets: int) -> dict:
    """Rising rates until p99 passes SWEEP_P99_MS (or a text goes missing)."""
    p = h.profile
    steps = []
    best = None
    for rate in p.sweep_rates:
        count = max(1, int(rate * p.sweep_step))
        phase = f"{target.name}sweep{int(rate)}"
        result = await h.measure(target, phase, rate, count, sockets, stall=5)
        d = result["deliveries"]
        step = {
            "rate": rate,
            "webhook_to_socket_ms": d["latency_ms"],
            "webhook_response_ms": result["webhooks"]["response_ms"],
            "missing": d["missing"],
            "deliveries_per_second": d["per_second"],
            "daphne_cpu_percent": result["resources"]
            .get("processes", {})
            .get("daphne", {})
            .get("cpu_percent"),
        }
        steps.append(step)
        h.say(
            f"  {target.name} {rate}/s: p50 {d['latency_ms']['p50']} ms, "
            f"p99 {d['latency_ms']['p99']} ms, missing {d['missing']}"
        )
        holds = (
            d["missing"] == 0
            and d["latency_ms"]["p99"] is not None
            and d["latency_ms"]["p99"] < SWEEP_P99_MS
        )
        if not holds:
            break
        best = rate
        await asyncio.sleep(2)
    return {
        "steps": steps,
        "max_rate": best,
        "tried_up_to": steps[-1]["rate"] if steps else None,
    }


async def sweep(h: Harness) -> dict:
    """The highest rate that keeps p99 under 250 ms: ours against the floor's."""
    p = h.profile
    out: dict = {
        "agents": p.agents,
        "step_seconds": p.sweep_step,
        "p99_limit_ms": SWEEP_P99_MS,
    }
    await h.pool.disconnect_all()
    floor = h.floor()
    try:
        await h.connect(h.specs(floor, 0, p.agents))
        await warm_up(h, floor, p.agents)
        h.say("floor: rate sweep")
        out["floor"] = await sweep_one(h, floor, p.agents)
        await h.pool.disconnect_all()
    finally:
        floor.servers[0].stop()
    product = h.product()
    await h.connect(h.specs(product, 0, p.agents))
    # As the floor: the leads exist and the server is warm before the sweep
    # (run alone, the sweep would otherwise measure 50 new leads at 5/s).
    await warm_up(h, product, p.agents)
    h.say("product: rate sweep")
    out["product"] = await sweep_one(h, product, p.agents)
    await h.pool.disconnect_all()
    out["ratio"] = stats.ratio(out["product"]["max_rate"], out["floor"]["max_rate"])
    return out


async def idle_one(
    h: Harness,
    target: Target,
    count: int | None = None,
    hold: float | None = None,
    texts: int = 3,
) -> dict:
    p = h.profile
    count = count or p.idle_agents
    hold = p.idle_hold if hold is None else hold
    server = target.servers[0]
    await h.pool.disconnect_all()
    await asyncio.sleep(2)
    before = h.rss(server.process.pid)
    first = p.agents  # agents who took no part in the earlier runs
    connect = await h.connect(h.specs(target, first, count), timeout=900)
    await asyncio.sleep(3)
    after = h.rss(server.process.pid)
    # Hold them idle past the channel layer's old 5 s timeout (DESIGN.md's trap).
    await asyncio.sleep(hold)
    status = await h.pool.status()
    # Then one text to all of them at once.
    fan = await h.measure(
        target,
        f"{target.name}idlefan",
        rate=1,
        count=texts,
        sockets=count,
        # A text to 10,000 sockets takes seconds to fan out on this machine.
        stall=10 if texts > 1 else 60,
    )
    await h.pool.disconnect_all()
    return {
        "sockets": count,
        "connect": connect,
        "rss_mb_before": round(before / 2**20, 1),
        "rss_mb_after": round(after / 2**20, 1),
        "kb_per_socket": round((after - before) / count / 1024, 1),
        "still_open_after_hold": status["open"],
        "held_seconds": hold,
        "close_codes": status["close_codes"],
        "one_text_to_all": {
            "latency_ms": fan["deliveries"]["latency_ms"],
            "missing": fan["deliveries"]["missing"],
            "webhook_response_ms": fan["webhooks"]["response_ms"],
        },
    }


async def idle(h: Harness) -> dict:
    """Thousands of idle agents on one process, and what each one costs."""
    out: dict = {}
    floor = h.floor()
    try:
        h.say(f"floor: {h.profile.idle_agents} idle sockets")
        out["floor"] = await idle_one(h, floor)
    finally:
        floor.servers[0].stop()
    h.say(f"product: {h.profile.idle_agents} idle sockets")
    out["product"] = await idle_one(h, h.product())
    out["kb_per_socket_ratio"] = stats.ratio(
        out["product"]["kb_per_socket"], out["floor"]["kb_per_socket"]
    )
    return out


async def cluster(h: Harness) -> dict:
    """Two Daphne processes: agents on both, webhooks to both, every text
    reaching every agent across processes."""
    p = h.profile
    await h.pool.disconnect_all()
    product = h.product(servers=2)
    connected = await h.connect(h.specs(product, 0, p.agents))
    h.say(
        f"two processes: {p.agents} sockets spread, {p.rate}/s for "
        f"{p.cluster_duration:.0f} s"
    )
    result = await h.measure(
        product, "cluster", p.rate, int(p.rate * p.cluster_duration), p.agents
    )
    await h.pool.disconnect_all()
    result["connect"] = connected
    return result


async def fault_redis(h: Harness) -> dict:
    """Redis killed and restarted mid-run."""
    p = h.profile
    await h.pool.disconnect_all()
    product = h.product(servers=1)
    connected = await h.connect(h.specs(product, 0, p.agents))

    async def fault(log: dict) -> None:
        await asyncio.sleep(p.fault_at)
        log["redis_killed"] = time.monotonic()
        h.redis.stop()
        await asyncio.sleep(p.outage)
        h.redis.start()
        log["redis_back"] = time.monotonic()

    h.say(f"fault: Redis down for {p.outage:.0f} s at {p.fault_at:.0f} s")
    result = await h.measure(
        product,
        "faultredis",
        p.rate,
        int(p.rate * p.fault_duration),
        p.agents,
        fault=fault,
        stall=15,
    )
    await h.pool.disconnect_all()
    result["connect"] = connected
    return result


async def fault_postgres(h: Harness) -> dict:
    """PostgreSQL refusing every connection for a few seconds mid-run."""
    p = h.profile
    await h.pool.disconnect_all()
    product = h.product(servers=1)
    connected = await h.connect(h.specs(product, 0, p.agents))

    async def fault(log: dict) -> None:
        await asyncio.sleep(p.fault_at)
        log["database_blocked"] = time.monotonic()
        await asyncio.to_thread(h.block_database, True)
        await asyncio.sleep(p.outage)
        await asyncio.to_thread(h.block_database, False)
        log["database_back"] = time.monotonic()

    h.say(f"fault: PostgreSQL down for {p.outage:.0f} s at {p.fault_at:.0f} s")
    try:
        result = await h.measure(
            product,
            "faultpg",
            p.rate,
            int(p.rate * p.fault_duration),
            p.agents,
            fault=fault,
            stall=15,
        )
    finally:
        await asyncio.to_thread(h.block_database, False)
    await h.pool.disconnect_all()
    result["connect"] = connected
    return result


async def fault_daphne(h: Harness) -> dict:
    """One of two Daphne processes killed mid-run: its agents move to the other."""
    p = h.profile
    await h.pool.disconnect_all()
    product = h.product(servers=2)
    connected = await h.connect(h.specs(product, 0, p.agents))
    victim = product.servers[1]

    async def fault(log: dict) -> None:
        await asyncio.sleep(p.fault_at)
        on_victim = (await h.pool.status())["open_by_url"].get(victim.ws_url, 0)
        log["daphne_killed"] = time.monotonic()
        log["killed_port"] = victim.port
        victim.process.kill()
        log["sockets_on_killed"] = on_victim

    h.say(f"fault: one of two Daphne processes killed at {p.fault_at:.0f} s")
    result = await h.measure(
        product,
        "faultdaphne",
        p.rate,
        int(p.rate * p.fault_duration),
        p.agents,
        fault=fault,
        stall=15,
    )
    await h.pool.disconnect_all()
    victim.process.wait(10)
    h.stack.servers.remove(victim)
    result["connect"] = connected
    return result


SCENARIOS = {
    "steady": steady,
    "sweep": sweep,
    "idle": idle,
    "cluster": cluster,
    "fault_redis": fault_redis,
    "fault_postgres": fault_postgres,
    "fault_daphne": fault_daphne,
}

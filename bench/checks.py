"""The issue's targets, checked against a run's figures.

``speed`` checks are the issue's numbers for the full run (100 agents, 20/s);
a quick run reports them too, at its own smaller load. ``correctness`` checks
(nothing lost, nothing half-stored) must hold in every run: the command exits
non-zero when one fails.
"""

from __future__ import annotations


def get(data: dict, *path, default=None):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def evaluate(result: dict) -> list[dict]:
    s = result["scenarios"]
    out: list[dict] = []

    def check(name, kind, target, measured, ok):
        out.append(
            {
                "name": name,
                "kind": kind,
                "target": target,
                "measured": measured,
                "pass": None if measured is None else bool(ok),
            }
        )

    steady = get(s, "steady", "product")
    if steady:
        p99 = get(steady, "deliveries", "latency_ms", "p99")
        check(
            "steady: webhook-to-socket p99",
            "speed",
            "< 150 ms",
            p99,
            p99 is not None and p99 < 150,
        )
        w99 = get(steady, "webhooks", "response_ms", "p99")
        check(
            "steady: webhook answered, p99",
            "speed",
            "< 100 ms",
            w99,
            w99 is not None and w99 < 100,
        )
        lost(check, "steady", steady)
    sweep = s.get("sweep")
    if sweep:
        ratio = sweep.get("ratio")
        check(
            "sweep: highest rate with p99 < 250 ms, ours / floor's",
            "speed",
            ">= 0.7",
            ratio,
            ratio is not None and ratio >= 0.7,
        )
    idle = get(s, "idle", "product")
    if idle:
        check(
            "idle: sockets still open after the hold",
            "correctness",
            f"{idle['sockets']}",
            idle["still_open_after_hold"],
            idle["still_open_after_hold"] == idle["sockets"],
        )
        check(
            "idle: memory per idle socket",
            "speed",
            "reported",
            f"{idle['kb_per_socket']} KiB",
            True,
        )
        check(
            "idle: one text to every idle socket, none missing",
            "correctness",
            "0",
            idle["one_text_to_all"]["missing"],
            idle["one_text_to_all"]["missing"] == 0,
        )
    if s.get("cluster"):
        lost(check, "two processes", s["cluster"])
        crossing = s["cluster"].get("crossing", {})
        short = sum(v["expected"] - v["delivered"] for v in crossing.values())
        check(
            "two processes: every delivery across processes",
            "correctness",
            "0 short",
            short,
            short == 0 and len(crossing) == 4,
        )
    for name, label in (
        ("fault_redis", "Redis restarted"),
        ("fault_postgres", "PostgreSQL down"),
        ("fault_daphne", "a Daphne killed"),
    ):
        if s.get(name):
            lost(check, label, s[name])
    killed = s.get("fault_daphne")
    if killed:
        outages = killed["sockets"]["outages"]
        moved = outages.get("came_back", 0)
        on_killed = killed["fault"]["sockets_on_killed"]
        check(
            "a Daphne killed: its agents reconnected to the other and resumed",
            "correctness",
            f"all {on_killed} on it",
            moved,
            on_killed > 0 and moved == outages.get("sockets") == on_killed,
        )
    pg = s.get("fault_postgres")
    if pg:
        answers = pg["webhooks"]["answers"]
        bad = {k: v for k, v in answers.items() if k not in ("200", "503")}
        check(
            "PostgreSQL down: answers are 200 or 503 (Twilio retries)",
            "correctness",
            "only 200/503",
            answers,
            not bad,
        )
    restarts(check, s)
    return out


def restarts(check, s: dict) -> None:
    """Issue 21's targets: storm, idle10k, rolling, cpu_per_text."""
    storm = s.get("storm")
    if storm:
        ours = storm["product"]
        check(
            "storm: every console has its hello back after the restart",
            "correctness",
            f"{ours['sockets']}",
            ours["hellos_back"],
            ours["hellos_back"] == ours["sockets"],
        )
        ratio = storm.get("all_back_ratio")
        check(
            "storm: all hellos back, ours / floor's time",
            "speed",
            "<= 3",
            ratio,
            ratio is not None and ratio <= 3,
        )
        refused = sum(ours["refusals_by_status"].values())
        check(
            "storm: handshakes refused with an HTTP status (403...)",
            "speed",
            "0",
            ours["refusals_by_status"] or 0,
            refused == 0,
        )
    big = s.get("idle10k")
    if big:
        ours = big["product"]
        check(
            "idle10k: sockets still open after the hold",
            "correctness",
            f"{ours['sockets']}",
            ours["still_open_after_hold"],
            ours["still_open_after_hold"] == ours["sockets"],
        )
        check(
            "idle10k: one text to every idle socket, none missing",
            "correctness",
            "0",
            ours["one_text_to_all"]["missing"],
            ours["one_text_to_all"]["missing"] == 0,
        )
        ratio = big.get("kb_per_socket_ratio")
        check(
            "idle10k: memory per idle socket, ours / floor's",
            "speed",
            "<= 1.3",
            ratio,
            ratio is not None and ratio <= 1.3,
        )
    roll = s.get("rolling")
    if roll:
        lost(check, "rolling deploy", roll["roll"])
        check(
            "rolling deploy: every console back",
            "correctness",
            f"{roll['agents']}",
            roll["open_after"],
            roll["open_after"] == roll["agents"],
        )
        check(
            "rolling deploy: p99 webhook-to-socket, roll / steady",
            "speed",
            "reported",
            roll.get("p99_ratio_roll_to_steady"),
            True,
        )
    cpu = s.get("cpu_per_text")
    if cpu:
        lost(check, "cpu_per_text", cpu["product"]["run"])
        ratio = cpu.get("ratio")
        check(
            "cpu_per_text: server CPU per text to 100 sockets, ours / floor's",
            "speed",
            "<= 1.3",
            ratio,
            ratio is not None and ratio <= 1.3,
        )


def lost(check, label: str, run: dict) -> None:
    """Nothing lost: every webhook accepted is stored once, whole, and reaches
    every socket (live or on resume)."""
    d = run["deliveries"]
    check(
        f"{label}: deliveries missing after resume",
        "correctness",
        "0",
        d["missing"],
        d["missing"] == 0,
    )
    w = run["webhooks"]
    check(
        f"{label}: webhooks accepted",
        "correctness",
        f"{w['sent']}",
        w["accepted"],
        w["accepted"] == w["sent"],
    )
    stored = run.get("stored")
    if stored:
        check(
            f"{label}: stored once, whole, per accepted webhook",
            "correctness",
            "stored == accepted, no duplicates, none without its event",
            f"{stored['distinct']} stored / {stored['webhooks_accepted']} accepted, "
            f"{stored['messages'] - stored['distinct']} duplicates, "
            f"{stored['stored_without_event']} without event",
            stored["accepted_not_stored"] == 0
            and stored["messages"] == stored["distinct"]
            and stored["stored_without_event"] == 0,
        )


def table(result: dict) -> str:
    lines = ["", "checks:"]
    for c in result.get("checks", []):
        mark = {True: "pass", False: "FAIL", None: "n/a "}[c["pass"]]
        lines.append(f"  [{mark}] {c['name']}: {c['measured']} (target {c['target']})")
    for name, error in result.get("failures", {}).items():
        lines.append(f"  [FAIL] {name} did not complete: {error}")
    return "\n".join(lines)

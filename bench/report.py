"""A run's figures as the Markdown tables of docs/performance.md.

python -m bench.report bench/results/latest/result.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def ms(d: dict | None, *keys: str) -> str:
    if not d:
        return "-"
    return " / ".join("-" if d.get(k) is None else f"{d[k]:.0f}" for k in keys)


def answers(counts: dict) -> str:
    """HTTP statuses and how many of each ("0": no answer)."""
    return ", ".join(f"{n} x {status}" for status, n in sorted(counts.items()))


def machine(result: dict) -> str:
    m = result["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return "\n".join(
        [
            f"- {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, "
            f"Linux {m['kernel']}, Python {m['python']}; {m['postgresql']}; "
            f"{m['redis'].split(' sha')[0]}.",
            f"- {packages}.",
            f"- Load average (1 min) {m['load_average_at_start'][0]:.1f} at the "
            f"start and {m['load_average_at_end'][0]:.1f} at the end of the run, "
            "which took "
            f"{result['seconds'] // 60} min; started {result['started']}.",
            f"- `{result['command']}`"
            + (f" with {result['server_env']}" if result.get("server_env") else ""),
        ]
    )


def table(result: dict) -> str:
    s = result["scenarios"]
    rows = ["| figure | ours | floor | ours / floor |", "|---|---|---|---|"]

    def row(name, ours, floor="-", ratio="-"):
        rows.append(f"| {name} | {ours} | {floor} | {ratio} |")

    steady = s.get("steady")
    if steady:
        p, f, r = steady["product"], steady["floor"], steady["ratios"]
        pd, fd = p["deliveries"], f["deliveries"]
        row(
            f"webhook to socket, p50 / p99 / max (ms), {steady['agents']} agents, "
            f"{steady['rate']:.0f}/s, {steady['seconds']:.0f} s",
            ms(pd["latency_ms"], "p50", "p99", "max"),
            ms(fd["latency_ms"], "p50", "p99", "max"),
            f"{r['webhook_to_socket_p50']} / {r['webhook_to_socket_p99']} / "
            f"{r['webhook_to_socket_max']}",
        )
        row(
            "webhook answered, p50 / p99 (ms)",
            ms(p["webhooks"]["response_ms"], "p50", "p99"),
            ms(f["webhooks"]["response_ms"], "p50", "p99"),
            f"{r['webhook_response_p50']} / {r['webhook_response_p99']}",
        )
        row(
            "deliveries per second",
            pd["per_second"],
            fd["per_second"],
            r["deliveries_per_second"],
        )
        stored = p["stored"]
        row(
            "webhooks accepted / texts stored / missing after resume",
            f"{p['webhooks']['accepted']} / {stored['distinct']} / {pd['missing']}",
            f"{f['webhooks']['accepted']} / - / {fd['missing']}",
        )
        pc = p["resources"]["processes"]
        fc = f["resources"]["processes"]
        row(
            "Daphne CPU, mean / peak (% of a core); memory (MB)",
            f"{pc['daphne']['cpu_percent']} / {pc['daphne']['cpu_percent_peak']}; "
            f"{pc['daphne']['rss_mb']}",
            f"{fc['daphne']['cpu_percent']} / {fc['daphne']['cpu_percent_peak']}; "
            f"{fc['daphne']['rss_mb']}",
            f"{r['daphne_cpu']}; {r['daphne_rss']}",
        )
        row(
            "frames per text per socket",
            p["sockets"]["frames_per_text_per_socket"],
            f["sockets"]["frames_per_text_per_socket"],
        )
        o = p.get("outbound")
        if o:
            row(
                "agent sends (1/s): send to ack, p50 / p99 (ms)",
                ms(o["send_to_ack_ms"], "p50", "p99"),
            )
            row(
                "agent send to carrier accepted, p50 / p99 (ms)",
                ms(o["send_to_carrier_accepted_ms"], "p50", "p99"),
            )
            row(
                "agent send to 'sent' on the socket, p50 / p99 (ms)",
                ms(o["send_to_sent_on_socket_ms"], "p50", "p99"),
            )
            row(
                "status callback to socket, p50 / p99 (ms)",
                ms(o["status_callback_to_socket_ms"], "p50", "p99"),
            )
    sweep = s.get("sweep")
    if sweep:
        row(
            f"highest rate with p99 < {sweep['p99_limit_ms']} ms "
            f"({sweep['agents']} agents)",
            f"{sweep['product']['max_rate']}/s",
            f"{sweep['floor']['max_rate']}/s",
            sweep["ratio"],
        )
    idle = s.get("idle")
    if idle:
        title = f"{idle['product']['sockets']} idle sockets on one process"
        idle_rows(idle, title, row)
    restart_rows(s, row)
    lines = ["\n".join(rows)]
    faults = [
        ("cluster", "two processes"),
        ("fault_redis", "Redis killed, back 4 s later"),
        ("fault_postgres", "PostgreSQL refusing for 4 s"),
        ("fault_daphne", "one of two Daphnes killed"),
    ]
    frows = [
        "| run | webhooks: answers | answered p99 (ms) "
        "| to socket p50 / p99 / max (ms) | stored / accepted | missing "
        "| sockets that reconnected / caught up |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in faults:
        v = s.get(name)
        if not v:
            continue
        d = v["deliveries"]
        st = v.get("stored", {})
        out = v["sockets"]["outages"]
        frows.append(
            f"| {label} | {answers(v['webhooks']['answers'])} | "
            f"{ms(v['webhooks']['response_ms'], 'p99')} | "
            f"{ms(d['latency_ms'], 'p50', 'p99', 'max')} | "
            f"{st.get('distinct')} / {v['webhooks']['accepted']} | {d['missing']} | "
            f"{out.get('came_back', 0)} (replayed {out.get('replayed', 0)}) / "
            f"{v['sockets']['caught_up_unasked']} |"
        )
    if len(frows) > 2:
        lines.append("\n".join(frows))
    q = s.get("queries")
    if q:
        qrows = [
            "| request | SQL statements | ms (one request, in-process) |",
            "|---|---|---|",
        ]
        for case in q["cases"]:
            qrows.append(f"| {case['case']} | {case['queries']} | {case['ms']} |")
        lines.append("\n".join(qrows))
    return "\n\n".join(lines)


def idle_rows(idle: dict, title: str, row) -> None:
    """An idle scenario's rows (idle, idle10k): memory, connecting, one text."""
    p, f = idle["product"], idle["floor"]
    row(
        f"{title}: memory per socket (KiB)",
        p["kb_per_socket"],
        f["kb_per_socket"],
        idle["kb_per_socket_ratio"],
    )
    row(
        "... connected in (s); still open after the hold",
        f"{p['connect']['seconds']}; {p['still_open_after_hold']}",
        f"{f['connect']['seconds']}; {f['still_open_after_hold']}",
    )
    row(
        "... one text to all of them: p50 / p99 (ms), missing",
        f"{ms(p['one_text_to_all']['latency_ms'], 'p50', 'p99')}, "
        f"{p['one_text_to_all']['missing']}",
        f"{ms(f['one_text_to_all']['latency_ms'], 'p50', 'p99')}, "
        f"{f['one_text_to_all']['missing']}",
    )


def restart_rows(s: dict, row) -> None:
    """Issue 21's scenarios: storm, idle10k, rolling, cpu_per_text."""
    storm = s.get("storm")
    if storm:
        p, f = storm["product"], storm["floor"]
        row(
            f"storm: {p['sockets']} consoles, their process restarted "
            f"({p['signal']}): all hellos back, s after it listened",
            p["all_back_seconds"],
            f["all_back_seconds"],
            storm["all_back_ratio"],
        )
        row(
            "... hello after the process listened, p50 / p99 (ms)",
            ms(p["hello_after_listen_ms"], "p50", "p99"),
            ms(f["hello_after_listen_ms"], "p50", "p99"),
        )
        row(
            "... handshakes tried per console; refused with a status",
            f"{p['attempts_per_socket']}; {p['refusals_by_status'] or 0}",
            f"{f['attempts_per_socket']}; {f['refusals_by_status'] or 0}",
        )
        row(
            "... statements per hello; server CPU ms per hello (web + database)",
            f"{p.get('statements_per_hello')}; {p['server_cpu_ms_per_hello']} "
            f"({p['web_cpu_seconds']} s + {p.get('database_cpu_seconds')} s)",
            f"-; {f['server_cpu_ms_per_hello']}",
            storm["cpu_per_hello_ratio"],
        )
    big = s.get("idle10k")
    if big:
        p = big["product"]
        title = f"idle10k: {p['sockets']} idle sockets held {p['held_seconds']:.0f} s"
        idle_rows(big, title, row)
    roll = s.get("rolling")
    if roll:
        st, rl = roll["steady"], roll["roll"]
        row(
            f"rolling: 3 processes behind HAProxy, {roll['agents']} agents, "
            f"{roll['rate']:.0f}/s: webhook to socket p50 / p99 / max (ms), "
            "during the roll (steady)",
            f"{ms(rl['deliveries']['latency_ms'], 'p50', 'p99', 'max')} "
            f"({ms(st['deliveries']['latency_ms'], 'p50', 'p99', 'max')})",
            "-",
            f"p99 roll / steady {roll['p99_ratio_roll_to_steady']}",
        )
        outages = rl["sockets"]["outages"]
        row(
            "... missing; stored / accepted; consoles back; away p99 (ms)",
            f"{rl['deliveries']['missing']}; {rl['stored']['distinct']} / "
            f"{rl['webhooks']['accepted']}; {roll['open_after']} / {roll['agents']}; "
            f"{ms(outages.get('away_ms'), 'p99')}",
        )
        row(
            "... sockets per process before / after the roll",
            f"{roll['spread_before']} / {roll['spread_after']}",
        )
    cpu = s.get("cpu_per_text")
    if cpu:
        p, f = cpu["product"]["cpu_ms_per_text"], cpu["floor"]["cpu_ms_per_text"]
        parts = ", ".join(f"{k} {v}" for k, v in p.items() if k != "total")
        row(
            f"server CPU ms per text to {cpu['agents']} sockets "
            f"({cpu['rate']:.0f}/s, {cpu['seconds']:.0f} s)",
            f"{p['total']} ({parts})",
            f["total"],
            cpu["ratio"],
        )


def main() -> None:
    result = json.loads(Path(sys.argv[1]).read_text())
    print(machine(result))
    print()
    print(table(result))
    print()
    for c in result.get("checks", []):
        mark = {True: "pass", False: "FAIL", None: "n/a"}[c["pass"]]
        print(f"- **{mark}** {c['name']}: {c['measured']} (target {c['target']})")


if __name__ == "__main__":
    main()

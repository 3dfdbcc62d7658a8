"""Plots of a run: latency over time, and latency percentiles against load."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OURS, FLOOR = "tab:blue", "tab:gray"


def timeline(ax, run: dict, label: str, color: str) -> None:
    points = run["deliveries"]["timeline"]
    t = [p["t"] for p in points]
    ax.plot(t, [p["p50"] for p in points], color=color, lw=1, label=f"{label} p50")
    ax.plot(t, [p["p99"] for p in points], color=color, lw=2, label=f"{label} p99")
    ax.plot(
        t, [p["max"] for p in points], color=color, lw=0.6, ls=":", label=f"{label} max"
    )


def shade_fault(ax, run: dict) -> None:
    fault = run.get("fault") or {}
    times = [v for v in fault.values() if isinstance(v, (int, float)) and v > 0]
    if "killed_port" in fault:
        times = [fault.get("daphne_killed", 0)]
    if len(times) >= 2:
        ax.axvspan(min(times), max(times), color="tab:red", alpha=0.15, label="fault")
    elif times:
        ax.axvline(times[0], color="tab:red", lw=1, label="fault")


def draw(result: dict, out_dir: Path) -> list[Path]:
    s = result["scenarios"]
    made = []
    steady = s.get("steady")
    if steady and "product" in steady and "floor" in steady:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
        timeline(top, steady["product"], "ours", OURS)
        timeline(top, steady["floor"], "floor", FLOOR)
        top.axhline(150, color="tab:red", lw=0.8, ls="--", label="target p99 150 ms")
        top.set_ylabel("webhook to socket (ms)")
        top.set_yscale("log")
        top.legend(fontsize=7, ncol=2)
        top.set_title(
            f"{steady['agents']} agents, {steady['rate']} webhooks/s: "
            "latency over time (by second the webhook was sent)"
        )
        for run, label, color in (
            (steady["product"], "ours", OURS),
            (steady["floor"], "floor", FLOOR),
        ):
            points = run["webhooks"]["timeline"]
            bottom.plot(
                [p["t"] for p in points],
                [p["p99"] for p in points],
                color=color,
                label=f"{label} webhook answered, p99",
            )
        bottom.axhline(100, color="tab:red", lw=0.8, ls="--", label="target 100 ms")
        bottom.set_ylabel("webhook response (ms)")
        bottom.set_xlabel("seconds into the run")
        bottom.legend(fontsize=7)
        made.append(save(fig, out_dir / "latency_over_time.png"))
    sweep = s.get("sweep")
    if sweep and sweep.get("product") and sweep.get("floor"):
        fig, ax = plt.subplots(figsize=(10, 5))
        for key, label, color in (("product", "ours", OURS), ("floor", "floor", FLOOR)):
            steps = sweep[key]["steps"]
            rates = [st["rate"] for st in steps]
            ax.plot(
                rates,
                [st["webhook_to_socket_ms"]["p50"] for st in steps],
                "o-",
                color=color,
                lw=1,
                label=f"{label} p50",
            )
            ax.plot(
                rates,
                [st["webhook_to_socket_ms"]["p99"] for st in steps],
                "s-",
                color=color,
                lw=2,
                label=f"{label} p99",
            )
        ax.axhline(
            sweep["p99_limit_ms"],
            color="tab:red",
            lw=0.8,
            ls="--",
            label=f"p99 limit {sweep['p99_limit_ms']} ms",
        )
        ax.set_xlabel(
            f"webhooks per second ({sweep['agents']} agents each see every one)"
        )
        ax.set_ylabel("webhook to socket (ms)")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set_title("latency percentiles against load: where it bends")
        made.append(save(fig, out_dir / "latency_vs_load.png"))
    faults = [
        (name, s[name])
        for name in ("fault_redis", "fault_postgres", "fault_daphne")
        if s.get(name)
    ]
    if faults:
        fig, axes = plt.subplots(
            len(faults), 1, figsize=(10, 3 * len(faults)), squeeze=False
        )
        for ax, (name, run) in zip(axes[:, 0], faults, strict=True):
            timeline(ax, run, "live", OURS)
            shade_fault(ax, run)
            ax.set_yscale("log")
            ax.set_ylabel("ms")
            d = run["deliveries"]
            ax.set_title(
                f"{name}: {d['live']} live, {d['resumed']} on resume, "
                f"{d['missing']} missing",
                fontsize=9,
            )
            ax.legend(fontsize=7, ncol=3)
        axes[-1, 0].set_xlabel("seconds into the run (by send time)")
        made.append(save(fig, out_dir / "faults.png"))
    return made


def save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

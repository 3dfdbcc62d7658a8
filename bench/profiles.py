"""How big a run is: ``full`` (the issues' figures) and ``quick`` (checks the
harness works); any field can be changed with ``--set field=value``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Profile:
    """How big a run is. ``full`` is the issue's; ``quick`` checks the harness."""

    name: str
    agents: int
    rate: float
    duration: float
    sweep_rates: list[float]
    sweep_step: float
    idle_agents: int
    idle_hold: float
    cluster_duration: float
    fault_duration: float
    fault_at: float
    outage: float
    outbound_senders: int
    outbound_rate: float
    client_processes: int
    lead_numbers: int
    profile_seconds: float
    # Issue 21 (bench/restarts.py, bench/capacity.py).
    storm_agents: int
    storm_timeout: float
    storm_kill: int  # 1: SIGKILL (a crash) instead of SIGTERM (a deploy)
    storm_profile: int  # seconds of py-spy on the restarted process (0: none)
    idle10k_agents: int
    idle10k_hold: float
    rolling_agents: int
    rolling_rate: float
    rolling_steady: float
    rolling_seconds: float
    cpu_agents: int
    cpu_rate: float
    cpu_seconds: float


PROFILES = {
    "quick": Profile(
        "quick",
        agents=10,
        rate=5,
        duration=10,
        sweep_rates=[5, 10, 20, 40],
        sweep_step=4,
        idle_agents=200,
        idle_hold=6,
        cluster_duration=6,
        fault_duration=12,
        fault_at=3,
        outage=3,
        outbound_senders=2,
        outbound_rate=0.5,
        client_processes=1,
        lead_numbers=20,
        profile_seconds=5,
        storm_agents=100,
        storm_timeout=60,
        storm_kill=0,
        storm_profile=0,
        idle10k_agents=300,
        idle10k_hold=5,
        rolling_agents=30,
        rolling_rate=5,
        rolling_steady=8,
        rolling_seconds=20,
        cpu_agents=10,
        cpu_rate=5,
        cpu_seconds=8,
    ),
    "full": Profile(
        "full",
        agents=100,
        rate=20,
        duration=60,
        sweep_rates=[5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 130, 160, 200],
        sweep_step=10,
        idle_agents=2000,
        idle_hold=15,
        cluster_duration=20,
        fault_duration=30,
        fault_at=8,
        outage=4,
        outbound_senders=4,
        outbound_rate=1.0,
        client_processes=2,
        lead_numbers=50,
        profile_seconds=20,
        storm_agents=2000,
        storm_timeout=300,
        storm_kill=0,
        storm_profile=0,
        idle10k_agents=10000,
        idle10k_hold=60,
        rolling_agents=100,
        rolling_rate=10,
        rolling_steady=30,
        rolling_seconds=60,
        cpu_agents=100,
        cpu_rate=10,
        cpu_seconds=30,
    ),
}

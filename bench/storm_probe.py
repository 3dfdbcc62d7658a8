"""A reconnect storm, measured locally: N consoles open ``/ws/console/`` at
once on one Daphne process (the Procfile's web), and the same N on the floor,
in the same run; how long until every one had its ``hello``, and how the
handshakes that failed failed (HTTP status, close code, timeout).

    .venv/bin/python -m bench.storm_probe --consoles 2000
    .venv/bin/python -m bench.storm_probe --consoles 500 --server-env WEBSOCKET_HANDSHAKE_SECONDS=5

A console whose handshake fails tries again as socket.js does: after a
jittered backoff, or spread over 0.5-5 s after a 1012/1013. The full storm
scenario, beside the others, is ``make bench``'s (docs/performance.md).
Needs PostgreSQL (DATABASE_URL) and redis-server, as ``make bench`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import websockets

from bench.services import RedisServer, start_floor
from tests.servers import ROOT, make_stack

GIVE_UP = 300.0  # seconds: a console still without its hello is counted as lost


def backoff(attempt: int) -> float:
    """socket.js's backoffDelay, in seconds."""
    ceiling = min(30.0, 0.5 * 2**attempt)
    return ceiling / 2 + random.random() * ceiling / 2


def spread(attempt: int) -> float:
    """socket.js's spreadDelay (after 1012 or 1013), in seconds."""
    return max(0.5 + random.random() * 4.5, backoff(attempt))


async def console(url: str, session: str | None, outcomes: Counter) -> float | None:
    """Open a socket until it has its hello; seconds it took, or None."""
    origin = "http://" + url.split("://", 1)[1].split("/", 1)[0]
    headers = {"Origin": origin}
    if session:
        headers["Cookie"] = f"sessionid={session}"
    started = time.monotonic()
    attempt = 0
    while time.monotonic() - started < GIVE_UP:
        wait = backoff(attempt)
        try:
            async with websockets.connect(
                url, additional_headers=headers, open_timeout=30, max_size=None
            ) as ws:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if frame.get("type") == "hello":
                    outcomes["hello"] += 1
                    return time.monotonic() - started
                outcomes[f"first frame {frame.get('type')}"] += 1
        except websockets.InvalidStatus as exc:
            outcomes[f"HTTP {exc.response.status_code}"] += 1
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else 1006
            outcomes[f"closed {code}"] += 1
            if code in (1012, 1013):
                wait = spread(attempt)
        except (TimeoutError, OSError, websockets.InvalidHandshake) as exc:
            outcomes[type(exc).__name__] += 1
        attempt += 1
        await asyncio.sleep(wait)
    outcomes["gave up"] += 1
    return None


async def storm(url: str, sessions: list[str | None]) -> dict:
    outcomes: Counter = Counter()
    started = time.monotonic()
    times = await asyncio.gather(*(console(url, s, outcomes) for s in sessions))
    done = sorted(t for t in times if t is not None)
    return {
        "consoles": len(sessions),
        "greeted": len(done),
        "all greeted in (s)": round(time.monotonic() - started, 2),
        "median (s)": round(done[len(done) // 2], 2) if done else None,
        "attempts": dict(outcomes),
    }


def seed(stack, count: int) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.seed", "--agents", str(count)],
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{out.stderr}")
    return [a["session"] for a in json.loads(out.stdout.splitlines()[-1])["agents"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--consoles", type=int, default=2000)
    parser.add_argument("--server-env", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.server_env)
    workdir = Path(tempfile.mkdtemp(prefix="storm-"))
    redis = RedisServer(workdir)
    redis.start()
    stack = floor = None
    try:
        stack = make_stack(
            DEBUG="false",
            SECRET_KEY="bench-only-not-a-secret-" + "x" * 32,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",
            SECURE_HSTS_SECONDS="0",
            REDIS_URL=redis.url,
            OUTBOX_IN_PROCESS="false",
            WEBHOOKS_QUEUED="true",
            LOG_LEVEL="WARNING",
            **extra,
        )
        sessions = seed(stack, args.consoles)
        floor = start_floor(workdir, redis.url)
        floor_result = asyncio.run(storm(floor.ws_url, [None] * args.consoles))
        floor.stop()
        server = stack.start_server()
        ours = asyncio.run(storm(server.ws_url, sessions))
        ratio = ours["all greeted in (s)"] / floor_result["all greeted in (s)"]
        print(json.dumps({"floor": floor_result, "ours": ours}, indent=2))
        print(f"ours / floor: {ratio:.2f} (the target: 3 or less)")
    finally:
        if floor:
            floor.stop()
        if stack:
            stack.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

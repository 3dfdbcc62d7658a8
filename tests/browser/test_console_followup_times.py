"""The times an agent picks for a follow-up ("In 2 days", "Tomorrow 9:00",
"Next Monday 10:00") are in the agent's own time zone, across a change of
clocks, and "next Monday" on a Monday is a week ahead. Runs the console's
module in Node (followup_times_runner.mjs) with TZ set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

RUNNER = Path(__file__).resolve().parent / "followup_times_runner.mjs"


def run(now: str, tz: str, due=()) -> dict:
    node = shutil.which("node")
    if node is None:
        require_or_skip("node is not on PATH: the console's modules are not tested")
    result = subprocess.run(
        [node, str(RUNNER)],
        input=json.dumps({"now": now, "due": list(due)}),
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "TZ": tz},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_picks_in_pacific_time_across_the_change_to_summer_time():
    # Friday 6 March 2026, 15:30 in San Francisco (PST, -08:00); clocks go
    # forward on Sunday 8 March.
    picks = run("2026-03-06T23:30:00Z", "America/Los_Angeles")["picks"]
    assert picks["in_2_days"] == "2026-03-08T22:30:00.000Z"  # 15:30 PDT
    assert picks["tomorrow_9"] == "2026-03-07T17:00:00.000Z"  # 9:00 PST
    assert picks["next_monday_10"] == "2026-03-09T17:00:00.000Z"  # 10:00 PDT


@pytest.mark.parametrize(
    "now, expected",
    [
        # Monday 10:30 in Berlin: next Monday, a week ahead.
        ("2026-03-02T09:30:00Z", "2026-03-09T09:00:00.000Z"),
        # Sunday 23:00 in Berlin: the next day.
        ("2026-03-01T22:00:00Z", "2026-03-02T09:00:00.000Z"),
    ],
)
def test_next_monday_is_never_today(now, expected):
    assert run(now, "Europe/Berlin")["picks"]["next_monday_10"] == expected


def test_due_is_when_the_snooze_or_the_due_time_has_come():
    due = run(
        "2026-03-06T12:00:00Z",
        "UTC",
        due=[
            {"due": "2026-03-06T11:59:59+00:00"},
            {"due": "2026-03-06T12:00:00+00:00"},
            {"due": "2026-03-06T04:00:01-08:00"},
        ],
    )["due"]
    assert due == [True, True, False]

"""The "Send later" menu's clock (static/console/js/sendlater.js), run in
Node: presets on the lead's clock across a DST change and the date line, and
a picked wall time read in the lead's zone, a skipped one landing after the
jump."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

MODULE = (
    Path(__file__).resolve().parents[2] / "static" / "console" / "js" / "sendlater.js"
)

SCRIPT = """
import { presets, fromLocalInput, toLocalInput } from %s;
const input = JSON.parse(process.argv[1]);
const out = {};
if (input.now) {
  for (const p of presets(input.zone, new Date(input.now))) {
    out[p.id] = p.at.toISOString();
  }
}
if (input.local) out.at = fromLocalInput(input.local, input.zone).toISOString();
if (input.instant) out.local = toLocalInput(new Date(input.instant), input.zone);
process.stdout.write(JSON.stringify(out));
"""


def clock(**data) -> dict:
    node = shutil.which("node")
    if node is None:
        require_or_skip("node is not on PATH: the console's modules are not tested")
    result = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT % json.dumps(MODULE.as_uri()),
         json.dumps(data)],
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_presets_on_the_leads_clock_across_the_spring_change():
    # Saturday 8 March 2025, noon in Los Angeles (PST); Sunday is PDT.
    got = clock(zone="America/Los_Angeles", now="2025-03-08T20:00:00Z")
    assert got == {
        "tomorrow": "2025-03-09T16:00:00.000Z",  # 09:00 PDT
        "hour": "2025-03-08T21:00:00.000Z",
        "monday": "2025-03-10T16:00:00.000Z",
    }


def test_presets_where_it_is_already_tomorrow():
    # Monday 10 March 20:00 UTC is Tuesday 01:30 in Kolkata: "tomorrow" is
    # Wednesday there, and "Monday" the one after next Sunday.
    got = clock(zone="Asia/Kolkata", now="2025-03-10T20:00:00Z")
    assert got["tomorrow"] == "2025-03-12T03:30:00.000Z"
    assert got["monday"] == "2025-03-17T03:30:00.000Z"


@pytest.mark.parametrize(
    "local, instant",
    [
        ("2025-01-16T09:00", "2025-01-16T17:00:00.000Z"),
        # 02:30 never happens on 9 March in Los Angeles: 03:30 PDT.
        ("2025-03-09T02:30", "2025-03-09T10:30:00.000Z"),
        # 01:30 on 2 November happens twice: the first (PDT).
        ("2025-11-02T01:30", "2025-11-02T08:30:00.000Z"),
    ],
)
def test_a_picked_time_is_read_on_the_leads_clock(local, instant):
    got = clock(zone="America/Los_Angeles", local=local, instant=instant)
    assert got["at"] == instant
    if local != "2025-03-09T02:30":
        assert got["local"] == local

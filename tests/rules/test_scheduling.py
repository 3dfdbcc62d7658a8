"""A "Send later" time as the client sends it (chatserver.rules.scheduling):
with its offset, not past (a few seconds late is now), at most a year
ahead; anything else a clear refusal, never an exception of another kind."""

from __future__ import annotations

import datetime

import pytest

from chatserver.rules.errors import ActionError
from chatserver.rules.scheduling import parse_send_at

NOW = datetime.datetime(2025, 1, 15, 18, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-01-16T09:00:00-08:00", datetime.datetime(2025, 1, 16, 17, 0)),
        ("2025-01-16T17:00:00Z", datetime.datetime(2025, 1, 16, 17, 0)),
        ("2025-01-16T22:30:00+05:30", datetime.datetime(2025, 1, 16, 17, 0)),
        # Twenty seconds late: now.
        ("2025-01-15T17:59:40Z", datetime.datetime(2025, 1, 15, 18, 0)),
        # A year ahead, to the second.
        ("2026-01-15T18:00:00Z", datetime.datetime(2026, 1, 15, 18, 0)),
    ],
)
def test_times_to_come_are_read_as_instants(value, expected):
    assert parse_send_at(value, NOW) == expected.replace(tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "value, words",
    [
        ("2025-01-15T17:59:00Z", "passed"),
        ("2026-01-15T18:00:01Z", "a year"),
        ("2025-01-16T09:00:00", "offset"),
        ("2025-01-16", "offset"),
        ("tomorrow at 9", "not a date"),
        ("2025-02-30T09:00:00Z", "not a date"),
        ("0001-01-01T00:00:00+01:00", "from now"),
        ("9999-12-31T23:59:59-23:59", "from now"),
        ("2025-01-16T09:00:00Z" + " " * 60, "ISO 8601"),
        (None, "ISO 8601"),
        (1737046800, "ISO 8601"),
        (["2025-01-16T09:00:00Z"], "ISO 8601"),
    ],
)
def test_anything_else_is_refused_saying_why(value, words):
    with pytest.raises(ActionError) as refused:
        parse_send_at(value, NOW)
    assert refused.value.code == "invalid"
    assert words in refused.value.reason

"""When an agent may ask a text to go ("Send later"): a time read from the
client, with its offset, not in the past and not too far ahead.

Pure functions of the clock reading they are given; the actions
(``chatserver.actions.sending``, ``chatserver.actions.scheduled``) apply them.
"""

from __future__ import annotations

import datetime

from chatserver.rules.errors import ActionError

# A time this far in the past still counts as "now": the agent's clock, or
# the network between, may lag a little behind the server's.
PAST_GRACE = datetime.timedelta(seconds=30)
# Further ahead than this is a typing mistake, not a plan.
MAX_AHEAD = datetime.timedelta(days=365)


def parse_send_at(value: object, now: datetime.datetime) -> datetime.datetime:
    """The instant ``value`` (ISO 8601 with an offset, e.g.
    ``2026-12-07T09:00:00-06:00`` or ``...Z``) names, no earlier than
    ``now``; ActionError (code ``invalid``) for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        raise ActionError(
            "'send_at' must be a date and time in ISO 8601, with its offset "
            "(2026-12-07T09:00:00-06:00).",
            "invalid",
        )
    try:
        when = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ActionError(
            f"'send_at' is not a date and time: {value[:40]!r}.", "invalid"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        # A time without an offset means a different instant on every clock.
        raise ActionError(
            "'send_at' needs a time zone offset (like -06:00 or Z).", "invalid"
        )
    try:
        when = when.astimezone(datetime.UTC)
    except OverflowError:  # year 1 or 9999 with an offset that leaves it
        raise ActionError(
            "A text can be scheduled from now to a year ahead.", "invalid"
        ) from None
    if when < now - PAST_GRACE:
        raise ActionError("That time has passed: pick a time to come.", "invalid")
    if when > now + MAX_AHEAD:
        raise ActionError("A text can be scheduled at most a year ahead.", "invalid")
    return max(when, now)

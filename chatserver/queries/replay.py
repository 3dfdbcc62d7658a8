"""What a resuming socket missed, read back from the event log."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from chatserver import events
from chatserver.models import Agent, Event

# A socket that was away longer than this, or missed more events, reloads its
# state instead of replaying events one by one.
RESUME_MAX_AGE = datetime.timedelta(hours=6)
RESUME_MAX_EVENTS = 500
# ...and so does one whose gap holds more of the organisation's events than
# this, without looking through them for its own.
RESUME_MAX_SCAN = 5000


def latest_cursor(agent: Agent) -> int:
    """The cursor of the newest event of the agent's organisation (0 when none)."""
    return cursor_state(agent.organisation_id)[0]


# Both read from an index (unique_event_cursor, event_unnumbered_idx).
CURSOR_STATE_SQL = """
SELECT (SELECT MAX(cursor) FROM {event} WHERE organisation_id = %(org)s),
    EXISTS (SELECT 1 FROM {event} WHERE organisation_id = %(org)s AND cursor IS NULL)
""".format(event=Event._meta.db_table)


def cursor_state(organisation_id: int) -> tuple[int, bool]:
    """The organisation's newest cursor (0 when none), and whether every
    event committed so far is numbered (``settled``: none is waiting for the
    numbering that follows its commit, ``chatserver.publish``). One round
    trip, and no query to compile: every hello reads it."""
    with connection.cursor() as cursor:
        cursor.execute(CURSOR_STATE_SQL, {"org": organisation_id})
        last, waiting = cursor.fetchone()
    return last or 0, not waiting


@dataclass
class Replay:
    """What a resuming socket missed: ``events`` in cursor order, and the
    organisation's ``cursor`` when they were read (the socket has everything
    up to it once it has sent them)."""

    cursor: int
    events: list[Event]


def missed_events(agent: Agent, cursor: int) -> Replay | None:
    """The events after ``cursor`` that the agent's socket would have received
    live: those published to a group it is in, oldest first.

    None when they cannot be replayed and the console must reload its state
    instead: ``cursor`` is not one of the organisation's (a newer one than it
    has: another database), or the gap is older than RESUME_MAX_AGE, holds
    more than RESUME_MAX_EVENTS events for the agent (or RESUME_MAX_SCAN in
    all), or reaches back past events that were deleted.
    """
    latest = latest_cursor(agent)
    if cursor > latest or latest - cursor > RESUME_MAX_SCAN:
        return None
    if cursor == latest:
        return Replay(latest, [])
    gap = Event.objects.filter(
        organisation_id=agent.organisation_id, cursor__gt=cursor, cursor__lte=latest
    )
    first = gap.order_by("cursor").values("cursor", "created_at").first()
    if (
        first is None
        or first["cursor"] != cursor + 1
        or first["created_at"] < timezone.now() - RESUME_MAX_AGE
    ):
        return None
    mine = set(events.groups_for_agent(agent))
    rows = gap.values_list("id", "groups")
    ids = [pk for pk, groups in rows if mine.intersection(groups)]
    if len(ids) > RESUME_MAX_EVENTS:
        return None
    return Replay(latest, list(Event.objects.filter(id__in=ids).order_by("cursor")))

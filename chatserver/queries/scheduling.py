"""What a scheduled text needs to know about where the lead is: their time
zone (``rules.quiet_hours.lead_zone``), and whether the time asked for
falls in their quiet hours. Read-only."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from chatserver.models import Conversation
from chatserver.queries.compliance import quiet_verdict, window_of
from chatserver.rules.errors import ActionError


def check_send_at(conversation: Conversation, when: datetime.datetime) -> None:
    """ActionError (``quiet_hours``) when ``when`` falls in the lead's quiet
    hours: the agent picks another time rather than the server moving it.
    ``details`` name the first allowed time after it, to offer instead."""
    verdict = quiet_verdict(conversation, when)
    if not verdict.quiet:
        return
    window = window_of(conversation.organisation)
    zone = verdict.zones[0]
    asked = when.astimezone(ZoneInfo(zone))
    allowed = verdict.next_allowed.astimezone(ZoneInfo(zone))
    raise ActionError(
        f"That is {asked:%H:%M} for this lead, in their quiet hours "
        f"({window.start:%H:%M} to {window.end:%H:%M} their time). "
        f"Pick {allowed:%a %H:%M} their time or later.",
        "quiet_hours",
        {
            "time_zones": list(verdict.zones),
            "next_allowed": verdict.next_allowed.isoformat(),
            "next_allowed_local": allowed.isoformat(),
        },
    )

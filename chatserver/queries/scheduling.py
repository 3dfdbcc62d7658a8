"""What a scheduled text needs to know about where the lead is: their time
zone (``rules.quiet_hours.lead_zone``), and whether the time asked for
falls in their quiet hours. Read-only."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from chatserver.models import Conversation, Message
from chatserver.queries import governed
from chatserver.queries.compliance import quiet_verdict, window_of
from chatserver.queries.governed import GovernorHold
from chatserver.rules.errors import ActionError


def check_send_at(
    conversation: Conversation, when: datetime.datetime, kind: str = Message.Kind.TEXT
) -> None:
    """ActionError when ``when`` falls in the lead's quiet hours
    (``quiet_hours``) or in hours the send governor holds a scheduled text
    in (``governor_hold``, naming the rule): the agent picks another time
    rather than the server moving it. ``details`` name the first allowed
    time after it, to offer instead. (The governor's caps are counted again
    when the time comes: texts may go meanwhile.)"""
    verdict = quiet_verdict(conversation, when)
    if not verdict.quiet:
        held = governed.verdict(conversation, kind, scheduled=True, now=when)
        if held is not None and not held.allowed:
            raise GovernorHold(held)
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

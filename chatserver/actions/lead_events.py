"""Lead events: what every change to a lead tells the consoles, and the lead
locked for a change.

Every lead event carries the lead (``shapes.lead_data``), its ``audience``
(who may see it now) and its conversations as consoles list them. An event
that changes who sees the lead also goes to those who saw it before, so a
previous assignee's chatbox greys out at once, and carries their former state
(``before``) so each socket can move its bucket counts.
"""

from __future__ import annotations

from django.utils import timezone

from chatserver import events, shapes
from chatserver.models import Lead
from chatserver.publish import emit
from chatserver.queries import console


def lead_state(lead: Lead, audience: events.Audience | None = None) -> dict:
    """What decides who sees a lead and in which bucket."""
    return {
        "assignee": lead.assignee_id,
        "status": lead.status,
        "audience": audience or events.audience_for_lead(lead),
    }


def publish_lead(
    lead: Lead,
    event_type: str,
    *,
    before: dict | None = None,
    extra_groups=(),
    **fields,
) -> None:
    """Tell everyone who may see the lead what changed; with ``before`` (its
    ``lead_state`` before the change) those who saw it then are told too."""
    now = lead_state(lead)
    groups = events.groups_for_audience(lead.organisation_id, now["audience"])
    if before is not None:
        groups |= events.groups_for_audience(lead.organisation_id, before["audience"])
    elif event_type != events.LEAD_CREATED:
        before = now  # nothing that decides who sees it changed
    emit(
        lead.organisation_id,
        events.LeadChanged(
            type=event_type,
            lead=shapes.lead_data(lead),
            audience=now["audience"],
            # As a fresh state lists them: a console the change shows the
            # lead to (assigned, shared, reopened) lists them at once.
            conversations=console.lead_conversations(lead),
            **fields,
        ),
        groups | set(extra_groups),
        lead_id=lead.id,
        socket_fields={
            "assignee": lead.assignee_id,
            "status": lead.status,
            "state": now,
            "before": before,
        },
    )


def touch_lead(lead: Lead) -> None:
    """Record that the lead was updated (lists sort by it; routing prefers
    the lead updated most recently)."""
    lead.last_activity_at = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=lead.last_activity_at)


def locked(lead: Lead) -> Lead:
    """The lead re-read under a row lock, so concurrent changes apply in turn."""
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("assignee__user")
        .get(pk=lead.pk)
    )


# -- inbound --------------------------------------------------------------------

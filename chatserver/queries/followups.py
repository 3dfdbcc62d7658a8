"""Follow-ups and workflows, read: an agent's Outstanding list, a lead's
follow-ups and enrollments, the organisation's workflows.

Whose list a follow-up is on: its ``assignee``'s (the lead's assignee when
it was set, else the agent who set it; it moves with the lead when the lead
is assigned to someone), while that agent may see the lead. A follow-up with
no assignee (a workflow's reminder on a lead nobody has) is on the list of
every agent who sees the lead. The ``hello`` carries every pending follow-up
of the agent's list, due or not; the console lists those whose time has come
(``due``: the snooze, else the due time) and counts them in its badge, with a
timer for the next one: nothing on the server ticks.
"""

from __future__ import annotations

from django.db.models import Q

from chatserver import shapes
from chatserver.models import Agent, Enrollment, FollowUp, Lead, Workflow
from chatserver.queries import access

# The hello carries at most this many pending follow-ups (the soonest due).
OUTSTANDING_LIMIT = 500


def pending_for(agent: Agent):
    """The agent's pending follow-ups on leads they may see."""
    return FollowUp.objects.filter(
        access.lead_visibility(agent, "lead__"),
        Q(assignee=agent) | Q(assignee__isnull=True),
        done_at__isnull=True,
    )


def outstanding(agent: Agent) -> list[dict]:
    """What the hello carries: the agent's pending follow-ups, newest due
    first (the console shows the due ones)."""
    if agent.is_external:
        return []
    rows = (
        pending_for(agent)
        .select_related("lead", "created_by__user", "enrollment")
        .order_by("due_at", "id")[:OUTSTANDING_LIMIT]
    )
    items = [shapes.followup_data(f) for f in rows]
    return sorted(items, key=lambda f: (f["due"], f["id"]), reverse=True)


def lead_followups(lead: Lead) -> list[dict]:
    """A lead's pending follow-ups, soonest first (its chatbox lists them)."""
    rows = (
        FollowUp.objects.filter(lead=lead, done_at__isnull=True)
        .select_related("lead", "created_by__user", "enrollment")
        .order_by("due_at", "id")
    )
    return [shapes.followup_data(f) for f in rows]


def lead_enrollments(lead: Lead) -> list[dict]:
    """A lead's workflows, running and stopped, newest first."""
    rows = Enrollment.objects.filter(lead=lead).order_by("-id")[:10]
    return [shapes.enrollment_data(e) for e in rows]


def workflows_of(organisation_id: int):
    """The organisation's workflows with their steps."""
    return Workflow.objects.filter(organisation_id=organisation_id).prefetch_related(
        "steps"
    )


def workflows_for_new_lead(lead: Lead, sender_id: int | None):
    """The workflows a lead just created is enrolled in: those whose source
    is the lead's (and, when a workflow names one of our numbers, whose
    number the lead first texted)."""
    if not lead.source:
        return Workflow.objects.none()
    return workflows_of(lead.organisation_id).filter(
        Q(sender__isnull=True) | Q(sender_id=sender_id),
        source__iexact=lead.source,
    )

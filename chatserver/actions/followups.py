"""Follow-ups on leads: set, done (by texting the lead or by hand), snoozed,
deleted, and moved with the lead to its new assignee; each published live
(``followup.created`` / ``followup.updated``) to everyone who sees the lead
and to the follow-up's assignees before and after."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from chatserver import events, shapes
from chatserver.models import Agent, Enrollment, FollowUp, Lead
from chatserver.publish import emit
from chatserver.queries import access
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_text, parse_client_id

NOTE_LENGTH = FollowUp._meta.get_field("note").max_length
# A follow-up is for the coming months, not years.
FURTHEST = datetime.timedelta(days=366)
# A time picked a moment ago may have passed by the time it arrives.
GRACE = datetime.timedelta(minutes=5)


def publish(
    followup: FollowUp, change: str, by: Agent | None, previous: int | None = None
) -> None:
    """Tell those who see the lead, and the follow-up's assignees."""
    lead = followup.lead
    groups = events.groups_for_lead(lead)
    for agent_id in (followup.assignee_id, previous):
        if agent_id is not None:
            groups.add(events.agent_group(agent_id))
    if change == "moved" and previous is None:
        # It was on the list of all who saw the lead while nobody had it:
        # they learn it left (should the lead be theirs to see again).
        groups |= events.groups_for_audience(
            lead.organisation_id,
            {"access": list(events.SEES_UNASSIGNED), "agents": []},
        )
    emit(
        lead.organisation_id,
        events.FollowUpChanged(
            type=events.FOLLOWUP_CREATED
            if change == "created"
            else events.FOLLOWUP_UPDATED,
            lead=lead.id,
            followup=shapes.followup_data(followup),
            change=change,
            by=by.id if by else None,
        ),
        groups,
        lead_id=lead.id,
    )


def check_time(when: datetime.datetime, what: str) -> datetime.datetime:
    """A time to be due (or snoozed) at: aware, not past, within a year."""
    if timezone.is_naive(when):
        raise ActionError(f"The {what} needs its time zone.", "invalid")
    now = timezone.now()
    if when < now - GRACE:
        raise ActionError(f"The {what} has passed: pick a time to come.", "invalid")
    if when > now + FURTHEST:
        raise ActionError(f"The {what} is more than a year away.", "invalid")
    # Stored and shown in UTC, as the database gives it back.
    return when.astimezone(datetime.UTC)


def check_may_follow_up(agent: Agent, lead: Lead) -> None:
    """Any internal agent who may see the lead now (read from the database)."""
    reason = access.may_change_lead(agent, lead)
    if reason:
        code = "not_found" if reason == "No such lead." else "forbidden"
        raise ActionError(reason, code)


def set_followup(
    agent: Agent, lead: Lead, due_at: datetime.datetime, note="", client_id=None
) -> FollowUp:
    """Set a follow-up on a lead, on the list of the lead's assignee (or the
    agent's, when nobody has it). The same ``client_id`` twice: once."""
    client_id = parse_client_id(client_id)
    if client_id is not None:
        existing = FollowUp.objects.filter(created_by=agent, client_id=client_id)
        if existing.exists():
            return existing.select_related("lead").get()
    lead = Lead.objects.select_related("assignee").get(pk=lead.pk)
    check_may_follow_up(agent, lead)
    due_at = check_time(due_at, "follow-up's time")
    note = clean_text(note, "note", NOTE_LENGTH)
    try:
        with transaction.atomic():
            followup = FollowUp.objects.create(
                organisation_id=lead.organisation_id,
                lead=lead,
                note=note,
                due_at=due_at,
                created_by=agent,
                assignee=lead.assignee or agent,
                client_id=client_id,
            )
            publish(followup, "created", agent)
    except IntegrityError:  # the same client_id twice at once
        existing = FollowUp.objects.filter(created_by=agent, client_id=client_id)
        if not existing.exists():
            raise
        return existing.select_related("lead").get()
    return followup


def step_followup(
    enrollment: Enrollment, kind: str, note: str, due_at: datetime.datetime
) -> FollowUp:
    """A workflow's manual step: a follow-up for the lead's assignee (or the
    agent who enrolled the lead; nobody's when neither)."""
    lead = enrollment.lead
    followup = FollowUp.objects.create(
        organisation_id=lead.organisation_id,
        lead=lead,
        kind=kind,
        note=note,
        due_at=due_at,
        created_by=enrollment.started_by,
        assignee=lead.assignee or enrollment.started_by,
        enrollment=enrollment,
    )
    publish(followup, "created", enrollment.started_by)
    return followup


def locked(followup: FollowUp) -> FollowUp:
    return (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("lead", "enrollment", "created_by__user")
        .get(pk=followup.pk)
    )


@transaction.atomic
def mark_done(agent: Agent, followup: FollowUp) -> FollowUp:
    """Mark a follow-up done; done twice: once."""
    followup = locked(followup)
    check_may_follow_up(agent, followup.lead)
    if followup.done_at is None:
        followup.done_at = timezone.now()
        followup.done_by = agent
        followup.save(update_fields=["done_at", "done_by"])
        publish(followup, "done", agent)
    return followup


@transaction.atomic
def snooze(agent: Agent, followup: FollowUp, until: datetime.datetime) -> FollowUp:
    """Put a follow-up off until a later time (it leaves the list till then)."""
    followup = locked(followup)
    check_may_follow_up(agent, followup.lead)
    if followup.done_at is not None:
        raise ActionError("This follow-up is done already.", "invalid")
    followup.snoozed_until = check_time(until, "snooze's time")
    followup.save(update_fields=["snoozed_until"])
    publish(followup, "snoozed", agent)
    return followup


@transaction.atomic
def delete(agent: Agent, followup: FollowUp) -> dict:
    """Delete a follow-up (set by mistake); its data, as it was."""
    followup = locked(followup)
    check_may_follow_up(agent, followup.lead)
    data = shapes.followup_data(followup)
    publish(followup, "deleted", agent)
    followup.delete()
    return data


def done_by_texting(agent: Agent, lead: Lead) -> int:
    """An agent texted the lead: its due follow-ups are done. Returns how many."""
    now = timezone.now()
    due = (
        FollowUp.objects.select_related("lead", "enrollment", "created_by__user")
        .filter(lead_id=lead.id, done_at__isnull=True, due_at__lte=now)
        .exclude(snoozed_until__gt=now)
        .order_by("id")
    )
    count = 0
    for followup in due:
        followup.done_at = now
        followup.done_by = agent
        followup.save(update_fields=["done_at", "done_by"])
        publish(followup, "done", agent)
        count += 1
    return count


def follow_the_lead(lead: Lead, assignee: Agent, actor: Agent | None) -> int:
    """The lead was assigned to ``assignee``: its pending follow-ups go to
    their list. Returns how many moved."""
    pending = (
        FollowUp.objects.select_related("lead", "enrollment", "created_by__user")
        .filter(lead_id=lead.id, done_at__isnull=True)
        .exclude(assignee=assignee)
        .order_by("id")
    )
    count = 0
    for followup in pending:
        previous = followup.assignee_id
        followup.assignee = assignee
        followup.save(update_fields=["assignee"])
        publish(followup, "moved", actor, previous=previous)
        count += 1
    return count

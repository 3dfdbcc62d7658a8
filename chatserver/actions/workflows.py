"""Follow-up workflows: defined by admins, leads enrolled by hand or when
they are created from a workflow's source, and stopped.

Enrolling a lead lays out every step at once, each at the enrollment's time
plus its delay: an automatic text is a scheduled message (``status``
scheduled, ``send_after`` its time), which the outbox's release
(``chatserver.actions.scheduled``) sends then after every check a send has
then (consent, quiet hours, the plan, the governor); a manual step is a
follow-up, on the assignee's Outstanding list from its time. The lead's
reply, an opt-out or closing the lead stops the enrollment: its texts not
yet sent fail with the reason, and nothing more is sent. Its follow-ups stay
(an agent decides about those).
"""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from chatserver import events, shapes
from chatserver.actions import followups
from chatserver.actions.messages import move_status, queue_message
from chatserver.models import (
    Agent,
    Conversation,
    Enrollment,
    Lead,
    Message,
    Organisation,
    SenderNumber,
    Template,
    Workflow,
    WorkflowStep,
)
from chatserver.publish import emit
from chatserver.queries import access, compliance, consent, contacts
from chatserver.queries.followups import workflows_for_new_lead
from chatserver.rules import templating
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_text

log = logging.getLogger(__name__)

NAME_LENGTH = Workflow._meta.get_field("name").max_length
SOURCE_LENGTH = Workflow._meta.get_field("source").max_length
STEP_NOTE_LENGTH = WorkflowStep._meta.get_field("note").max_length
MAX_STEPS = 10
MAX_DELAY_DAYS = 365
STOPPED_CODE = "workflow_stopped"

# Why an enrollment stops, as the thread and the chatbox say it.
LEAD_REPLIED = "the lead replied"
LEAD_OPTED_OUT = "the lead opted out"
LEAD_CLOSED = "the lead was closed"
WORKFLOW_DELETED = "the workflow was deleted"


# -- the workflows, as admins define them ----------------------------------------


def clean_delay(value, what: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise ActionError(f"A step's {what} must be a whole number from 0 to {most}.")
    return value


def clean_steps(organisation: Organisation, steps) -> list[WorkflowStep]:
    """The steps as given: ``[{"delay_days", "delay_hours", "kind",
    "template"?, "note"?}]``, checked (unsaved rows)."""
    if not isinstance(steps, list) or not steps:
        raise ActionError("A workflow needs at least one step.", "invalid")
    if len(steps) > MAX_STEPS:
        raise ActionError(f"A workflow has at most {MAX_STEPS} steps.", "invalid")
    cleaned = []
    for position, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ActionError("Each step must be an object.", "invalid")
        kind = step.get("kind")
        if kind not in WorkflowStep.Kind.values:
            raise ActionError(
                "A step's kind is one of: " + ", ".join(WorkflowStep.Kind.values) + "."
            )
        row = WorkflowStep(
            position=position,
            kind=kind,
            delay_days=clean_delay(step.get("delay_days", 0), "days", MAX_DELAY_DAYS),
            delay_hours=clean_delay(step.get("delay_hours", 0), "hours", 23),
            note=clean_text(step.get("note"), "step's note", STEP_NOTE_LENGTH),
        )
        if kind == WorkflowStep.Kind.TEXT:
            template_id = step.get("template")
            template = (
                Template.objects.filter(
                    pk=template_id, organisation_id=organisation.id
                ).first()
                if isinstance(template_id, int) and not isinstance(template_id, bool)
                else None
            )
            if template is None:
                raise ActionError(
                    "An automatic text needs one of your saved replies.", "not_found"
                )
            row.template = template
        cleaned.append(row)
    return cleaned


@transaction.atomic
def save_workflow(
    organisation: Organisation,
    workflow: Workflow | None,
    name,
    steps,
    source="",
    sender: SenderNumber | None = None,
) -> Workflow:
    """Create a workflow (``workflow`` None) or replace one's name, source
    and steps. Running enrollments keep what they laid out."""
    if sender is not None and sender.organisation_id != organisation.id:
        raise ActionError("No such number.", "not_found")
    workflow = workflow or Workflow(organisation=organisation)
    workflow.name = clean_text(name, "workflow's name", NAME_LENGTH, required=True)
    workflow.source = clean_text(source, "source", SOURCE_LENGTH).lower()
    workflow.sender = sender if workflow.source else None
    cleaned = clean_steps(organisation, steps)
    workflow.save()
    workflow.steps.all().delete()
    for row in cleaned:
        row.workflow = workflow
    WorkflowStep.objects.bulk_create(cleaned)
    return workflow


@transaction.atomic
def delete_workflow(workflow: Workflow) -> None:
    """Delete a workflow: its running enrollments stop first."""
    for enrollment in Enrollment.objects.filter(
        workflow=workflow, stopped_at__isnull=True
    ).select_related("lead"):
        stop(enrollment, WORKFLOW_DELETED)
    workflow.delete()


# -- enrolling a lead -------------------------------------------------------------


def attach(agent: Agent, conversation: Conversation, workflow: Workflow) -> Enrollment:
    """An agent enrolls a conversation's lead in a workflow by hand: they must
    be allowed to text the lead now, and the number's consent must allow the
    workflow's automatic texts."""
    lead = Lead.objects.select_related("assignee__user").get(pk=conversation.lead_id)
    reason = access.why_cannot_text(agent, lead)
    if reason:
        raise ActionError(reason, "forbidden")
    if workflow.organisation_id != lead.organisation_id:
        raise ActionError("No such workflow.", "not_found")
    if workflow.steps.filter(kind=WorkflowStep.Kind.TEXT).exists():
        compliance.check_can_send(conversation)
    try:
        with transaction.atomic():
            return enroll(lead, conversation, workflow, agent)
    except IntegrityError:
        raise ActionError(
            f"This lead is in “{workflow.name}” already.", "already_enrolled"
        ) from None


def enroll(
    lead: Lead,
    conversation: Conversation,
    workflow: Workflow,
    agent: Agent | None,
    now: datetime.datetime | None = None,
) -> Enrollment:
    """Lay out the workflow's steps for the lead, from now."""
    now = now or timezone.now()
    enrollment = Enrollment.objects.create(
        organisation_id=lead.organisation_id,
        workflow=workflow,
        workflow_name=workflow.name,
        lead=lead,
        conversation=conversation,
        started_by=agent,
        started_at=now,
    )
    for step in workflow.steps.select_related("template"):
        when = now + datetime.timedelta(days=step.delay_days, hours=step.delay_hours)
        if step.kind == WorkflowStep.Kind.TEXT:
            message = scheduled_text(enrollment, step, when)
            if message is not None:
                enrollment.messages.add(message)
        else:
            kind = "call" if step.kind == WorkflowStep.Kind.CALL else "text"
            followups.step_followup(enrollment, kind, step.note, when)
    publish(enrollment, "started")
    return enrollment


def scheduled_text(
    enrollment: Enrollment, step: WorkflowStep, when: datetime.datetime
) -> Message | None:
    """A step's text, rendered for the lead now and stored scheduled for its
    time; None when its template is gone or no longer renders."""
    conversation = Conversation.objects.select_related(
        "organisation", "sender", "contact_number__contact", "lead__assignee__user"
    ).get(pk=enrollment.conversation_id)
    if step.template is None:
        return None
    context = templating.Context(
        organisation=conversation.organisation,
        lead=conversation.lead,
        contact=conversation.contact_number.contact
        or contacts.primary_contact(conversation.lead),
        agent=conversation.lead.assignee or enrollment.started_by,
        sender=conversation.sender,
    )
    try:
        body = templating.render(step.template.body, context)
    except templating.TemplateError:
        log.warning("workflow %s: a template no longer renders", step.workflow_id)
        return None
    # No author: the workflow texts for the team, so a reassignment does not
    # stop it; the agent's rights were checked when they enrolled the lead.
    return queue_message(
        conversation,
        compliance.decorate(conversation, body),
        category_id=step.template.category_id,
        send_after=when,
    )


@transaction.atomic
def on_new_lead(lead: Lead, conversation: Conversation, agent: Agent | None) -> int:
    """A lead was just created (a first text, or an agent): enroll it in the
    workflows of its source (not when its first word was STOP). Returns how
    many."""
    number = conversation.contact_number.number
    if consent.state_of(lead.organisation_id, number) == consent.State.REVOKED:
        return 0
    count = 0
    for workflow in workflows_for_new_lead(lead, conversation.sender_id):
        enroll(lead, conversation, workflow, agent)
        count += 1
    return count


# -- stopping ---------------------------------------------------------------------


def publish(enrollment: Enrollment, change: str) -> None:
    lead = enrollment.lead
    emit(
        lead.organisation_id,
        events.EnrollmentUpdated(
            type=events.ENROLLMENT_UPDATED,
            lead=lead.id,
            enrollment=shapes.enrollment_data(enrollment),
            change=change,
        ),
        events.groups_for_lead(lead),
        lead_id=lead.id,
    )


def stop(enrollment: Enrollment, reason: str) -> bool:
    """Stop a running enrollment: its texts not yet sent fail with the reason.
    Whether it was running."""
    stopped = Enrollment.objects.filter(
        pk=enrollment.pk, stopped_at__isnull=True
    ).update(stopped_at=timezone.now(), stop_reason=reason)
    if not stopped:
        return False
    enrollment.refresh_from_db()
    waiting = enrollment.messages.filter(
        status__in=[Message.Status.SCHEDULED, Message.Status.QUEUED]
    ).order_by("id")
    for message in waiting:
        # Queued ones are in the outbox already: only a scheduled one is held.
        if message.status == Message.Status.SCHEDULED:
            move_status(
                message,
                Message.Status.FAILED,
                STOPPED_CODE,
                f"Not sent: the workflow “{enrollment.workflow_name}” stopped "
                f"because {reason}.",
            )
    publish(enrollment, "stopped")
    return True


def running_enrollments(lead_id: int):
    """The lead's running enrollments."""
    return Enrollment.objects.filter(lead_id=lead_id, stopped_at__isnull=True)


def stop_lead(lead: Lead, reason: str) -> int:
    """Stop every running enrollment of the lead. Returns how many."""
    running = running_enrollments(lead.id).select_related("lead")
    return sum(stop(enrollment, reason) for enrollment in running)


def stop_number(organisation_id: int, number: str, reason: str) -> int:
    """Stop the running enrollments of every lead with this number."""
    running = (
        Enrollment.objects.filter(
            organisation_id=organisation_id,
            stopped_at__isnull=True,
            lead__contacts__numbers__number=number,
        )
        .select_related("lead")
        .distinct()
    )
    return sum(stop(enrollment, reason) for enrollment in running)


@transaction.atomic
def stop_by_agent(agent: Agent, enrollment: Enrollment) -> Enrollment:
    """An agent stops a lead's workflow (anyone who may change the lead)."""
    reason = access.may_change_lead(agent, enrollment.lead)
    if reason:
        raise ActionError(reason, "forbidden")
    stop(enrollment, f"{agent.name} stopped it")
    enrollment.refresh_from_db()
    return enrollment

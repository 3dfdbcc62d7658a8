"""Follow-ups and workflows, as agents ask for them from the console's
socket or the JSON API: set, done, snoozed or deleted follow-ups; a lead
enrolled in a workflow or its workflow stopped; and, for admins, workflows
defined. Each finds what it names among what the agent may see (anything
else is "not found") and calls ``chatserver.actions``; rights are checked
there, as they are now."""

from __future__ import annotations

from chatserver import shapes
from chatserver.actions import followups, workflows
from chatserver.commands.fields import (
    Data,
    conversation_for,
    ident,
    lead_for,
    moment,
    text,
)
from chatserver.models import Agent, Enrollment, FollowUp, SenderNumber, Workflow
from chatserver.queries import access
from chatserver.rules.errors import ActionError


def followup_of(agent: Agent, data: Data) -> FollowUp:
    """The follow-up ``data["followup"]`` names, on a lead the agent sees."""
    followup = (
        FollowUp.objects.filter(
            access.lead_visibility(agent, "lead__"), pk=ident(data, "followup")
        )
        .select_related("lead")
        .first()
    )
    if followup is None:
        raise ActionError("No such follow-up.", "not_found")
    return followup


def set_followup(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "due_at": ISO 8601, "note"?: text, "client_id"?: uuid}``."""
    lead = lead_for(agent, data)
    followup = followups.set_followup(
        agent, lead, moment(data, "due_at"), text(data, "note"), data.get("client_id")
    )
    return {"followup": shapes.followup_data(followup)}


def done(agent: Agent, data: Data) -> Data:
    """``{"followup": id}``: marked done."""
    followup = followups.mark_done(agent, followup_of(agent, data))
    return {"followup": shapes.followup_data(followup)}


def snooze(agent: Agent, data: Data) -> Data:
    """``{"followup": id, "until": ISO 8601}``."""
    followup = followup_of(agent, data)
    until = moment(data, "until")
    return {"followup": shapes.followup_data(followups.snooze(agent, followup, until))}


def delete(agent: Agent, data: Data) -> Data:
    """``{"followup": id}``."""
    return {"deleted": followups.delete(agent, followup_of(agent, data))}


def workflow_of(agent: Agent, data: Data) -> Workflow:
    workflow = Workflow.objects.filter(
        pk=ident(data, "workflow"), organisation_id=agent.organisation_id
    ).first()
    if workflow is None:
        raise ActionError("No such workflow.", "not_found")
    return workflow


def attach_workflow(agent: Agent, data: Data) -> Data:
    """``{"conversation": id, "workflow": id}``: enroll the conversation's
    lead; its automatic texts go in that conversation."""
    conversation = conversation_for(agent, data, change=False)
    workflow = workflow_of(agent, data)
    enrollment = workflows.attach(agent, conversation, workflow)
    return {"enrollment": shapes.enrollment_data(enrollment)}


def stop_workflow(agent: Agent, data: Data) -> Data:
    """``{"enrollment": id}``: stop a lead's workflow."""
    enrollment = (
        Enrollment.objects.filter(
            access.lead_visibility(agent, "lead__"), pk=ident(data, "enrollment")
        )
        .select_related("lead")
        .first()
    )
    if enrollment is None:
        raise ActionError("No such workflow on a lead of yours.", "not_found")
    enrollment = workflows.stop_by_agent(agent, enrollment)
    return {"enrollment": shapes.enrollment_data(enrollment)}


# -- admins: the workflows themselves ---------------------------------------------


def require_admin(agent: Agent) -> None:
    if not access.is_admin(agent):
        raise ActionError("Only admins define workflows.", "forbidden")


def save_workflow(agent: Agent, data: Data) -> Data:
    """``{"workflow"?: id, "name", "source"?, "sender"?: id|null, "steps":
    [{"delay_days", "delay_hours", "kind", "template"?, "note"?}]}``."""
    existing = workflow_of(agent, data) if "workflow" in data else None
    sender = None
    sender_id = ident(data, "sender", nullable=True, required=False)
    if sender_id is not None:
        sender = SenderNumber.objects.filter(
            pk=sender_id, organisation_id=agent.organisation_id
        ).first()
        if sender is None:
            raise ActionError("No such number.", "not_found")
    require_admin(agent)
    workflow = workflows.save_workflow(
        agent.organisation,
        existing,
        data.get("name"),
        data.get("steps"),
        source=text(data, "source"),
        sender=sender,
    )
    return {"workflow": shapes.workflow_data(workflow)}


def delete_workflow(agent: Agent, data: Data) -> Data:
    """``{"workflow": id}``: its running enrollments stop."""
    workflow = workflow_of(agent, data)
    require_admin(agent)
    data = shapes.workflow_data(workflow)
    workflows.delete_workflow(workflow)
    return {"deleted": data}

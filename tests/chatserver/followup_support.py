"""Helpers for the tests of follow-ups and workflows."""

from __future__ import annotations

import datetime

from chatserver.actions import followups
from chatserver.models import Enrollment, Workflow


def followup_ids(agent, lead) -> dict[str, int]:
    """A follow-up, a workflow and an enrollment of the agent's lead."""
    now = datetime.datetime.now(datetime.UTC)
    followup = followups.set_followup(agent, lead, now + datetime.timedelta(days=1))
    workflow = Workflow.objects.create(organisation=lead.organisation, name="Flow")
    enrollment = Enrollment.objects.create(
        organisation=lead.organisation,
        workflow=workflow,
        workflow_name=workflow.name,
        lead=lead,
        started_at=now,
    )
    return {
        "followup_id": followup.id,
        "workflow_id": workflow.id,
        "enrollment_id": enrollment.id,
    }

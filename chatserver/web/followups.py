"""The JSON API of follow-ups and workflows: the same commands as the socket
(``chatserver.commands.followups``), answered as JSON."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from chatserver.commands import followups as commands
from chatserver.models import Agent, SenderNumber
from chatserver.queries import followups
from chatserver.shapes import workflow_data
from chatserver.web.responses import api_login_required, read_json


@require_POST
@api_login_required
def lead_followups(request: HttpRequest, agent: Agent, lead_id: int) -> JsonResponse:
    """Set a follow-up: ``{"due_at": ISO 8601, "note"?, "client_id"?}``."""
    data = {**read_json(request), "lead": lead_id}
    return JsonResponse(commands.set_followup(agent, data), status=201)


@require_http_methods(["DELETE"])
@api_login_required
def followup(request: HttpRequest, agent: Agent, followup_id: int) -> JsonResponse:
    """Delete a follow-up."""
    return JsonResponse(commands.delete(agent, {"followup": followup_id}))


@require_POST
@api_login_required
def followup_done(request: HttpRequest, agent: Agent, followup_id: int) -> JsonResponse:
    """Mark a follow-up done."""
    return JsonResponse(commands.done(agent, {"followup": followup_id}))


@require_POST
@api_login_required
def followup_snooze(
    request: HttpRequest, agent: Agent, followup_id: int
) -> JsonResponse:
    """Snooze a follow-up: ``{"until": ISO 8601}``."""
    data = {**read_json(request), "followup": followup_id}
    return JsonResponse(commands.snooze(agent, data))


@require_POST
@api_login_required
def conversation_workflows(
    request: HttpRequest, agent: Agent, conversation_id: int
) -> JsonResponse:
    """Enroll the conversation's lead in a workflow: ``{"workflow": id}``."""
    data = {**read_json(request), "conversation": conversation_id}
    return JsonResponse(commands.attach_workflow(agent, data), status=201)


@require_POST
@api_login_required
def enrollment_stop(
    request: HttpRequest, agent: Agent, enrollment_id: int
) -> JsonResponse:
    """Stop a lead's workflow."""
    return JsonResponse(commands.stop_workflow(agent, {"enrollment": enrollment_id}))


@require_http_methods(["GET", "POST"])
@api_login_required
def workflows(request: HttpRequest, agent: Agent) -> JsonResponse:
    """GET: the organisation's workflows, and the numbers a workflow may
    name. POST (admins): a new workflow (see ``commands.save_workflow``)."""
    if request.method == "POST":
        data = {k: v for k, v in read_json(request).items() if k != "workflow"}
        return JsonResponse(commands.save_workflow(agent, data), status=201)
    numbers = SenderNumber.objects.filter(organisation_id=agent.organisation_id)
    return JsonResponse(
        {
            "workflows": [
                workflow_data(w) for w in followups.workflows_of(agent.organisation_id)
            ],
            "numbers": [{"id": n.id, "number": n.number} for n in numbers],
        }
    )


@require_http_methods(["POST", "DELETE"])
@api_login_required
def workflow(request: HttpRequest, agent: Agent, workflow_id: int) -> JsonResponse:
    """Admins: POST replaces a workflow, DELETE deletes it."""
    if request.method == "DELETE":
        return JsonResponse(commands.delete_workflow(agent, {"workflow": workflow_id}))
    data = {**read_json(request), "workflow": workflow_id}
    return JsonResponse(commands.save_workflow(agent, data))


urlpatterns = [
    path(
        "api/leads/<int:lead_id>/followups",
        lead_followups,
        name="api-lead-followups",
    ),
    path("api/followups/<int:followup_id>", followup, name="api-followup"),
    path(
        "api/followups/<int:followup_id>/done", followup_done, name="api-followup-done"
    ),
    path(
        "api/followups/<int:followup_id>/snooze",
        followup_snooze,
        name="api-followup-snooze",
    ),
    path(
        "api/conversations/<int:conversation_id>/workflows",
        conversation_workflows,
        name="api-conversation-workflows",
    ),
    path(
        "api/enrollments/<int:enrollment_id>/stop",
        enrollment_stop,
        name="api-enrollment-stop",
    ),
    path("api/workflows", workflows, name="api-workflows"),
    path("api/workflows/<int:workflow_id>", workflow, name="api-workflow"),
]

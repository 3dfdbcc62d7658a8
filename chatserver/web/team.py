"""The JSON API for the team's shared things: its message templates (filled in
for a lead; admins create, edit and delete them and their categories), its
agents, and the admins' engagement figures."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chatserver.commands import auto_replies as rules
from chatserver.commands import templates as saved
from chatserver.models import Agent, MessageCategory, Template
from chatserver.queries import access, contacts, numbers, reports
from chatserver.rules import templating
from chatserver.web.responses import api_error, api_login_required, read_json


@require_http_methods(["GET", "POST"])
@api_login_required
def templates(request: HttpRequest, agent: Agent) -> JsonResponse:
    """GET: the organisation's templates and message categories. With
    ``?conversation=<id>`` (or ``?lead=<id>``) each template also comes filled
    in (``text``) for that lead, its contact and this agent.
    POST (admins): a new template, ``{"name", "body", "category"?}``."""
    if request.method == "POST":
        data = {k: v for k, v in read_json(request).items() if k != "template"}
        return JsonResponse({"template": saved.save_template(agent, data)}, status=201)
    context = templating.Context(organisation=agent.organisation, agent=agent)
    conversation_id = request.GET.get("conversation", "")
    lead_id = request.GET.get("lead", "")
    raw = conversation_id or lead_id
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 20):
        return api_error("'conversation' and 'lead' take an id.")
    if conversation_id:
        conversation = access.find_conversation(agent, int(conversation_id))
        if conversation is None:
            return api_error("No such conversation.", 404, "not_found")
        context.lead = conversation.lead
        context.contact = conversation.contact_number.contact
        context.sender = conversation.sender
    elif lead_id:
        context.lead = access.find_lead(agent, int(lead_id))
        if context.lead is None:
            return api_error("No such lead.", 404, "not_found")
        context.contact = contacts.primary_contact(context.lead)
        context.sender = numbers.sender_for(agent, agent.organisation_id)
    items = []
    for template in Template.objects.filter(organisation_id=agent.organisation_id):
        item = {
            "id": template.id,
            "name": template.name,
            "body": template.body,
            "category": template.category_id,
        }
        if context.lead is not None:
            try:
                item["text"] = templating.render(template.body, context)
            except templating.TemplateError as exc:
                item["text"], item["error"] = None, str(exc)
        items.append(item)
    categories = MessageCategory.objects.filter(organisation_id=agent.organisation_id)
    return JsonResponse(
        {
            "templates": items,
            "categories": [{"id": c.id, "name": c.name} for c in categories],
        }
    )


@require_GET
@api_login_required
def agents(request: HttpRequest, agent: Agent) -> JsonResponse:
    """The organisation's agents: whom a lead may be assigned to (internal,
    active) or shared with (external). Not for external users, who may do
    neither."""
    if agent.is_external:
        return api_error("External users do not see the team.", 403, "forbidden")
    people = (
        Agent.objects.filter(organisation_id=agent.organisation_id)
        .select_related("user")
        .order_by("user__username")
    )
    return JsonResponse(
        {
            "agents": [
                {
                    "id": a.id,
                    "username": a.user.username,
                    "name": a.name,
                    "access": a.access,
                    "external": a.is_external,
                    "active": a.user.is_active,
                }
                for a in people
            ]
        }
    )


@require_GET
@api_login_required
def engagements(request: HttpRequest, agent: Agent) -> JsonResponse:
    """Leads and conversations closed in a month (``?month=YYYY-MM``; this
    month when absent), counted for their assignees: every agent's for an
    admin (``team``: true), the agent's own for anyone else."""
    team = access.is_admin(agent)
    try:
        report = reports.engagements_closed(
            agent.organisation_id,
            request.GET.get("month") or None,
            only=None if team else agent,
        )
    except ValueError:
        return api_error("'month' must look like 2025-01.")
    return JsonResponse({**report, "team": team})


@require_http_methods(["POST", "DELETE"])
@api_login_required
def template(request: HttpRequest, agent: Agent, template_id: int) -> JsonResponse:
    """Admins: POST changes a template (``{"name", "body", "category"}``),
    DELETE deletes it."""
    if request.method == "DELETE":
        return JsonResponse(saved.delete_template(agent, {"template": template_id}))
    data = {**read_json(request), "template": template_id}
    return JsonResponse({"template": saved.save_template(agent, data)})


@require_POST
@api_login_required
def categories(request: HttpRequest, agent: Agent) -> JsonResponse:
    """Admins: a new message category, ``{"name"}``."""
    data = {k: v for k, v in read_json(request).items() if k != "category"}
    return JsonResponse({"category": saved.save_category(agent, data)}, status=201)


@require_http_methods(["POST", "DELETE"])
@api_login_required
def category(request: HttpRequest, agent: Agent, category_id: int) -> JsonResponse:
    """Admins: POST renames a category (``{"name"}``), DELETE deletes it (its
    templates and messages then have none)."""
    if request.method == "DELETE":
        return JsonResponse(saved.delete_category(agent, {"category": category_id}))
    data = {**read_json(request), "category": category_id}
    return JsonResponse({"category": saved.save_category(agent, data)})


@require_http_methods(["GET", "POST"])
@api_login_required
def keyword_rules(request: HttpRequest, agent: Agent) -> JsonResponse:
    """Admins: GET the keyword rules; POST a new one,
    ``{"keyword", "template", "active"?}``."""
    if request.method == "POST":
        data = {k: v for k, v in read_json(request).items() if k != "rule"}
        return JsonResponse({"rule": rules.save_rule(agent, data)}, status=201)
    return JsonResponse({"rules": rules.list_rules(agent)})


@require_http_methods(["POST", "DELETE"])
@api_login_required
def keyword_rule(request: HttpRequest, agent: Agent, rule_id: int) -> JsonResponse:
    """Admins: POST changes a rule (``{"keyword", "template", "active"?}``),
    DELETE deletes it."""
    if request.method == "DELETE":
        return JsonResponse(rules.delete_rule(agent, {"rule": rule_id}))
    data = {**read_json(request), "rule": rule_id}
    return JsonResponse({"rule": rules.save_rule(agent, data)})


@require_GET
@api_login_required
def numbers_hours(request: HttpRequest, agent: Agent) -> JsonResponse:
    """Admins: the organisation's numbers with their business hours."""
    return JsonResponse({"numbers": rules.list_hours(agent)})


@require_http_methods(["POST", "DELETE"])
@api_login_required
def number_hours(request: HttpRequest, agent: Agent, number_id: int) -> JsonResponse:
    """Admins: POST sets a number's business hours and after-hours reply
    (``{"time_zone", "days", "opens", "closes", "after_hours_text",
    "reply_every_hours"}``), DELETE removes them."""
    if request.method == "DELETE":
        return JsonResponse({"number": rules.remove_hours(agent, {"number": number_id})})
    data = {**read_json(request), "number": number_id}
    return JsonResponse({"number": rules.save_hours(agent, data)})


urlpatterns = [
    path("api/templates", templates, name="api-templates"),
    path("api/templates/<int:template_id>", template, name="api-template"),
    path("api/categories", categories, name="api-categories"),
    path("api/categories/<int:category_id>", category, name="api-category"),
    path("api/keyword-rules", keyword_rules, name="api-keyword-rules"),
    path("api/keyword-rules/<int:rule_id>", keyword_rule, name="api-keyword-rule"),
    path("api/business-hours", numbers_hours, name="api-business-hours"),
    path(
        "api/business-hours/<int:number_id>", number_hours, name="api-number-hours"
    ),
    path("api/agents", agents, name="api-agents"),
    path("api/reports/engagements", engagements, name="api-engagements"),
]

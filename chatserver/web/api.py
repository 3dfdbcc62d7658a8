"""The console page and the JSON API. Thin: check access, call, answer."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chatserver.queries import access, chatbox as details, console as state
from chatserver import actions, events
from chatserver.commands import leads as lead_ops
from chatserver.rules import images as media
from chatserver.queries.access import visible_conversations
from chatserver.models import Agent, Message
from chatserver.rules.text import check_text

HISTORY_PAGE = 50


def agent_of(request: HttpRequest) -> Agent:
    """The agent seat of the logged-in user, or 403."""
    agent = getattr(request.user, "agent", None) if request.user.is_authenticated else None
    if agent is None:
        raise PermissionDenied("This login has no agent seat.")
    return agent


def api_error(
    reason: str, status: int = 400, code: str = "invalid", details: dict | None = None
) -> JsonResponse:
    error = {"code": code, "reason": reason}
    if details:
        error["details"] = details
    return JsonResponse({"error": error}, status=status)


def refused(exc: actions.ActionError) -> JsonResponse:
    """An action's refusal as an API answer: 404 for what cannot be found,
    409 for everything the agent can read and act on."""
    status = 404 if exc.code == "not_found" else 409
    return api_error(exc.reason, status, exc.code, exc.details)


def api_login_required(view):
    """Like login_required, but a JSON 401 instead of a redirect."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return api_error("Log in first.", 401, "unauthenticated")
        try:
            agent = agent_of(request)
        except PermissionDenied as exc:
            return api_error(str(exc), 403, "forbidden")
        return view(request, agent, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The agent console (a page of ES modules; its data comes over the socket)."""
    agent = getattr(request.user, "agent", None)
    return render(request, "chatserver/console.html", {"agent": agent})


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@api_login_required
def api_state(request: HttpRequest, agent: Agent) -> JsonResponse:
    """The same state a socket's ``hello`` carries."""
    return JsonResponse(state.hello(agent))


@require_GET
@api_login_required
def api_conversation(
    request: HttpRequest, agent: Agent, conversation_id: int
) -> JsonResponse:
    """What a chatbox shows beside the thread (``chatserver.queries.chatbox``)."""
    conversation = access.find_conversation(agent, conversation_id)
    if conversation is None:
        return api_error("No such conversation.", 404, "not_found")
    return JsonResponse(details.conversation_details(agent, conversation))


@require_http_methods(["GET", "POST"])
@api_login_required
def api_conversation_messages(
    request: HttpRequest, agent: Agent, conversation_id: int
) -> JsonResponse:
    """GET: a page of history, newest first (``?before=<id>`` pages back).
    POST: send ``{"body": ..., "client_id": ...}``."""
    conversation = (
        visible_conversations(agent).select_related("lead").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return api_error("No such conversation.", 404, "not_found")
    if request.method == "POST":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):  # (nesting deeper than json goes)
            return api_error("The body must be JSON.")
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return api_error("Send {\"body\": \"...\", \"client_id\": \"<uuid>\"}.")
        if not isinstance(data.get("schedule", False), bool):
            return api_error("'schedule' must be true or false.")
        try:
            check_text(data)
        except actions.ActionError as exc:
            return api_error(exc.reason, 400, exc.code)
        try:
            message = actions.send_message(
                agent,
                conversation,
                data["body"],
                data.get("client_id"),
                schedule=data.get("schedule", False),
            )
        except actions.ActionError as exc:
            return refused(exc)
        return JsonResponse({"message": events.message_data(message)}, status=201)
    messages = (
        Message.objects.filter(conversation=conversation)
        .select_related("author__user", "conversation")
        .prefetch_related("attachments")
    )
    before = request.GET.get("before")
    if before:
        if not (before.isascii() and before.isdigit() and len(before) < 20):
            return api_error("'before' must be a message id.")
        messages = messages.filter(id__lt=int(before))
    page = list(messages.order_by("-id")[: HISTORY_PAGE + 1])
    return JsonResponse(
        {
            "conversation": conversation.id,
            # Image URLs only for agents who may see images.
            "messages": media.for_agent(
                agent, [events.message_data(m) for m in page[:HISTORY_PAGE]]
            ),
            "more": len(page) > HISTORY_PAGE,
        }
    )


@require_POST
@api_login_required
def api_authorization_request(
    request: HttpRequest, agent: Agent, conversation_id: int
) -> JsonResponse:
    """Send the organisation's authorization request to the conversation's
    number: ``{"client_id": "<uuid>", "schedule": false}``, both optional."""
    conversation = visible_conversations(agent).filter(pk=conversation_id).first()
    if conversation is None:
        return api_error("No such conversation.", 404, "not_found")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # (nesting deeper than json goes)
        return api_error("The body must be JSON.")
    if not isinstance(data, dict) or not isinstance(data.get("schedule", False), bool):
        return api_error("Send {\"client_id\": \"<uuid>\", \"schedule\": false}.")
    try:
        check_text(data)
    except actions.ActionError as exc:
        return api_error(exc.reason, 400, exc.code)
    try:
        message = actions.request_authorization(
            agent,
            conversation,
            client_id=data.get("client_id"),
            schedule=data.get("schedule", False),
        )
    except actions.ActionError as exc:
        return refused(exc)
    return JsonResponse({"message": events.message_data(message)}, status=201)


@require_POST
@api_login_required
def api_confirm_optout(
    request: HttpRequest, agent: Agent, message_id: int
) -> JsonResponse:
    """Confirm that a lead's message (a possible opt-out) revokes consent."""
    message = Message.objects.filter(
        pk=message_id, organisation_id=agent.organisation_id
    ).first()
    if message is None:
        return api_error("No such message.", 404, "not_found")
    try:
        changed = actions.confirm_optout(agent, message)
    except actions.ActionError as exc:
        return refused(exc)
    return JsonResponse({"consent": "revoked", "changed": changed})


@require_POST
@api_login_required
def api_dismiss_optout(
    request: HttpRequest, agent: Agent, message_id: int
) -> JsonResponse:
    """Decide that a flagged message (a possible opt-out) is none."""
    message = Message.objects.filter(
        pk=message_id, organisation_id=agent.organisation_id
    ).first()
    if message is None:
        return api_error("No such message.", 404, "not_found")
    try:
        actions.dismiss_optout(agent, message)
    except actions.ActionError as exc:
        return refused(exc)
    return JsonResponse({"possible_optout": False})

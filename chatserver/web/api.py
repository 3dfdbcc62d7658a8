"""The JSON API of the console's state, conversations and messages. Thin:
the same commands as the socket (``chatserver.commands``), answered as JSON."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chatserver import shapes
from chatserver.commands import fields, messages
from chatserver.models import Agent, Message
from chatserver.queries import access, chatbox, console
from chatserver.web.responses import api_error, api_login_required, read_json

HISTORY_PAGE = 50


@require_GET
@api_login_required
def api_state(request: HttpRequest, agent: Agent) -> JsonResponse:
    """The same state a socket's ``hello`` carries."""
    return JsonResponse(console.hello(agent))


@require_GET
@api_login_required
def api_conversation(
    request: HttpRequest, agent: Agent, conversation_id: int
) -> JsonResponse:
    """What a chatbox shows beside the thread (``chatserver.queries.chatbox``)."""
    conversation = access.find_conversation(agent, conversation_id)
    if conversation is None:
        return api_error("No such conversation.", 404, "not_found")
    return JsonResponse(chatbox.conversation_details(agent, conversation))


@require_http_methods(["GET", "POST"])
@api_login_required
def api_conversation_messages(
    request: HttpRequest, agent: Agent, conversation_id: int
) -> JsonResponse:
    """GET: a page of history, newest first (``?before=<id>`` pages back).
    POST: send ``{"body": ..., "client_id": ..., "schedule": false}``, or
    later with ``"send_at": "<ISO 8601>"`` (and ``"cancel_on_reply"``)."""
    named = {"conversation": conversation_id}
    conversation = fields.conversation_for(agent, named, change=False)
    if request.method == "POST":
        message = messages.send(agent, {**read_json(request), **named})
        return JsonResponse({"message": shapes.message_data(message)}, status=201)
    history = (
        Message.objects.filter(conversation=conversation)
        .select_related("author__user", "conversation__contact_number")
        .prefetch_related("attachments")
    )
    before = request.GET.get("before")
    if before:
        if not (before.isascii() and before.isdigit() and len(before) < 20):
            return api_error("'before' must be a message id.")
        history = history.filter(id__lt=int(before))
    page = list(history.order_by("-id")[: HISTORY_PAGE + 1])
    return JsonResponse(
        {
            "conversation": conversation.id,
            # Image URLs only for agents who may see images.
            "messages": access.images_for(
                agent, [shapes.message_data(m) for m in page[:HISTORY_PAGE]]
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
    named = {"conversation": conversation_id}
    fields.conversation_for(agent, named, change=False)
    message = messages.request_authorization(agent, {**read_json(request), **named})
    return JsonResponse({"message": shapes.message_data(message)}, status=201)


@require_POST
@api_login_required
def api_phone_optout(
    request: HttpRequest, agent: Agent, conversation_id: int
) -> JsonResponse:
    """The lead asked by phone to get no more texts: ``{"note": "..."}``
    (optional). The number opts out now; ``changed`` is false when it had
    already."""
    data = {**read_json(request), "conversation": conversation_id}
    return JsonResponse(messages.optout_by_phone(agent, data))


@require_POST
@api_login_required
def api_resend(request: HttpRequest, agent: Agent, message_id: int) -> JsonResponse:
    """Send a failed text again, as a new text linked to it:
    ``{"client_id": "<uuid>", "schedule": false}``, both optional."""
    message = messages.resend(agent, {**read_json(request), "message": message_id})
    return JsonResponse({"message": shapes.message_data(message)}, status=201)


@require_POST
@api_login_required
def api_confirm_optout(
    request: HttpRequest, agent: Agent, message_id: int
) -> JsonResponse:
    """Confirm that a lead's message (a possible opt-out) revokes consent."""
    changed = messages.confirm_optout(agent, {"message": message_id})
    return JsonResponse({"consent": "revoked", "changed": changed})


@require_POST
@api_login_required
def api_dismiss_optout(
    request: HttpRequest, agent: Agent, message_id: int
) -> JsonResponse:
    """Decide that a flagged message (a possible opt-out) is none."""
    messages.dismiss_optout(agent, {"message": message_id})
    return JsonResponse({"possible_optout": False})


@require_POST
@api_login_required
def api_reschedule(request: HttpRequest, agent: Agent, message_id: int) -> JsonResponse:
    """Change a scheduled text before it goes: ``{"body"?, "send_at"?,
    "cancel_on_reply"?}``."""
    return JsonResponse(
        messages.reschedule(agent, {**read_json(request), "message": message_id})
    )


@require_POST
@api_login_required
def api_cancel(request: HttpRequest, agent: Agent, message_id: int) -> JsonResponse:
    """Cancel a scheduled text before it goes."""
    return JsonResponse(messages.cancel(agent, {"message": message_id}))

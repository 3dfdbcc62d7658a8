"""How the HTTP side answers: JSON errors with one map from a refusal to its
status, the JSON body read once, plain-text answers, and the API's login."""

from __future__ import annotations

import json
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse

from chatserver.models import Agent
from chatserver.rules.errors import ActionError
from chatserver.rules.text import check_text

# How a refusal's code maps to an HTTP status; anything else is 409 (the
# request was understood but may not be done now: no consent, quiet hours...).
STATUS_OF = {
    "not_found": 404,
    "invalid": 400,
    "empty": 400,
    "too_long": 400,
    "reserved": 400,
    "forbidden": 403,
    "rate_limited": 429,
}


def api_error(
    reason: str, status: int = 400, code: str = "invalid", details: dict | None = None
) -> JsonResponse:
    error = {"code": code, "reason": reason}
    if details:
        error["details"] = details
    return JsonResponse({"error": error}, status=status)


def refused(exc: ActionError) -> JsonResponse:
    """An action's refusal as an API answer (``STATUS_OF``)."""
    return api_error(exc.reason, STATUS_OF.get(exc.code, 409), exc.code, exc.details)


def read_json(request: HttpRequest) -> dict:
    """The request's JSON object (empty when no body), its texts storable,
    or ActionError."""
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):  # (nesting deeper than json goes)
        raise ActionError("The body must be JSON.", "invalid") from None
    if not isinstance(data, dict):
        raise ActionError("The body must be a JSON object.", "invalid")
    check_text(data)
    return data


def plain(status: int, reason: str) -> HttpResponse:
    """A short plain-text answer (webhooks, images: no browser renders it)."""
    return HttpResponse(reason + "\n", status=status, content_type="text/plain")


def agent_of(request: HttpRequest) -> Agent:
    """The agent seat of the logged-in user, or 403."""
    agent = getattr(request.user, "agent", None) if request.user.is_authenticated else None
    if agent is None:
        raise PermissionDenied("This login has no agent seat.")
    return agent


def api_login_required(view):
    """Like login_required, but a JSON 401 instead of a redirect; the view
    gets the agent, and any refusal it raises is answered as JSON."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return api_error("Log in first.", 401, "unauthenticated")
        try:
            agent = agent_of(request)
        except PermissionDenied as exc:
            return api_error(str(exc), 403, "forbidden")
        try:
            return view(request, agent, *args, **kwargs)
        except ActionError as exc:
            return refused(exc)

    return wrapped

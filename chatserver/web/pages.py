"""The console's page (its data comes over the socket) and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The agent console (a page of ES modules; its data comes over the socket)."""
    agent = getattr(request.user, "agent", None)
    return render(request, "chatserver/console.html", {"agent": agent})


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")

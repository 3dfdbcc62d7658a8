"""HTTP URLs (the WebSocket's are in consumers/routing.py)."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

from chatserver.web import (
    leads as api_leads,
    media as media_views,
    simulator as simulator_views,
    login as throttle,
    api as views,
    webhooks,
)

urlpatterns = [
    path("", views.console, name="console"),
    path("healthz", views.health, name="health"),
    # Both sign-in forms, throttled against guessing (before the includes
    # that would otherwise serve them).
    path("accounts/login/", throttle.throttled(LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/login/", throttle.throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("simulator/", include(simulator_views.urlpatterns)),
    path("carriers/<str:carrier>/<str:kind>", webhooks.carrier_webhook, name="carrier-webhook"),
    path("api/state", views.api_state, name="api-state"),
    path(
        "api/conversations/<int:conversation_id>",
        views.api_conversation,
        name="api-conversation",
    ),
    path(
        "api/conversations/<int:conversation_id>/messages",
        views.api_conversation_messages,
        name="api-conversation-messages",
    ),
    path(
        "api/conversations/<int:conversation_id>/authorization-request",
        views.api_authorization_request,
        name="api-authorization-request",
    ),
    path(
        "api/messages/<int:message_id>/confirm-optout",
        views.api_confirm_optout,
        name="api-confirm-optout",
    ),
    path(
        "api/messages/<int:message_id>/dismiss-optout",
        views.api_dismiss_optout,
        name="api-dismiss-optout",
    ),
]

# Leads, search, templates and reports (chatserver/api_leads.py).
urlpatterns += api_leads.urlpatterns
# MMS images: to agents, from agents, to carriers (chatserver/media_views.py).
urlpatterns += media_views.urlpatterns

"""HTTP URLs (the WebSocket's are in consumers/urls.py)."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

from chatserver.web import (
    api,
    followups,
    leads,
    login,
    media,
    metrics,
    pages,
    search,
    simulator,
    team,
    webhooks,
)

urlpatterns = [
    path("", pages.console, name="console"),
    path("healthz", pages.health, name="health"),
    # For operators only: a token or an allowed address (docs/operations.md).
    path("metrics", metrics.metrics_page, name="metrics"),
    # Both sign-in forms, throttled against guessing (before the includes
    # that would otherwise serve them).
    path("accounts/login/", login.throttled(LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/login/", login.throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("simulator/", include(simulator.urlpatterns)),
    path(
        "carriers/<str:carrier>/<str:kind>",
        webhooks.carrier_webhook,
        name="carrier-webhook",
    ),
    path("api/state", api.api_state, name="api-state"),
    path(
        "api/conversations/<int:conversation_id>",
        api.api_conversation,
        name="api-conversation",
    ),
    path(
        "api/conversations/<int:conversation_id>/messages",
        api.api_conversation_messages,
        name="api-conversation-messages",
    ),
    path(
        "api/conversations/<int:conversation_id>/authorization-request",
        api.api_authorization_request,
        name="api-authorization-request",
    ),
    path(
        "api/conversations/<int:conversation_id>/phone-optout",
        api.api_phone_optout,
        name="api-phone-optout",
    ),
    path(
        "api/messages/<int:message_id>/resend",
        api.api_resend,
        name="api-resend",
    ),
    path(
        "api/messages/<int:message_id>/reschedule",
        api.api_reschedule,
        name="api-reschedule",
    ),
    path(
        "api/messages/<int:message_id>/cancel",
        api.api_cancel,
        name="api-cancel",
    ),
    path(
        "api/messages/<int:message_id>/confirm-optout",
        api.api_confirm_optout,
        name="api-confirm-optout",
    ),
    path(
        "api/messages/<int:message_id>/dismiss-optout",
        api.api_dismiss_optout,
        name="api-dismiss-optout",
    ),
]

# Leads (chatserver/web/leads.py) and search (chatserver/web/search.py).
urlpatterns += leads.urlpatterns
urlpatterns += search.urlpatterns
# The team: templates, agents, engagement figures (chatserver/web/team.py).
urlpatterns += team.urlpatterns
# Follow-ups and workflows (chatserver/web/followups.py).
urlpatterns += followups.urlpatterns
# MMS images: to agents, from agents, to carriers (chatserver/web/media.py).
urlpatterns += media.urlpatterns

"""HTTP URLs (the WebSocket's are in consumers/routing.py)."""

from django.contrib import admin
from django.urls import include, path

from chatserver import views, webhooks

urlpatterns = [
    path("", views.console, name="console"),
    path("healthz", views.health, name="health"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("carriers/<str:carrier>/<str:kind>", webhooks.carrier_webhook, name="carrier-webhook"),
    path("api/state", views.api_state, name="api-state"),
    path(
        "api/conversations/<int:conversation_id>/messages",
        views.api_conversation_messages,
        name="api-conversation-messages",
    ),
]

"""WebSocket URLs."""

from django.urls import path

from consumers.console import ConsoleConsumer

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]

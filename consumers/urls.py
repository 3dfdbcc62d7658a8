"""WebSocket URLs, and the stack every WebSocket goes through."""

from channels.routing import URLRouter
from django.urls import path

from consumers.auth import SocketLogin
from consumers.console import ConsoleConsumer
from consumers.origin import SameOriginValidator

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]

# Only this site's own pages may open a socket (consumers.origin), and only
# with a logged-in session (the session cookie, checked by each consumer).
websocket_application = SameOriginValidator(
    SocketLogin(URLRouter(websocket_urlpatterns))
)

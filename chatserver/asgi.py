"""The ASGI application: Django for HTTP, the console consumer for WebSockets."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

import django  # noqa: E402

django.setup()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

from chatserver import outbox  # noqa: E402
from consumers.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        # Only our own pages may open the socket (Origin against ALLOWED_HOSTS),
        # and only with a logged-in session (checked by the consumer).
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)


async def application(scope, receive, send):
    """The router, plus the in-process outbox started on the server's loop."""
    outbox.start_in_process()
    return await router(scope, receive, send)

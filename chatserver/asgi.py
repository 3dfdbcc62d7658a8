"""The ASGI application: Django for HTTP, the console consumer for WebSockets."""

import os
import sys

from chatserver import localenv  # noqa: E402

localenv.load()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

import django  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

try:
    django.setup()
except ImproperlyConfigured as exc:
    # Refuse to serve, in one line that says what to set.
    sys.exit(f"chatserver: {exc}")

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

import carriers  # noqa: E402
from chatserver import links  # noqa: E402
from chatserver.web.bodylimit import BodySizeLimit  # noqa: E402
from chatserver.worker import loop  # noqa: E402
from consumers import server  # noqa: E402
from consumers.urls import websocket_application  # noqa: E402

carriers.load_offered()

router = ProtocolTypeRouter(
    {
        # Bodies over MAX_REQUEST_BYTES are refused before Django reads them.
        "http": BodySizeLimit(get_asgi_application()),
        # Only our own pages may open the socket (same Origin), and only with
        # a logged-in session (checked by the consumer).
        "websocket": websocket_application,
    }
)


async def application(scope, receive, send):
    """The router, plus the in-process outbox started on the server's loop."""
    if scope["type"] in ("http", "websocket"):
        links.learn_local_base(scope)
    # Under a server other than Daphne, the first request starts the outbox.
    loop.start_in_process()
    return await router(scope, receive, send)


def start_outbox_with_daphne() -> None:
    """Start the in-process outbox as soon as Daphne's loop runs.

    Not on the first request: after a restart, texts queued before it must go
    out even if nobody visits. Daphne has installed Twisted's asyncio reactor
    before it loads this module; under any other server nothing happens here.
    """
    if "daphne.server" not in sys.modules:
        return
    from twisted.internet import reactor

    reactor.callLater(0, loop.start_in_process)


start_outbox_with_daphne()


def close_too_large_frames_with_1009() -> None:
    """Make Daphne close a socket whose message is over its limit (1 MiB)
    with the close code the protocol documents, 1009, instead of dropping
    the connection: its WebSocket library fails such a connection "by drop"
    unless told otherwise, and Daphne does not tell it. The factory is built
    after this module is imported, so setting the option on it here takes."""
    if "daphne.server" not in sys.modules:
        return
    from daphne.ws_protocol import WebSocketFactory

    built = WebSocketFactory.__init__
    if getattr(built, "closes_with_1009", False):
        return

    def __init__(self, *args, **kwargs):
        built(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    __init__.closes_with_1009 = True
    WebSocketFactory.__init__ = __init__


close_too_large_frames_with_1009()

# On SIGTERM, drain (close consoles with 1012, answer what is in flight) before
# stopping; handshakes time out after WEBSOCKET_HANDSHAKE_SECONDS, with 503.
server.install_with_daphne()

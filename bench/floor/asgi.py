"""The floor app: POST a webhook, and every socket gets its body.

It answers the same URL and shape as the product where the harness looks: the
webhook at ``/carriers/twilio/inbound`` (TwiML answer, signature not checked),
and sockets at ``/ws/console/`` that get a ``hello`` and then one
``message.created`` frame per webhook, carrying the body.
"""

import itertools
import json
import os
import urllib.parse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")

import django  # noqa: E402

django.setup()

from channels.generic.http import AsyncHttpConsumer  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

GROUP = "everyone"
TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_cursors = itertools.count(1)


class Webhook(AsyncHttpConsumer):
    """Fan the posted body out to every socket, then answer as Twilio expects."""

    async def handle(self, body):
        form = urllib.parse.parse_qs(body.decode())
        cursor = next(_cursors)
        text = json.dumps(
            {
                "type": "message.created",
                "cursor": cursor,
                "message": {"direction": "in", "body": form.get("Body", [""])[0]},
            }
        )
        await self.channel_layer.group_send(GROUP, {"type": "fanout", "text": text})
        await self.send_response(200, TWIML, headers=[(b"Content-Type", b"text/xml")])


class Socket(AsyncWebsocketConsumer):
    """Join the one group, relay what it gets."""

    async def connect(self):
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello", "cursor": 0}))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        pass  # the floor has no client messages (a resume replays nothing)

    async def fanout(self, event):
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {
        "http": URLRouter([path("carriers/twilio/inbound", Webhook.as_asgi())]),
        "websocket": URLRouter([path("ws/console/", Socket.as_asgi())]),
    }
)

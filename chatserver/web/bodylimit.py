"""A bound on HTTP request bodies, before Django sees them.

Django checks ``DATA_UPLOAD_MAX_MEMORY_SIZE`` against the Content-Length
header only once a view reads the body, after its ASGI handler has already
spooled the whole body to memory or disk; a body sent without a length
(chunked) is not checked at all. This ASGI middleware counts the bytes as
they arrive and answers 413 as soon as they pass ``MAX_REQUEST_BYTES``, so the
application never holds more than that of anyone's request.
"""

from __future__ import annotations

import re

from django.conf import settings

TOO_LARGE = b"Request body too large.\n"
# The paths that take images (an agent's MMS, the simulator's phone): their
# bodies may reach MAX_UPLOAD_REQUEST_BYTES instead.
UPLOAD_PATHS = re.compile(r"^/(api/conversations/[0-9]+/mms|simulator/text)$")


def limit_for(scope) -> int:
    """The most bytes a request to this path may send."""
    if UPLOAD_PATHS.match(scope.get("path", "")):
        return settings.MAX_UPLOAD_REQUEST_BYTES
    return settings.MAX_REQUEST_BYTES


def content_length(scope) -> int | None:
    """The Content-Length a request declared: None when absent, -1 when it is
    not a number (or given twice with different values)."""
    values = {
        value for name, value in scope.get("headers", ()) if name == b"content-length"
    }
    if not values:
        return None
    if len(values) > 1:
        return -1
    value = values.pop().strip()
    return int(value) if value.isdigit() else -1


async def answer(send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """ASGI middleware: HTTP bodies over ``MAX_REQUEST_BYTES`` get a 413."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        limit = limit_for(scope)
        declared = content_length(scope)
        if declared == -1:
            return await answer(send, 400, b"Invalid Content-Length.\n")
        if declared is not None and declared > limit:
            return await answer(send, 413, TOO_LARGE)
        # Read the body here, counting; the application then reads it from
        # this buffer (never more than ``limit`` bytes).
        buffered = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: nothing to answer.
                return
            size += len(message.get("body", b""))
            if size > limit:
                return await answer(send, 413, TOO_LARGE)
            buffered.append(message)
            if not message.get("more_body", False):
                break

        async def replay():
            if buffered:
                return buffered.pop(0)
            return await receive()

        return await self.application(scope, replay, send)

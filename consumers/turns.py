"""A console socket reads its two sources of messages, the browser and the
channel layer, each in a task that lives as long as the socket, into one
inbox whose messages its handlers take one at a time, as Channels' own
consumers do.

Channels' loop (``channels.utils.await_many_dispatch``) waits on both sources
with ``asyncio.wait`` and starts a new task for every message: for a text
fanned out to 100 sockets, about a tenth of the web process's CPU went there
(docs/performance.md). Here a message costs two wake-ups: its reader's, then
the handlers'. A reader is only ever cancelled while it waits on its source,
as Channels' are: the channel layer forgets a channel whose receive is
cancelled, and no other call does that.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

Source = Callable[[], Awaitable[Any]]


class TakingTurns:
    """For an ``AsyncConsumer``: its ``__call__``, with ``read_in_turn`` where
    Channels has ``await_many_dispatch``."""

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(
            self.channel_layer.receive, self.channel_name
        )
        self.base_send = send
        try:
            await read_in_turn([receive, self.channel_receive], self.dispatch)
        except StopConsumer:
            pass


class _Failed:
    """What a reader puts in the inbox when its source raised."""

    def __init__(self, error: Exception):
        self.error = error


async def read_in_turn(sources: list[Source], dispatch) -> None:
    """Read each source in a task of its own and hand what they give to
    ``dispatch`` one message at a time, in the order they came, until a
    dispatch or a source raises (``StopConsumer`` when the socket closed):
    that is raised here."""
    loop = asyncio.get_running_loop()
    # A deque and a future to wait on, not an asyncio.Queue: a socket holds
    # this for its lifetime, and a queue is four deques and an event.
    inbox: deque = deque()
    waiting: asyncio.Future | None = None

    def deliver(message) -> None:
        inbox.append(message)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def read(source: Source) -> None:
        try:
            while True:
                deliver(await source())
        except Exception as error:  # cancelling is no error: not caught
            deliver(_Failed(error))

    readers = [asyncio.ensure_future(read(source)) for source in sources]
    try:
        while True:
            if not inbox:
                waiting = loop.create_future()
                await waiting
                continue
            message = inbox.popleft()
            if isinstance(message, _Failed):
                raise message.error
            await dispatch(message)
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

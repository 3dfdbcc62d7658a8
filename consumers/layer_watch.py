"""Open sockets catch up when the channel layer lost messages (Redis restarted).

The channel layer is a doorbell (DESIGN.md): what is published while Redis is
down, or before a process has subscribed again once it is back, is gone, and a
socket that stayed open would never learn that it missed something (a console
only resumes after its socket drops). So each server process watches its own
layer:

- every ``HEARTBEAT`` seconds it sends a message to a channel of its own and
  waits for it to come back: the round trip shows that publishing and this
  process's subscriptions both work;
- while they do, it notes each local socket's cursor (``layer_safe_cursor``):
  the socket has had every event up to it that it should have had;
- when a heartbeat does not come back in ``TIMEOUT``, or this process's
  subscriptions had to be made again (Redis restarted between two
  heartbeats), it asks every local socket, once the heartbeat comes back, to
  catch up from its noted cursor, from the database, as a resume does
  (``ConsoleConsumer.layer_catch_up``).

A publish that failed (in any process: the worker's too, while Redis stayed up
for the others) is the publisher's to mend: it asks the sockets of the groups
that missed events to catch up, in every process, once its layer works again
(``chatserver.publish._Missed``).

The steady cost is one heartbeat per process, whatever the number of sockets;
an outage costs one replay per socket, or two when the publisher also asks
(the second finds nothing new: a socket replays only past its floor). The in-memory layer loses nothing
to restarts, so it is not watched.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)

HEARTBEAT = 0.5
TIMEOUT = 5.0



class Watched(Protocol):
    """What the watch needs of a socket (``consumers.console``'s consumer)."""

    channel_name: str
    cursor: int
    floor: int
    layer_safe_cursor: int


_sockets: weakref.WeakSet[Watched] = weakref.WeakSet()
_watchers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def register(socket: Watched) -> None:
    """Watch the layer for this socket (call once it has sent its hello)."""
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return
    socket.layer_safe_cursor = socket.cursor
    _sockets.add(socket)
    loop = asyncio.get_running_loop()
    task = _watchers.get(loop)
    if task is None or task.done():
        _watchers[loop] = loop.create_task(Watcher(layer).run())


def unregister(socket: Watched) -> None:
    _sockets.discard(socket)


class Watcher:
    """The heartbeat of one process's channel layer."""

    def __init__(self, layer):
        self.layer = layer
        self.beat = 0
        self.seen = 0
        self.arrived = asyncio.Event()
        self.reconnects = 0
        self.watched: set[int] = set()

    async def run(self) -> None:
        self.channel = await self.layer.new_channel("layer-watch.")
        reader = asyncio.create_task(self.read())
        healthy = True
        lost_at = 0.0
        reconnects = 0
        try:
            while _sockets:
                ok = await self.heartbeat()
                self.watch_subscriptions()
                trouble = self.reconnects != reconnects
                reconnects = self.reconnects
                if not ok:
                    if healthy:
                        healthy, lost_at = False, time.monotonic()
                        log.warning("channel layer down: sockets will catch up")
                elif not healthy or trouble:
                    away = 0.0 if healthy else time.monotonic() - lost_at
                    log.warning(
                        "layer lost messages (down %.1f s): %d sockets catch up",
                        away,
                        len(_sockets),
                    )
                    healthy = await self.catch_up()
                else:
                    for socket in list(_sockets):
                        socket.layer_safe_cursor = socket.cursor
                await asyncio.sleep(HEARTBEAT)
        finally:
            reader.cancel()

    async def read(self) -> None:
        """Note every heartbeat that comes back (one long receive: cancelling a
        receive would make the layer drop the channel's subscription)."""
        while True:
            message = await self.layer.receive(self.channel)
            self.seen = max(self.seen, message.get("beat", 0))
            self.arrived.set()

    async def heartbeat(self) -> bool:
        self.beat += 1
        deadline = time.monotonic() + TIMEOUT
        message = {"type": "layer.heartbeat", "beat": self.beat}
        try:
            await asyncio.wait_for(self.layer.send(self.channel, message), TIMEOUT)
            while self.seen < self.beat:
                self.arrived.clear()
                await asyncio.wait_for(self.arrived.wait(), deadline - time.monotonic())
        except Exception:  # an outage shows as an error or as a timeout
            return False
        return True

    def watch_subscriptions(self) -> None:
        """Count reconnections of the layer's subscribing connections.

        channels-redis's PubSub layer subscribes through one redis-py
        connection per shard, which redis-py reconnects (and subscribes again)
        by itself: what was published in between never arrives. A connect
        callback is how that shows; the in-memory layer has none.
        """
        for shard in getattr(self.layer, "_shards", ()):
            connection = getattr(getattr(shard, "_pubsub", None), "connection", None)
            if connection is not None and id(connection) not in self.watched:
                connection.register_connect_callback(self.on_reconnect)
                self.watched.add(id(connection))

    def on_reconnect(self, connection) -> None:
        self.reconnects += 1

    async def catch_up(self) -> bool:
        """Ask every local socket to replay what it may have missed; whether
        every one was asked."""
        for socket in list(_sockets):
            since = getattr(socket, "layer_safe_cursor", None)
            try:
                await self.layer.send(
                    socket.channel_name,
                    {"type": "layer.catch_up", "since": since or socket.floor},
                )
            except Exception:
                log.warning("could not ask the sockets to catch up: will try again")
                return False
        return True

"""A socket's replays: the events a console missed, sent again from the
database (``resume``, and when the channel layer may have lost some:
``consumers.layer_watch``), or a fresh state when they cannot be.
"""

from __future__ import annotations

import asyncio
import json
import logging

from django.db import DatabaseError

from chatserver import events
from chatserver.queries import console, replay
from chatserver.rules import images
from chatserver.rules.errors import ActionError
from consumers import frames
from consumers.db import database_sync_to_async

log = logging.getLogger(__name__)

# Events after which a socket reads the agent's rights again.
RIGHTS_EVENTS = (events.AGENT_UPDATED, events.ORGANISATION_UPDATED)


class Replays:
    """Mixed into the console consumer: ``self.agent``, ``self.cursor``,
    ``self.floor``, ``self.images``, ``remember``, ``start_from``,
    ``apply_rights`` and ``after_replay`` (``consumers.tallies``) are the
    consumer's."""

    async def on_resume(self, data):
        cursor = data.get("cursor")
        if isinstance(cursor, bool) or not isinstance(cursor, int):
            raise ActionError("'cursor' is missing or of the wrong type.", "invalid")
        if cursor < 0:
            raise ActionError("'cursor' must be a cursor this server sent.", "invalid")
        if cursor == self.floor == self.cursor:
            # From the cursor of the hello just sent (every console after a
            # restart during which nothing happened): the hello holds every
            # event up to it, later ones come live; nothing to read.
            await self.send_resumed(replayed=0)
            return
        await self.catch_up(cursor, budget=self.limits.resumes)

    async def send_resumed(self, replayed: int):
        """The end of a replay: the socket's cursor, and how many it sent."""
        resumed = {"type": "resumed", "cursor": self.cursor, "replayed": replayed}
        await self.send(text_data=json.dumps(resumed))

    async def layer_catch_up(self, event):
        """The channel layer may have lost events for this socket (Redis
        restarted; see consumers/layer_watch.py): replay them as a resume does.

        Only this socket knows where its browser's gap starts (the browser
        has meanwhile seen newer events live), so a database that refuses for
        a while is waited for, not given up on: a socket closed now would
        resume from past the gap.
        """
        # What the socket's state already holds (its hello, a replay) needs
        # no replay: a process whose publish failed asks from its first
        # lost event, which may be older than this socket.
        since = max(event["since"], self.floor)
        for wait in (1, 2, 4, 8, 15, 30):
            try:
                await self.catch_up(since)
                return
            except DatabaseError:
                log.warning("catch-up of a socket failed: trying again in %s s", wait)
                await asyncio.sleep(wait)
        await self.catch_up(since)

    async def catch_up(self, cursor: int, budget: frames.TokenBucket | None = None):
        """Send the events after ``cursor``, then ``resumed``; or a ``reload``
        when they cannot be replayed. ``budget`` charges what it costs.

        Every event of the gap is sent, even one this socket already relayed
        live: the browser may have applied a newer event (a "delivered") before
        an older one replayed here (its "sent"), and ends right only if the
        replay, in cursor order, ends with the newest. Events apply twice
        harmlessly.
        """
        gap = await database_sync_to_async(replay.missed_events)(self.agent, cursor)
        cost = 1 if gap is None else len(gap.events) / frames.RELOAD_EVENTS
        if budget is not None and not budget.take(cost):
            raise ActionError(
                "Resuming too often: wait a few seconds, then reconnect.",
                "rate_limited",
            )
        if gap is None:
            hello = await database_sync_to_async(console.hello)(self.agent)
            await self.start_from({**hello, "type": "reload"})
            return
        rights = False
        for event in gap.events:
            self.remember(event.cursor)
            rights = rights or event.type in RIGHTS_EVENTS
            payload = event.payload if self.images else images.hide_images(event.payload)
            await self.send(text_data=events.serialise(event.type, event.cursor, payload))
        # Everything up to gap.cursor was committed when the replay was read:
        # live copies still on their way are duplicates.
        self.cursor = max(self.cursor, gap.cursor)
        self.floor = max(self.floor, gap.cursor)
        await self.send_resumed(replayed=len(gap.events))
        if rights:
            # The gap held a change of rights: start again from them.
            await self.apply_rights()
            return
        await self.after_replay(gap.cursor)

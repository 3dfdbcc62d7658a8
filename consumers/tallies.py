"""A socket's own tallies of its agent's unread counts and bucket counts:
started from the ``hello``, moved by the events it relays (no database access
per event), recounted from the database when an event cannot say (a lead
entering or leaving the agent's view, a replay of events they miss)."""

from __future__ import annotations

import json

from chatserver import events
from chatserver.queries import buckets, unread
from consumers.db import database_sync_to_async


class Tallies:
    """Mixed into the console consumer: ``self.agent``, ``self.cursor`` and
    ``self.send`` are the consumer's."""

    unread: events.UnreadCounts
    buckets: dict[str, int] | None = None
    # The tallies hold every event up to this cursor: those of the state they
    # were read with, and (moved live) those after it.
    tallied = 0

    def start_tallies(self, hello: dict) -> None:
        self.unread = hello["unread"]
        self.buckets = hello.get("buckets")
        self.tallied = hello["cursor"]

    async def after_replay(self, cursor: int) -> None:
        """A replay up to ``cursor`` was sent: the browser gets the agent's
        unread counts again (its replay may have moved its own), and the
        tallies are counted again only if the replay held events they miss
        (a replay does not move them). A console's resume straight after its
        hello (every console, after a restart) needs no count."""
        if cursor <= self.tallied:
            await self.send_unread()
            return
        await self.refresh_unread(always=True)
        await self.refresh_buckets()
        self.tallied = cursor

    # -- unread counts ---------------------------------------------------------

    def take_unread_of(self, event) -> int | None:
        """A lead's message carries every agent's unread count of its
        conversation (one event for all): this agent's, when it changed."""
        counts = event.get("unread")
        if counts is None:
            return None
        count = counts["agents"].get(str(self.agent.id), counts["default"])
        return count if self.set_unread(event["conversation"], count) else None

    def set_unread(self, conversation_id, count: int) -> bool:
        """Set one conversation's unread count; whether the counts changed."""
        counts = self.unread["conversations"]
        key = str(conversation_id)
        if counts.get(key, 0) == count:
            return False
        if count:
            counts[key] = count
        else:
            counts.pop(key, None)
        self.unread["total"] = sum(counts.values())
        return True

    async def unread_conversation(self, event):
        """The agent's count of one conversation changed (they read it)."""
        if self.set_unread(event["conversation"], event["count"]):
            await self.send_unread()

    async def refresh_unread(self, always: bool = False):
        """Recount from the database; tell the browser if anything changed."""
        fresh = await database_sync_to_async(unread.unread_counts)(self.agent)
        changed = fresh != self.unread
        self.unread = fresh
        if changed or always:
            await self.send_unread()

    async def send_unread(self):
        frame = events.UnreadChanged(
            type=events.UNREAD_CHANGED, cursor=self.cursor, unread=self.unread
        )
        await self.send(text_data=json.dumps(frame))

    # -- bucket counts ---------------------------------------------------------

    def view_changed(self, event) -> bool:
        """Whether a lead event moved the lead into or out of the agent's view
        (True when the event does not say)."""
        before, now = event.get("before"), event.get("state")
        if not before or not now:
            return True
        return events.in_audience(self.agent, before.get("audience")) != (
            events.in_audience(self.agent, now.get("audience"))
        )

    async def track_buckets(self, event):
        """Move the lead between this agent's bucket counts, from the state
        the event says it had to the one it has (no database access)."""
        if self.buckets is not None and buckets.apply(
            self.agent, self.buckets, event.get("before"), event.get("state")
        ):
            await self.send_buckets()

    async def refresh_buckets(self):
        """Recount from the database (after a replay, which skips
        ``track_buckets``); tell the browser if anything changed."""
        fresh = await database_sync_to_async(buckets.counts)(self.agent)
        if fresh != self.buckets:
            self.buckets = fresh
            await self.send_buckets()

    async def send_buckets(self):
        frame = events.BucketsChanged(
            type=events.BUCKETS_CHANGED, cursor=self.cursor, buckets=self.buckets
        )
        await self.send(text_data=json.dumps(frame))

"""The agent console's socket, ``/ws/console/`` (see docs/protocol.md).

Thin: it checks who is connecting, relays the events of the groups it joined
(already serialised by whoever published them), keeps this agent's unread
counts current, and turns client messages into calls to ``chatserver.actions``.

Client messages go to the handler named in ``ConsoleConsumer.handlers``; events
from the channel layer to the method Channels names after their type, and any
event type without a method of its own is simply relayed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections import deque

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.signals import user_logged_out
from django.db import DatabaseError
from django.dispatch import receiver

from chatserver.queries import access, buckets, console as state
from chatserver import actions, events
from chatserver.commands import leads as lead_ops
from chatserver.rules import images as media
from chatserver.queries.access import visible_conversations
from chatserver.publish import publish
from chatserver.models import Agent, Message
from consumers import layer_watch
from consumers.auth import resolve_user
from consumers.db import database_sync_to_async
from chatserver.rules.text import check_text

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024
# Sends allowed per socket: a burst of this many, refilled at this rate.
SEND_BURST = 10
SEND_RATE_PER_SECOND = 1.0
# Client messages of any type, per socket.
FRAME_BURST = 60
FRAME_RATE_PER_SECOND = 20.0
# What a client's resume may cost the server, per socket, in rebuilt states
# (a ``reload`` is a whole fresh state: the hello's queries, and a frame as
# large as the agent's view): a burst of this many, then one per
# RELOAD_EVERY seconds. A replay of missed events costs what it replays,
# RELOAD_EVENTS events counting as one reload. Limited by cost, not by
# frame: one cheap frame can ask for the dearest thing the socket does.
RELOAD_BURST = 3
RELOAD_EVERY = 10.0
RELOAD_EVENTS = 100
# Cursors a socket remembers to drop an event that reaches it twice (through
# two of its groups while a lead changes hands, or live after a resume).
RECENT_CURSORS = 1024
# Finds the client_id of a message too large to be parsed, to name it in the
# error (so the browser stops resending it).
CLIENT_ID_PATTERN = re.compile(r'"client_id"\s*:\s*"([^"\\]{1,64})"')

# Events after which a socket reads the agent's rights again.
RIGHTS_EVENTS = (events.AGENT_UPDATED, events.ORGANISATION_UPDATED)

# Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_AN_AGENT = 4403


class ProtocolError(Exception):
    """A client message that does not follow the protocol."""


def required(data: dict, name: str, kind: type | tuple[type, ...]):
    """A field of a client message, of the right type, or ProtocolError."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ProtocolError(f"'{name}' is missing or of the wrong type.")
    return value


def optional_flag(data: dict, name: str) -> bool:
    """An optional true/false field of a client message (absent: false)."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ProtocolError(f"'{name}' must be true or false.")
    return value


@database_sync_to_async
def load_agent(user_id: int) -> Agent | None:
    """The user's agent seat as it is now (None: deactivated, or no seat)."""
    return (
        Agent.objects.select_related("organisation", "user")
        .filter(user_id=user_id, user__is_active=True)
        .first()
    )


class TokenBucket:
    """A per-socket rate limit."""

    def __init__(self, burst: int, rate: float):
        self.capacity = burst
        self.tokens = float(burst)
        self.rate = rate
        self.updated = time.monotonic()

    def take(self, cost: float = 1) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


def session_tag(session_key: str | None) -> str | None:
    """A session's name on the channel layer (never the key itself)."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs):
    """Logging out closes the sockets of that session, in every process."""
    agent = getattr(user, "agent", None) if user is not None else None
    session = getattr(request, "session", None)
    tag = session_tag(session.session_key if session is not None else None)
    if agent is not None and tag:
        publish(
            [events.agent_group(agent.id)], {"type": "session.ended", "session": tag}
        )


class ConsoleConsumer(AsyncWebsocketConsumer):
    """One browser tab of one agent."""

    agent: Agent | None = None
    cursor = 0
    # Events up to this cursor are in the state the socket started from (its
    # hello) or were replayed: live copies of them are dropped.
    floor = 0

    async def connect(self):
        # The handshake first, then the login lookup (consumers/auth.py):
        # Daphne drops a handshake not accepted within 5 s, and when thousands
        # of consoles reconnect at once their lookups take longer than that.
        await self.accept()
        user = await resolve_user(self.scope) if "user" in self.scope else None
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        self.agent = await load_agent(user.pk)
        if self.agent is None:
            await self.refuse(CLOSE_NOT_AN_AGENT)
            return
        session = self.scope.get("session")
        self.session = session_tag(session.session_key if session else None)
        # Whether this agent is shown images (their URLs in events); read once
        # per socket, and the image view checks again on every fetch.
        self.images = access.may_see_images(self.agent)
        # Join before reading the state, so no event falls between the two.
        self.joined = events.groups_for_agent(self.agent)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.recent = deque(maxlen=RECENT_CURSORS)
        self.recent_set: set[int] = set()
        self.send_limit = TokenBucket(SEND_BURST, SEND_RATE_PER_SECOND)
        self.frame_limit = TokenBucket(FRAME_BURST, FRAME_RATE_PER_SECOND)
        self.resume_limit = TokenBucket(RELOAD_BURST, 1 / RELOAD_EVERY)
        await self.start_from(await database_sync_to_async(state.hello)(self.agent))
        layer_watch.register(self)

    async def reload_agent(self) -> bool:
        """Read the agent's rights and plan again; a deactivated agent's
        socket is closed (4401). Returns whether the socket goes on."""
        agent = await load_agent(self.agent.user_id)
        if agent is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        self.agent = agent
        self.images = access.may_see_images(agent)
        return True

    async def rights_changed(self, event):
        """The agent's rights or their organisation's plan changed
        (``agent.updated``, ``organisation.updated``): re-read them, join the
        groups they now call for, and send the console a fresh state."""
        if self.take(event):
            await self.apply_rights()

    async def apply_rights(self):
        if not await self.reload_agent():
            return
        wanted = events.groups_for_agent(self.agent)
        for group in set(self.joined) - set(wanted):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(wanted) - set(self.joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = wanted
        hello = await database_sync_to_async(state.hello)(self.agent)
        await self.start_from({**hello, "type": "reload"})

    agent_updated = rights_changed
    organisation_updated = rights_changed

    async def refuse(self, code: int):
        """Close with ``code`` straight after the handshake. A handshake refused
        outright reaches a browser as a bare 1006; the code tells the console
        not to reconnect (and to go to the login page)."""
        await self.close(code=code)

    async def start_from(self, hello: dict):
        """Send a fresh state (``hello`` or ``reload``) and start from it."""
        self.cursor = self.floor = hello["cursor"]
        self.unread = hello["unread"]
        self.buckets = hello.get("buckets")
        await self.send(text_data=json.dumps(hello))

    async def disconnect(self, code):
        layer_watch.unregister(self)
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    # -- from the browser -------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if not self.frame_limit.take():
            await self.send_error(
                "You are sending too fast: wait a moment.", code="rate_limited"
            )
            return
        if bytes_data is not None or text_data is None:
            await self.send_error("Only text frames are accepted.")
            return
        if len(text_data) > MAX_FRAME_BYTES or (
            len(text_data.encode(errors="replace")) > MAX_FRAME_BYTES
        ):
            found = CLIENT_ID_PATTERN.search(text_data)
            await self.send_error(
                f"That message is too large (over {MAX_FRAME_BYTES // 1024} KB).",
                found.group(1) if found else None,
                "too_large",
            )
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):
            # RecursionError: nesting deeper than the decoder goes ([[[[...).
            await self.send_error("That message is not JSON: send a JSON object.")
            return
        client_id = None
        try:
            if not isinstance(data, dict):
                raise ProtocolError("A message must be a JSON object.")
            client_id = data.get("client_id") if isinstance(
                data.get("client_id"), str
            ) else None
            check_text(data)
            kind = data.get("type")
            handler = self.handlers.get(kind) if isinstance(kind, str) else None
            if handler is None:
                raise ProtocolError(f"Unknown message type: {str(kind)[:40]!r}.")
            # Authority is read now, never from what this socket read when it
            # connected: an admin may have changed it since (docs/protocol.md).
            if not await self.reload_agent():
                return
            await handler(self, data)
        except ProtocolError as exc:
            await self.send_error(str(exc), client_id)
        except Exception as exc:
            if not isinstance(exc, actions.ActionError):
                # A bug or an outage: say so, keep the socket, keep the details.
                log.exception("console message %r failed", data.get("type"))
                exc = actions.ActionError(
                    "Something went wrong on the server: try again in a moment.",
                    "server_error",
                )
            await self.send_error(exc.reason, client_id, exc.code, exc.details)

    async def send_error(
        self, reason: str, client_id=None, code="invalid", details=None
    ):
        reply = {"type": "error", "code": code, "reason": reason, "cursor": self.cursor}
        if client_id is not None:
            reply["client_id"] = client_id
        if details:
            reply["details"] = details
        await self.send(text_data=json.dumps(reply))

    async def on_message_send(self, data):
        client_id = required(data, "client_id", str)
        conversation_id = required(data, "conversation", int)
        body = required(data, "body", str)
        category = data.get("category")
        if category is not None and (
            isinstance(category, bool) or not isinstance(category, int)
        ):
            raise ProtocolError("'category' must be an id.")
        schedule = optional_flag(data, "schedule")
        if not self.send_limit.take():
            raise actions.ActionError(
                "You are sending too fast: wait a moment.", "rate_limited"
            )
        message = await database_sync_to_async(self.send_message)(
            conversation_id, body, client_id, category, schedule
        )
        await self.send(
            text_data=json.dumps(
                {
                    "type": "ack",
                    "client_id": client_id,
                    "message": message.id,
                    "status": message.status,
                    "scheduled_for": events.scheduled_for(message),
                    "cursor": self.cursor,
                }
            )
        )

    def send_message(self, conversation_id, body, client_id, category, schedule=False):
        conversation = self.find_conversation(conversation_id)
        return actions.send_message(
            self.agent, conversation, body, client_id, category, schedule=schedule
        )

    async def on_consent_request(self, data):
        """Send the authorization request to the conversation's number."""
        conversation_id = required(data, "conversation", int)
        client_id = data.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            raise ProtocolError("'client_id' must be a string.")
        schedule = optional_flag(data, "schedule")
        if not self.send_limit.take():
            raise actions.ActionError(
                "You are sending too fast: wait a moment.", "rate_limited"
            )

        def request():
            conversation = self.find_conversation(conversation_id)
            return actions.request_authorization(
                self.agent, conversation, client_id=client_id, schedule=schedule
            )

        message = await database_sync_to_async(request)()
        await self.send(
            text_data=json.dumps(
                {
                    "type": "ack",
                    "client_id": client_id,
                    "message": message.id,
                    "status": message.status,
                    "scheduled_for": events.scheduled_for(message),
                    "cursor": self.cursor,
                }
            )
        )

    async def on_consent_confirm_optout(self, data):
        """Confirm that a lead's message revokes consent (one click)."""
        message_id = required(data, "message", int)
        client_id = data.get("client_id")

        def confirm():
            message = Message.objects.filter(
                pk=message_id, organisation_id=self.agent.organisation_id
            ).first()
            if message is None:
                raise actions.ActionError("No such message.", "not_found")
            actions.confirm_optout(self.agent, message)

        await database_sync_to_async(confirm)()
        await self.send(
            text_data=json.dumps(
                {
                    "type": "ack",
                    "client_id": client_id if isinstance(client_id, str) else None,
                    "message": message_id,
                    "consent": "revoked",
                    "cursor": self.cursor,
                }
            )
        )

    async def on_consent_dismiss_optout(self, data):
        """Decide a flagged message is no request to stop texting."""
        message_id = required(data, "message", int)
        client_id = data.get("client_id")

        def dismiss():
            message = Message.objects.filter(
                pk=message_id, organisation_id=self.agent.organisation_id
            ).first()
            if message is None:
                raise actions.ActionError("No such message.", "not_found")
            actions.dismiss_optout(self.agent, message)

        await database_sync_to_async(dismiss)()
        await self.send(
            text_data=json.dumps(
                {
                    "type": "ack",
                    "client_id": client_id if isinstance(client_id, str) else None,
                    "message": message_id,
                    "cursor": self.cursor,
                }
            )
        )

    def find_conversation(self, conversation_id):
        conversation = (
            visible_conversations(self.agent)
            .select_related("lead")
            .filter(pk=conversation_id)
            .first()
        )
        if conversation is None:
            raise actions.ActionError("No such conversation.", "not_found")
        return conversation

    async def on_conversation_read(self, data):
        conversation_id = required(data, "conversation", int)
        message_id = required(data, "message", int)

        def mark():
            conversation = self.find_conversation(conversation_id)
            actions.mark_read(self.agent, conversation, message_id)

        await database_sync_to_async(mark)()

    async def on_resume(self, data):
        cursor = required(data, "cursor", int)
        if cursor < 0:
            raise ProtocolError("'cursor' must be a cursor this server sent.")
        await self.catch_up(cursor, budget=self.resume_limit)

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

    async def catch_up(self, cursor: int, budget: TokenBucket | None = None):
        """Send the events after ``cursor``, then ``resumed``; or a ``reload``
        when they cannot be replayed.

        Every event of the gap is sent, even one this socket already relayed
        live: the browser may have applied a newer event (a "delivered") before
        an older one replayed here (its "sent"), and ends right only if the
        replay, in cursor order, ends with the newest. Events apply twice
        harmlessly.
        """
        replay = await database_sync_to_async(state.missed_events)(self.agent, cursor)
        cost = 1 if replay is None else len(replay.events) / RELOAD_EVENTS
        if budget is not None and not budget.take(cost):
            raise actions.ActionError(
                "Resuming too often: wait a few seconds, then reconnect.",
                "rate_limited",
            )
        if replay is None:
            hello = await database_sync_to_async(state.hello)(self.agent)
            await self.start_from({**hello, "type": "reload"})
            return
        rights = False
        for event in replay.events:
            self.remember(event.cursor)
            rights = rights or event.type in RIGHTS_EVENTS
            payload = event.payload
            if not self.images:
                payload = media.hide_images(payload)
            await self.send(
                text_data=events.serialise(event.type, event.cursor, payload)
            )
        # Everything up to replay.cursor was committed when the replay was read:
        # live copies still on their way are duplicates.
        self.cursor = max(self.cursor, replay.cursor)
        self.floor = max(self.floor, replay.cursor)
        await self.send(
            text_data=json.dumps(
                {
                    "type": "resumed",
                    "cursor": self.cursor,
                    "replayed": len(replay.events),
                }
            )
        )
        if rights:
            # The gap held a change of rights: start again from them.
            await self.apply_rights()
            return
        await self.refresh_unread(always=True)
        await self.refresh_buckets()

    async def on_lead_command(self, data):
        """A change to leads (``chatserver.commands.leads.COMMANDS``), acknowledged
        with its result; everyone concerned hears of it through events."""
        kind = data["type"]
        texts = kind in lead_ops.SENDS_TEXT and data.get("body")
        if texts and not self.send_limit.take():
            raise actions.ActionError(
                "You are sending too fast: wait a moment.", "rate_limited"
            )
        command = lead_ops.COMMANDS[kind]
        result = await database_sync_to_async(command)(self.agent, data)
        reply = {"type": "ack", "of": kind, "result": result, "cursor": self.cursor}
        if isinstance(data.get("client_id"), str):
            reply["client_id"] = data["client_id"]
        await self.send(text_data=json.dumps(reply))

    handlers = {
        "message.send": on_message_send,
        "consent.request": on_consent_request,
        "consent.confirm_optout": on_consent_confirm_optout,
        "consent.dismiss_optout": on_consent_dismiss_optout,
        "conversation.read": on_conversation_read,
        "resume": on_resume,
        # lead.assign, lead.close, note.add, ... (docs/protocol.md)
        **dict.fromkeys(lead_ops.COMMANDS, on_lead_command),
    }

    # -- from the channel layer -------------------------------------------

    async def dispatch(self, message):
        """Hand a channel-layer message to its method; relay an event type
        that has none (a new type needs no code here to reach browsers).

        Unlike Channels' own dispatch, no stale database connection is closed
        first: that costs a hop to a thread for every message of every socket
        (15% of the server's event loop under load, docs/performance.md), and
        every handler here that touches the database goes through
        ``database_sync_to_async``, which closes stale connections itself.
        """
        try:
            handler = getattr(self, get_handler_name(message), None)
        except ValueError:
            handler = None
        if handler is not None:
            await handler(message)
        elif "text" in message and "cursor" in message:
            await self.relay(message)
        else:
            raise ValueError(f"No handler for message type {message.get('type')!r}")

    def remember(self, cursor: int) -> bool:
        """Whether this event is new to the socket (it may reach it twice,
        live and by resume, or through two groups while access changes)."""
        if cursor in self.recent_set:
            return False
        if len(self.recent) == self.recent.maxlen:
            self.recent_set.discard(self.recent[0])
        self.recent.append(cursor)
        self.recent_set.add(cursor)
        return True

    def take(self, event) -> bool:
        """Whether an event is new to the browser; if so, it is the latest."""
        cursor = event["cursor"]
        if cursor is None or cursor <= self.floor or not self.remember(cursor):
            return False
        self.cursor = max(self.cursor, cursor)
        return True

    async def forward(self, event, unread: int | None = None):
        """Send an event's JSON, serialised once by its publisher, on to the
        browser; ``unread`` (the event's conversation's count) adds this
        agent's unread counts as they now are."""
        text = event["text"]
        if not self.images:
            text = event.get("text_no_images", text)
        if unread is not None:
            # The shared text is a JSON object: the counts go in before its
            # closing brace, without parsing or serialising it again.
            total = self.unread["total"]
            text = f'{text[:-1]},"unread":{{"total":{total},"conversation":{unread}}}}}'
        await self.send(text_data=text)

    async def relay(self, event) -> bool:
        """Send an event on to the browser unless it already has it."""
        if not self.take(event):
            return False
        await self.forward(event)
        return True

    async def message_created(self, event):
        """A new message; a lead's carries every agent's unread count of its
        conversation (one event for all), and this socket takes its agent's.
        Changed counts ride in the same frame: one frame per text per socket,
        where a separate ``unread.changed`` made nearly two."""
        if not self.take(event):
            return
        unread = event.get("unread")
        count = None
        if unread is not None:
            count = unread["agents"].get(str(self.agent.id), unread["default"])
            if not self.set_unread(event["conversation"], count):
                count = None
        await self.forward(event, unread=count)

    async def message_status(self, event):
        await self.relay(event)

    async def consent_changed(self, event):
        await self.relay(event)

    async def note_created(self, event):
        await self.relay(event)

    async def lead_created(self, event):
        if await self.relay(event):
            await self.track_buckets(event)

    async def lead_updated(self, event):
        if await self.relay(event):
            await self.track_buckets(event)
            if self.view_changed(event):
                # The lead entered or left this agent's view, and its
                # conversations' unread counts with it.
                await self.refresh_unread()

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
        tally = getattr(self, "buckets", None)
        if tally is not None and buckets.apply(
            self.agent, tally, event.get("before"), event.get("state")
        ):
            await self.send_buckets()

    async def refresh_buckets(self):
        """Recount from the database (after a replay, which skips
        ``track_buckets``); tell the browser if anything changed."""
        fresh = await database_sync_to_async(buckets.counts)(self.agent)
        if fresh != getattr(self, "buckets", None):
            self.buckets = fresh
            await self.send_buckets()

    async def send_buckets(self):
        reply = {"type": events.BUCKETS_CHANGED, "buckets": self.buckets}
        await self.send(text_data=json.dumps({**reply, "cursor": self.cursor}))

    async def unread_conversation(self, event):
        """The agent's count of one conversation changed (they read it)."""
        if self.set_unread(event["conversation"], event["count"]):
            await self.send_unread()

    async def session_ended(self, event):
        """The session this socket logged in with was logged out."""
        if self.session and event.get("session") == self.session:
            await self.close(code=CLOSE_UNAUTHENTICATED)

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

    async def refresh_unread(self, always: bool = False):
        """Recount from the database; tell the browser if anything changed."""
        fresh = await database_sync_to_async(state.unread_counts)(self.agent)
        changed = fresh != self.unread
        self.unread = fresh
        if changed or always:
            await self.send_unread()

    async def send_unread(self):
        await self.send(
            text_data=json.dumps(
                {
                    "type": events.UNREAD_CHANGED,
                    "cursor": self.cursor,
                    "unread": self.unread,
                }
            )
        )

"""The agent console's socket, ``/ws/console/`` (see docs/protocol.md).

Thin: it checks who is connecting, relays the events of the groups it joined
(already serialised by whoever published them), keeps this agent's tallies
current (``consumers.tallies``), replays what a console missed
(``consumers.replays``), and turns client frames (``consumers.frames``)
into commands (``chatserver.commands``), each run with the agent's rights as
they are at that moment, never as they were when the socket connected.

Client messages go to the handler named in ``ConsoleConsumer.handlers``; events
from the channel layer to the method Channels names after their type, and any
event type without a method of its own is simply relayed.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from functools import cached_property

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from chatserver import commands, events, metrics, shapes
from chatserver.commands import fields, messages
from chatserver.models import Agent, Message
from chatserver.queries import access, console, snapshot
from chatserver.rules.errors import ActionError
from consumers import frames, layer_watch
from consumers.auth import load_agent, read_seat, session_tag
from consumers.db import database_sync_to_async
from consumers.lifecycle import Lifecycle
from consumers.presence import Presence
from consumers.replays import Replays
from consumers.tallies import Tallies
from consumers.turns import TakingTurns

log = logging.getLogger(__name__)

# Cursors a socket remembers to drop an event that reaches it twice (through
# two of its groups while a lead changes hands, or live after a resume).
RECENT_CURSORS = 1024

# The client messages that text the lead, and their commands.
TEXT_COMMANDS = {
    "message.send": messages.send,
    "message.resend": messages.resend,
    "consent.request": messages.request_authorization,
}

# Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_AN_AGENT = 4403


class Deactivated(Exception):
    """The agent lost their seat, or was deactivated, since the socket opened."""


class ConsoleConsumer(
    TakingTurns, Lifecycle, Tallies, Presence, Replays, AsyncWebsocketConsumer
):
    """One browser tab of one agent."""

    agent: Agent | None = None
    cursor = 0
    # The cursors of the latest events, made at the first event: most sockets
    # sit idle, and an empty pair costs about 1 KiB (docs/performance.md).
    recent: deque[int] | None = None
    recent_set: set[int] | None = None
    # Events up to this cursor are in the state the socket started from (its
    # hello) or were replayed: live copies of them are dropped.
    floor = 0

    async def greet(self) -> bool:
        """After the handshake (``Lifecycle.connect``): the login, the hello."""
        user, self.agent = await database_sync_to_async(read_seat)(self.scope)
        if not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return False
        if self.agent is None:
            await self.refuse(CLOSE_NOT_AN_AGENT)
            return False
        session = self.scope.get("session")
        self.session = session_tag(session.session_key if session else None)
        # Whether this agent is shown images (their URLs in events); read again
        # with the rights, and the image view checks on every fetch.
        self.images = access.may_see_images(self.agent)
        # Join before reading the state, so no event falls between the two.
        self.joined = events.groups_for_agent(self.agent)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.start_presence()
        await self.start_from(await database_sync_to_async(console.hello)(self.agent))
        layer_watch.register(self)
        return True

    async def refuse(self, code: int):
        """Close with ``code`` straight after the handshake. A handshake refused
        outright reaches a browser as a bare 1006; the code tells the console
        not to reconnect (and to go to the login page)."""
        await self.close(code=code)

    async def start_from(self, hello: dict):
        """Send a fresh state (``hello`` or ``reload``) and start from it."""
        self.cursor = self.floor = hello["cursor"]
        self.start_tallies(hello)
        await self.send(text_data=snapshot.dumps(hello))

    async def disconnect(self, code):
        self.forget_socket()
        layer_watch.unregister(self)
        await self.leave_everywhere()
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    # -- rights, read when they matter ------------------------------------

    def current_agent(self) -> Agent:
        """The agent's rights and plan as they are now (in a database thread):
        Deactivated when they no longer have a seat."""
        agent = load_agent(self.agent.user_id)
        if agent is None:
            raise Deactivated()
        self.agent = agent
        self.images = access.may_see_images(agent)
        return agent

    async def run(self, command, data):
        """Run a command (``chatserver.commands``) for the agent as they are
        now, in one trip to a database thread."""
        return await database_sync_to_async(
            lambda: command(self.current_agent(), data)
        )()

    async def rights_changed(self, event):
        """The agent's rights or their organisation's plan changed
        (``agent.updated``, ``organisation.updated``): re-read them, join the
        groups they now call for, and send the console a fresh state."""
        if self.take(event):
            await self.apply_rights()

    agent_updated = rights_changed
    organisation_updated = rights_changed

    async def apply_rights(self):
        try:
            hello = await self.run(lambda agent, _: console.hello(agent), None)
        except Deactivated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        wanted = events.groups_for_agent(self.agent)
        for group in set(self.joined) - set(wanted):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(wanted) - set(self.joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = wanted
        await self.start_from({**hello, "type": "reload"})

    # -- from the browser -------------------------------------------------

    @cached_property
    def limits(self) -> frames.Limits:
        """The socket's allowances, made at its first frame (an idle socket
        needs none; each starts full, as it would have at the handshake)."""
        return frames.Limits()

    async def receive(self, text_data=None, bytes_data=None):
        if not self.limits.frames.take():
            await self.send_error(frames.TOO_FAST, code="rate_limited")
            return
        client_id = None
        try:
            data = frames.read(text_data, bytes_data)
            client_id = data.get("client_id")
            client_id = client_id if isinstance(client_id, str) else None
            kind = data.get("type")
            handler = self.handlers.get(kind) if isinstance(kind, str) else None
            if handler is None:
                raise ActionError(f"Unknown message type: {str(kind)[:40]!r}.", "invalid")
            await handler(self, data)
        except Deactivated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
        except frames.FrameError as exc:
            await self.send_error(exc.reason, exc.client_id, exc.code)
        except ActionError as exc:
            await self.send_error(exc.reason, client_id, exc.code, exc.details)
        except Exception:
            # A bug or an outage: say so, keep the socket, keep the details.
            log.exception("console message failed")
            await self.send_error(
                "Something went wrong on the server: try again in a moment.",
                client_id,
                "server_error",
            )

    async def send_error(self, reason: str, client_id=None, code="invalid", details=None):
        reply = {"type": "error", "code": code, "reason": reason, "cursor": self.cursor}
        if client_id is not None:
            reply["client_id"] = client_id
        if details:
            reply["details"] = details
        await self.send(text_data=json.dumps(reply))

    async def ack(self, client_id, **fields):
        """Answer a client message that was done (docs/protocol.md, ``ack``)."""
        reply = {"type": "ack", "client_id": client_id, **fields, "cursor": self.cursor}
        if reply["client_id"] is None and "of" in fields:
            del reply["client_id"]
        await self.send(text_data=json.dumps(reply))

    async def on_text(self, data):
        """``message.send``, ``message.resend`` and ``consent.request``: a
        text to the lead."""
        if data["type"] != "consent.request":
            # The console sends an unanswered text again with it: never twice.
            fields.required(data, "client_id", str)
        self.limits.send()
        message = await self.run(TEXT_COMMANDS[data["type"]], data)
        resent = {"resend_of": message.resend_of_id} if message.resend_of_id else {}
        if message.status == Message.Status.SCHEDULED:
            resent["cancel_on_reply"] = message.cancel_on_reply
        await self.ack(
            messages.client_id_of(data),
            message=message.id,
            status=message.status,
            scheduled_for=shapes.scheduled_for(message),
            **resent,
        )

    async def on_optout(self, data):
        """``consent.confirm_optout`` and ``consent.dismiss_optout``."""
        confirm = data["type"] == "consent.confirm_optout"
        await self.run(messages.confirm_optout if confirm else messages.dismiss_optout, data)
        result = {"consent": "revoked"} if confirm else {}
        client_id = data.get("client_id")
        await self.ack(
            client_id if isinstance(client_id, str) else None,
            message=data["message"],
            **result,
        )

    async def on_conversation_read(self, data):
        await self.run(messages.read, data)

    async def on_lead_command(self, data):
        """A change to leads (``chatserver.commands.LEAD_COMMANDS``),
        acknowledged with its result; everyone concerned hears of it
        through events."""
        kind = data["type"]
        if kind in commands.SENDS_TEXT and data.get("body"):
            self.limits.send()
        result = await self.run(commands.LEAD_COMMANDS[kind], data)
        client_id = data.get("client_id")
        await self.ack(
            client_id if isinstance(client_id, str) else None, of=kind, result=result
        )

    handlers = {
        "message.send": on_text,
        "message.resend": on_text,
        "consent.request": on_text,
        "consent.confirm_optout": on_optout,
        "consent.dismiss_optout": on_optout,
        "conversation.read": on_conversation_read,
        "resume": Replays.on_resume,
        "presence": Presence.on_presence,
        # lead.assign, lead.close, note.add, ... (docs/protocol.md)
        **dict.fromkeys(commands.LEAD_COMMANDS, on_lead_command),
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
        if self.recent is None:
            self.recent, self.recent_set = deque(maxlen=RECENT_CURSORS), set()
        elif cursor in self.recent_set:
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
        if "arrived" in event:  # a lead's text or a status, by webhook
            metrics.webhook_reached_socket(event["type"], event["cursor"], event["arrived"])

    async def relay(self, event) -> bool:
        """Send an event on to the browser unless it already has it."""
        if not self.take(event):
            return False
        await self.forward(event)
        return True

    async def message_created(self, event):
        """A new message; a lead's carries this agent's unread counts in the
        same frame: one frame per text per socket, where a separate
        ``unread.changed`` made nearly two."""
        if self.take(event):
            await self.forward(event, unread=self.take_unread_of(event))

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

    async def templates_changed(self, event):
        """An admin changed the saved replies: the console re-reads them."""
        await self.send(text_data=json.dumps({"type": "templates.changed"}))

    async def session_ended(self, event):
        """The session this socket logged in with was logged out."""
        if self.session and event.get("session") == self.session:
            await self.close(code=CLOSE_UNAUTHENTICATED)

"""The agent console's socket, ``/ws/console/`` (see docs/protocol.md).

Thin: it checks who is connecting, relays the events of the groups it joined
(already serialised by whoever published them), keeps this agent's unread
counts current, and turns client messages into calls to ``chatserver.actions``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from chatserver import actions, events, state
from chatserver.access import can_see_lead, visible_conversations
from chatserver.models import Agent, Lead

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024
# Sends allowed per socket: a burst of this many, refilled at this rate.
SEND_BURST = 10
SEND_RATE_PER_SECOND = 1.0
RECENT_CURSORS = 512

# Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_AN_AGENT = 4403
CLOSE_TOO_LARGE = 4413


class ProtocolError(Exception):
    """A client message that does not follow the protocol."""


def required(data: dict, name: str, kind: type | tuple[type, ...]):
    """A field of a client message, of the right type, or ProtocolError."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ProtocolError(f"'{name}' is missing or of the wrong type.")
    return value


@database_sync_to_async
def load_agent(user) -> Agent | None:
    return (
        Agent.objects.select_related("organisation", "user")
        .filter(user=user, user__is_active=True)
        .first()
    )


class TokenBucket:
    """A per-socket rate limit."""

    def __init__(self, burst: int, rate: float):
        self.capacity = burst
        self.tokens = float(burst)
        self.rate = rate
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class ConsoleConsumer(AsyncWebsocketConsumer):
    """One browser tab of one agent."""

    agent: Agent | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.agent = await load_agent(user)
        if self.agent is None:
            await self.close(code=CLOSE_NOT_AN_AGENT)
            return
        self.joined = events.groups_for_agent(self.agent)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.recent = deque(maxlen=RECENT_CURSORS)
        self.recent_set: set[int] = set()
        self.send_limit = TokenBucket(SEND_BURST, SEND_RATE_PER_SECOND)
        await self.accept()
        hello = await database_sync_to_async(state.hello)(self.agent)
        self.cursor = hello["cursor"]
        self.unread = hello["unread"]
        await self.send(text_data=json.dumps(hello))

    async def disconnect(self, code):
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    # -- from the browser -------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None or text_data is None:
            await self.send_error("Only text frames are accepted.")
            return
        if len(text_data) > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_LARGE)
            return
        client_id = None
        try:
            data = json.loads(text_data)
            if not isinstance(data, dict):
                raise ProtocolError("A message must be a JSON object.")
            client_id = data.get("client_id") if isinstance(
                data.get("client_id"), str
            ) else None
            kind = data.get("type")
            handler = self.handlers.get(kind) if isinstance(kind, str) else None
            if handler is None:
                raise ProtocolError(f"Unknown message type: {str(kind)[:40]!r}.")
            await handler(self, data)
        except (ValueError, ProtocolError) as exc:
            await self.send_error(str(exc) or "Malformed message.", client_id)
        except actions.ActionError as exc:
            await self.send_error(exc.reason, client_id, exc.code)

    async def send_error(self, reason: str, client_id=None, code="invalid"):
        reply = {"type": "error", "code": code, "reason": reason, "cursor": self.cursor}
        if client_id is not None:
            reply["client_id"] = client_id
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
        if not self.send_limit.take():
            raise actions.ActionError(
                "You are sending too fast: wait a moment.", "rate_limited"
            )
        message = await database_sync_to_async(self.send_message)(
            conversation_id, body, client_id, category
        )
        await self.send(
            text_data=json.dumps(
                {
                    "type": "ack",
                    "client_id": client_id,
                    "message": message.id,
                    "status": message.status,
                    "cursor": self.cursor,
                }
            )
        )

    def send_message(self, conversation_id, body, client_id, category):
        conversation = self.find_conversation(conversation_id)
        return actions.send_message(self.agent, conversation, body, client_id, category)

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
        missed = await database_sync_to_async(state.missed_events)(self.agent, cursor)
        if missed is None:
            hello = await database_sync_to_async(state.hello)(self.agent)
            self.cursor = hello["cursor"]
            self.unread = hello["unread"]
            await self.send(text_data=json.dumps({**hello, "type": "reload"}))
            return
        for event in missed:
            self.remember(event["cursor"])
            self.cursor = max(self.cursor, event["cursor"])
            await self.send(text_data=json.dumps(event))
        await self.send(
            text_data=json.dumps({"type": "resumed", "cursor": self.cursor, "replayed": len(missed)})
        )
        await self.refresh_unread()

    async def on_lead_assign(self, data):
        lead_id = required(data, "lead", int)
        agent_id = data.get("agent")
        if agent_id is not None and (
            isinstance(agent_id, bool) or not isinstance(agent_id, int)
        ):
            raise ProtocolError("'agent' must be an agent id or null.")

        def assign():
            lead = Lead.objects.filter(
                pk=lead_id, organisation_id=self.agent.organisation_id
            ).first()
            if lead is None or not can_see_lead(self.agent, lead):
                raise actions.ActionError("No such lead.", "not_found")
            if self.agent.is_external:
                raise actions.ActionError("This lead is shared with you read-only.")
            target = None
            if agent_id is not None:
                target = Agent.objects.filter(
                    pk=agent_id, organisation_id=self.agent.organisation_id
                ).first()
                if target is None:
                    raise actions.ActionError("No such agent.", "not_found")
            actions.assign_lead(lead, target, actor=self.agent)

        await database_sync_to_async(assign)()

    handlers = {
        "message.send": on_message_send,
        "conversation.read": on_conversation_read,
        "resume": on_resume,
        "lead.assign": on_lead_assign,
    }

    # -- from the channel layer -------------------------------------------

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

    async def relay(self, event) -> bool:
        if not self.remember(event["cursor"]):
            return False
        self.cursor = max(self.cursor, event["cursor"])
        await self.send(text_data=event["text"])
        return True

    async def message_created(self, event):
        if await self.relay(event) and event.get("direction") == "in":
            conversation = str(event["conversation"])
            counts = self.unread["conversations"]
            counts[conversation] = counts.get(conversation, 0) + 1
            self.unread["total"] += 1
            await self.send_unread()

    async def message_status(self, event):
        await self.relay(event)

    async def consent_changed(self, event):
        await self.relay(event)

    async def note_created(self, event):
        await self.relay(event)

    async def lead_created(self, event):
        await self.relay(event)

    async def lead_updated(self, event):
        if await self.relay(event):
            # The lead may have entered or left this agent's view.
            await self.refresh_unread()

    async def unread_refresh(self, event):
        await self.refresh_unread()

    async def refresh_unread(self):
        self.unread = await database_sync_to_async(state.unread_counts)(self.agent)
        await self.send_unread()

    async def send_unread(self):
        await self.send(
            text_data=json.dumps(
                {"type": events.UNREAD_CHANGED, "cursor": self.cursor, "unread": self.unread}
            )
        )

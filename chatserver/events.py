"""Event names, their shapes, and the channel-layer groups they go to.

Every event a console receives is a JSON object whose ``type`` is one of
``EVENT_TYPES`` and which carries a ``cursor`` (see docs/protocol.md). On the
channel layer the same event travels as ``{"type": <event type>, "text": <the
JSON, serialised once by ``serialise``>, "cursor": ..., "lead": ..., ...}``
(``chatserver.publish.layer_message``); Channels maps the type to the
consumer's handler (``message.created`` -> ``message_created``).

Groups are chosen so that one event costs a few channel-layer sends whatever
the number of agents: each internal agent's socket joins the group of its
access level and its own agent group; an event about a lead goes to the
access-level groups that see the lead plus the agent groups of those who see
it only personally (an assignee whose access is "mine" or "unassigned", a
read-only share). A socket can still get one event through both of its groups
(when a lead changes hands, the event goes to those who saw it before too); it
drops the second copy by cursor.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict

from django.core.serializers.json import DjangoJSONEncoder

if TYPE_CHECKING:
    from chatserver.models import Agent, Lead, Message

MESSAGE_CREATED = "message.created"
MESSAGE_STATUS = "message.status"
# A stored message changed otherwise (its images were fetched or refused).
MESSAGE_UPDATED = "message.updated"
UNREAD_CHANGED = "unread.changed"
LEAD_CREATED = "lead.created"
LEAD_UPDATED = "lead.updated"
CONSENT_CHANGED = "consent.changed"
NOTE_CREATED = "note.created"
CONVERSATION_UPDATED = "conversation.updated"
# Sent by each socket itself (like unread.changed): this agent's bucket counts.
BUCKETS_CHANGED = "buckets.changed"
# What an agent may see or do changed (their access, SMS permission, groups,
# active flag, images), or their organisation's plan: their sockets re-read
# it, re-join their groups and send the console a fresh state (``reload``).
AGENT_UPDATED = "agent.updated"
ORGANISATION_UPDATED = "organisation.updated"

EVENT_TYPES = (
    MESSAGE_CREATED,
    MESSAGE_STATUS,
    MESSAGE_UPDATED,
    UNREAD_CHANGED,
    LEAD_CREATED,
    LEAD_UPDATED,
    CONSENT_CHANGED,
    NOTE_CREATED,
    CONVERSATION_UPDATED,
    BUCKETS_CHANGED,
    AGENT_UPDATED,
    ORGANISATION_UPDATED,
)

# Access levels whose group receives events about leads with an assignee, and
# about leads without one. An agent with access "mine" sees only their own
# leads, which reach them through their agent group.
SEES_ASSIGNED = ("all", "assigned")
SEES_UNASSIGNED = ("all", "unassigned")


def serialise(event_type: str, cursor: int | None, payload: dict) -> str:
    """An event as the JSON text browsers receive, live or on resume alike."""
    fields = {k: v for k, v in payload.items() if k not in ("type", "cursor")}
    return json.dumps(
        {"type": event_type, "cursor": cursor, **fields}, cls=DjangoJSONEncoder
    )


def access_group(organisation_id: int, access: str) -> str:
    """The group of every socket of an organisation's agents with one access."""
    return f"org.{organisation_id}.{access}"


def agent_group(agent_id: int) -> str:
    """The group of every socket of one agent (all their tabs and devices)."""
    return f"agent.{agent_id}"


def organisation_group(organisation_id: int) -> str:
    """The group of every socket of an organisation (its plan changed)."""
    return f"org.{organisation_id}"


def groups_for_agent(agent: Agent) -> list[str]:
    """The groups an agent's socket joins."""
    groups = [agent_group(agent.id), organisation_group(agent.organisation_id)]
    if not agent.is_external and agent.access != "mine":
        groups.append(access_group(agent.organisation_id, agent.access))
    return groups


def sees_through_access_group(agent: Agent, lead: Lead) -> bool:
    """Whether the agent's access-level group already carries this lead's events."""
    if agent.is_external:
        return False
    levels = SEES_ASSIGNED if lead.assignee_id else SEES_UNASSIGNED
    return agent.access in levels


class Audience(TypedDict):
    """Who may see a lead: every internal agent whose access level is in
    ``access``, plus the agents in ``agents`` (an assignee whose access does not
    show the lead by itself, a read-only share). Events about leads carry it so
    consoles (and sockets, for bucket counts) know who sees what."""

    access: list[str]
    agents: list[int]


def audience_for_lead(lead: Lead) -> Audience:
    """Who may see the lead now (one query: its assignee and shares)."""
    from django.db.models import Q

    from chatserver import models

    levels = SEES_ASSIGNED if lead.assignee_id else SEES_UNASSIGNED
    shares = models.Lead.shared_with.through.objects.filter(lead_id=lead.id)
    personal = Q(id__in=shares.values("agent_id"))
    if lead.assignee_id:
        personal |= Q(id=lead.assignee_id)
    rows = models.Agent.objects.filter(personal).values_list(
        "id", "access", "is_external"
    )
    agents = sorted(
        agent_id
        for agent_id, access, external in rows
        if external or access not in levels
    )
    return {"access": list(levels), "agents": agents}


def in_audience(agent: Agent, audience: Audience | None) -> bool:
    """Whether the agent is among those an audience names."""
    if not audience:
        return False
    if not agent.is_external and agent.access in audience["access"]:
        return True
    return agent.id in audience["agents"]


def groups_for_audience(organisation_id: int, audience: Audience) -> set[str]:
    """The groups that reach an audience, each of its agents once."""
    return {access_group(organisation_id, level) for level in audience["access"]} | {
        agent_group(agent_id) for agent_id in audience["agents"]
    }


def groups_for_lead(lead: Lead) -> set[str]:
    """The groups that reach every agent who may see the lead, each once."""
    return groups_for_audience(lead.organisation_id, audience_for_lead(lead))


class AttachmentData(TypedDict):
    """An image on an MMS. ``status``: pending (being fetched from the
    carrier), accepted, or rejected (``reason`` says why). ``url`` and
    ``download_url`` only for accepted ones, and only for agents who may see
    images (``chatserver.rules.images.for_agent``)."""

    id: int
    status: Literal["pending", "accepted", "rejected"]
    content_type: str
    size: int
    reason: str
    url: NotRequired[str]
    download_url: NotRequired[str]


class MessageData(TypedDict):
    id: int
    conversation: int
    lead: int
    direction: Literal["in", "out"]
    kind: str
    body: str
    status: str
    author: int | None
    author_name: str
    created_at: str
    encoding: str
    segments: int
    error_code: str
    error_reason: str
    possible_optout: bool
    # When a scheduled message (quiet hours) is to go; None otherwise.
    scheduled_for: str | None
    # The images of an MMS (encoding "MMS"); empty for a plain SMS.
    attachments: list[AttachmentData]
    client_id: NotRequired[str | None]


def scheduled_for(message: Message) -> str | None:
    """When a scheduled message is to go (ISO 8601), None for any other."""
    if message.status == "scheduled" and message.send_after:
        return message.send_after.isoformat()
    return None


def message_data(message: Message) -> MessageData:
    """A message as consoles see it."""
    return {
        "id": message.id,
        "conversation": message.conversation_id,
        "lead": message.conversation.lead_id,
        "direction": message.direction,
        "kind": message.kind,
        "body": message.body,
        "status": message.status,
        "author": message.author_id,
        "author_name": message.author.name if message.author_id else "",
        "created_at": message.created_at.isoformat(),
        "encoding": message.encoding,
        "segments": message.segments,
        "error_code": message.error_code,
        "error_reason": message.error_reason,
        "possible_optout": message.possible_optout,
        "scheduled_for": scheduled_for(message),
        "attachments": attachments_data(message),
        "client_id": str(message.client_id) if message.client_id else None,
    }


def attachments_data(message: Message) -> list[AttachmentData]:
    """The images of a message as consoles see them (with their URLs: see
    ``chatserver.rules.images.for_agent`` for agents who may not see images)."""
    from chatserver.rules import images as media

    # Only an MMS has any: a plain SMS costs no query (nor does a message
    # whose attachments were prefetched).
    if message.encoding != media.MMS_ENCODING:
        return []
    items: list[AttachmentData] = []
    for attachment in sorted(message.attachments.all(), key=lambda a: a.id):
        item: AttachmentData = {
            "id": attachment.id,
            "status": attachment.status,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "reason": attachment.reason,
        }
        if attachment.status == "accepted":
            item["url"] = media.attachment_path(attachment.id)
            item["download_url"] = media.attachment_path(attachment.id, download=True)
        items.append(item)
    return items


class UnreadOfMessage(TypedDict):
    """This agent's unread total, and the message's conversation's count."""

    total: int
    conversation: int


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    cursor: int
    lead: int
    conversation: int
    message: MessageData
    # Added by each socket when the message changed its agent's unread counts
    # (a lead's text): the counts after it, so one frame carries both.
    unread: NotRequired[UnreadOfMessage]


class ConsentChanged(TypedDict):
    """A number's consent changed (one event per lead that has the number)."""

    type: Literal["consent.changed"]
    cursor: int
    lead: int
    number: str
    state: Literal["not_authorized", "pending", "authorized", "revoked"]
    previous: str
    reason: str  # the audit reason: "lead texted STOP", "lead texted first", ...
    by: int | None  # the agent who made the change, if one did
    message: int | None  # the message that caused it
    notice: str | None  # why the composer is disabled now; None when authorized


class MessageUpdated(TypedDict):
    """A message changed other than by status: its images were fetched (or
    refused). Carries the whole message, as ``message.created`` does."""

    type: Literal["message.updated"]
    cursor: int
    lead: int
    conversation: int
    message: MessageData


class MessageStatus(TypedDict):
    type: Literal["message.status"]
    cursor: int
    lead: int
    conversation: int
    message: int
    status: str
    error_code: str
    error_reason: str


class UnreadCounts(TypedDict):
    total: int
    conversations: dict[str, int]


class UnreadChanged(TypedDict):
    type: Literal["unread.changed"]
    cursor: int
    unread: UnreadCounts

"""Event names, their shapes, and the channel-layer groups they go to.

Every event a console receives is a JSON object whose ``type`` is one of
``EVENT_TYPES`` and which carries a ``cursor`` (see docs/protocol.md). On the
channel layer the same event travels as ``{"type": <event type>, "text": <the
JSON, serialised once>, "cursor": ..., "lead": ..., ...}``; Channels maps the
type to the consumer's handler (``message.created`` -> ``message_created``).

Groups are chosen so that one event costs a few channel-layer sends whatever
the number of agents, and no socket is in two groups that get the same event:
each internal agent's socket joins the group of its access level and its own
agent group; an event about a lead goes to the access-level groups that see
the lead plus the agent groups of those who see it only personally (an
assignee whose access is "mine" or "unassigned", a read-only share).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict

if TYPE_CHECKING:
    from chatserver.models import Agent, Lead, Message

MESSAGE_CREATED = "message.created"
MESSAGE_STATUS = "message.status"
UNREAD_CHANGED = "unread.changed"
LEAD_CREATED = "lead.created"
LEAD_UPDATED = "lead.updated"
CONSENT_CHANGED = "consent.changed"
NOTE_CREATED = "note.created"

EVENT_TYPES = (
    MESSAGE_CREATED,
    MESSAGE_STATUS,
    UNREAD_CHANGED,
    LEAD_CREATED,
    LEAD_UPDATED,
    CONSENT_CHANGED,
    NOTE_CREATED,
)

# Access levels whose group receives events about leads with an assignee, and
# about leads without one. An agent with access "mine" sees only their own
# leads, which reach them through their agent group.
SEES_ASSIGNED = ("all", "assigned")
SEES_UNASSIGNED = ("all", "unassigned")


def access_group(organisation_id: int, access: str) -> str:
    """The group of every socket of an organisation's agents with one access."""
    return f"org.{organisation_id}.{access}"


def agent_group(agent_id: int) -> str:
    """The group of every socket of one agent (all their tabs and devices)."""
    return f"agent.{agent_id}"


def groups_for_agent(agent: Agent) -> list[str]:
    """The groups an agent's socket joins."""
    groups = [agent_group(agent.id)]
    if not agent.is_external and agent.access != "mine":
        groups.append(access_group(agent.organisation_id, agent.access))
    return groups


def sees_through_access_group(agent: Agent, lead: Lead) -> bool:
    """Whether the agent's access-level group already carries this lead's events."""
    if agent.is_external:
        return False
    levels = SEES_ASSIGNED if lead.assignee_id else SEES_UNASSIGNED
    return agent.access in levels


def groups_for_lead(lead: Lead) -> set[str]:
    """The groups that reach every agent who may see the lead, each once."""
    org = lead.organisation_id
    levels = SEES_ASSIGNED if lead.assignee_id else SEES_UNASSIGNED
    groups = {access_group(org, level) for level in levels}
    personal = list(lead.shared_with.all())
    if lead.assignee_id:
        personal.append(lead.assignee)
    for agent in personal:
        if not sees_through_access_group(agent, lead):
            groups.add(agent_group(agent.id))
    return groups


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
    client_id: NotRequired[str | None]


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
        "client_id": str(message.client_id) if message.client_id else None,
    }


class MessageCreated(TypedDict):
    type: Literal["message.created"]
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

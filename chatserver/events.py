"""Event names, their shapes, and the channel-layer groups they go to.

Every event a console receives is a JSON object whose ``type`` names one of
the typed events below and which carries a ``cursor`` (see docs/protocol.md). On the
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

# No ``from __future__ import annotations``: the TypedDicts below must see
# ``NotRequired`` itself to know which keys ``check`` may not ask for.
import json
from typing import Literal, NotRequired, TypedDict

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from chatserver.models import Agent, Lead
from chatserver.models.prepared import Prepared
from chatserver.shapes import MessageData

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
# A follow-up set, done, snoozed, deleted, or moved to another agent's list.
FOLLOWUP_CREATED = "followup.created"
FOLLOWUP_UPDATED = "followup.updated"
# A lead enrolled in a workflow, or its enrollment stopped.
ENROLLMENT_UPDATED = "enrollment.updated"


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


class Audience(TypedDict):
    """Who may see a lead: every internal agent whose access level is in
    ``access``, plus the agents in ``agents`` (an assignee whose access does not
    show the lead by itself, a read-only share). Events about leads carry it so
    consoles (and sockets, for bucket counts) know who sees what."""

    access: list[str]
    agents: list[int]


def _personal_audience(lead_id, assignee_id=None):
    """The agents a lead's assignee and shares name, with their access."""
    shares = Lead.shared_with.through.objects.filter(lead_id=lead_id)
    personal = Q(id__in=shares.values("agent_id"))
    if assignee_id is not None:
        personal |= Q(id=assignee_id)
    return Agent.objects.filter(personal).values_list("id", "access", "is_external")


# Every event about a lead runs one: compiled once (``Prepared``).
_SHARES = Prepared(_personal_audience, int)
_ASSIGNEE_AND_SHARES = Prepared(_personal_audience, int, int)


def audience_for_lead(lead: Lead) -> Audience:
    """Who may see the lead now (one query: its assignee and shares)."""
    levels = SEES_ASSIGNED if lead.assignee_id else SEES_UNASSIGNED
    if lead.assignee_id:
        rows = _ASSIGNEE_AND_SHARES(lead.id, lead.assignee_id)
    else:
        rows = _SHARES(lead.id)
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


# -- the events, typed: what ``emit`` takes, and what browsers receive ---------
#
# Each published event is one of these dicts, built by its action and checked
# by ``emit`` against its type's shape (``check``): the keys browsers read are
# there, or the action fails at once instead of a console later. ``cursor``
# is added when the event is numbered (``chatserver.publish``).


class UnreadOfMessage(TypedDict):
    """This agent's unread total, and the message's conversation's count."""

    total: int
    conversation: int


class ConversationSummary(TypedDict):
    """A conversation as consoles list it (``queries.console``)."""

    id: int
    lead: int
    lead_name: str
    lead_status: str
    assignee: int | None
    status: str
    contact: int
    contact_number: str
    contact_name: str
    sender_number: str
    last_message_at: str | None
    last_message: MessageData | None
    consent: str
    consent_notice: str | None


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    lead: int
    conversation: int
    message: MessageData
    # Enough to list a conversation the console has not seen yet.
    summary: dict
    # Added by each socket when the message changed its agent's unread counts
    # (a lead's text): the counts after it, so one frame carries both.
    unread: NotRequired[UnreadOfMessage]


class MessageStatus(TypedDict):
    type: Literal["message.status"]
    lead: int
    conversation: int
    message: int
    status: str
    error_code: str
    error_reason: str


class MessageUpdated(TypedDict):
    """A message changed other than by status: its images were fetched (or
    refused), or its possible opt-out flag was resolved. Carries the whole
    message, as ``message.created`` does."""

    type: Literal["message.updated"]
    lead: int
    conversation: int
    message: MessageData


class LeadChanged(TypedDict):
    """``lead.created`` or ``lead.updated``: the lead, who sees it now, its
    conversations as consoles list them, and what changed (``change``, and
    fields of that change: ``by``, ``previous_assignee``, ``reason``, ...)."""

    type: Literal["lead.created", "lead.updated"]
    lead: dict
    audience: Audience
    conversations: list[ConversationSummary]
    change: NotRequired[str]


class ConsentChanged(TypedDict):
    """A number's consent changed (one event per lead that has the number)."""

    type: Literal["consent.changed"]
    lead: int
    number: str
    state: Literal["not_authorized", "pending", "authorized", "revoked"]
    previous: str
    reason: str  # the audit reason: "lead texted STOP", "lead texted first", ...
    by: int | None  # the agent who made the change, if one did
    message: int | None  # the message that caused it
    notice: str | None  # why the composer is disabled now; None when authorized


class NoteCreated(TypedDict):
    type: Literal["note.created"]
    lead: int
    note: dict


class ConversationUpdated(TypedDict):
    type: Literal["conversation.updated"]
    lead: int
    conversation: ConversationSummary
    change: Literal["closed", "reopened"]
    by: int | None


class AgentUpdated(TypedDict):
    """An agent's rights changed: their sockets reload (never relayed)."""

    type: Literal["agent.updated"]
    agent: int


class OrganisationUpdated(TypedDict):
    """An organisation's plan changed: its sockets reload (never relayed)."""

    type: Literal["organisation.updated"]
    organisation: int


class FollowUpChanged(TypedDict):
    """A follow-up (``shapes.followup_data``) and what happened to it
    (``change``: created, done, snoozed, deleted, moved). Goes to everyone
    who sees the lead and to the follow-up's assignees before and after;
    each console lists the ones that are its agent's (or nobody's)."""

    type: Literal["followup.created", "followup.updated"]
    lead: int
    followup: dict
    change: str
    by: int | None


class EnrollmentUpdated(TypedDict):
    """A lead's enrollment in a workflow started or stopped (``change``);
    ``enrollment`` says why it stopped."""

    type: Literal["enrollment.updated"]
    lead: int
    enrollment: dict
    change: Literal["started", "stopped"]


Event = (
    MessageCreated
    | MessageStatus
    | MessageUpdated
    | LeadChanged
    | ConsentChanged
    | NoteCreated
    | ConversationUpdated
    | AgentUpdated
    | OrganisationUpdated
    | FollowUpChanged
    | EnrollmentUpdated
)

# Each published event type and its shape.
SHAPES: dict[str, type] = {
    MESSAGE_CREATED: MessageCreated,
    MESSAGE_STATUS: MessageStatus,
    MESSAGE_UPDATED: MessageUpdated,
    LEAD_CREATED: LeadChanged,
    LEAD_UPDATED: LeadChanged,
    CONSENT_CHANGED: ConsentChanged,
    NOTE_CREATED: NoteCreated,
    CONVERSATION_UPDATED: ConversationUpdated,
    AGENT_UPDATED: AgentUpdated,
    ORGANISATION_UPDATED: OrganisationUpdated,
    FOLLOWUP_CREATED: FollowUpChanged,
    FOLLOWUP_UPDATED: FollowUpChanged,
    ENROLLMENT_UPDATED: EnrollmentUpdated,
}


def check(event: Event) -> None:
    """Refuse (ValueError) an event that lacks a field of its type's shape,
    or whose type is none of ours: a bug, caught where it is made."""
    shape = SHAPES.get(event.get("type"))
    if shape is None:
        raise ValueError(f"not an event type: {event.get('type')!r}")
    missing = shape.__required_keys__ - event.keys()
    if missing:
        raise ValueError(f"{event['type']} event lacks {sorted(missing)}")


# -- frames each socket makes itself (never published) ------------------------


class UnreadCounts(TypedDict):
    total: int
    conversations: dict[str, int]


class UnreadChanged(TypedDict):
    type: Literal["unread.changed"]
    cursor: int
    unread: UnreadCounts


class BucketsChanged(TypedDict):
    type: Literal["buckets.changed"]
    cursor: int
    buckets: dict[str, int]


# Every frame type a console receives about the state (``hello``, ``reload``,
# ``resumed``, ``ack`` and ``error`` aside).
FRAME_TYPES = (*SHAPES, UNREAD_CHANGED, BUCKETS_CHANGED)

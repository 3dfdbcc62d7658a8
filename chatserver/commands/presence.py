"""Who is on a conversation now: an agent viewing it, or typing in it
("Bob is typing…"), so two agents do not answer one lead twice.

Ephemeral: nothing is stored. The socket (``consumers.presence``) relays
what this finds to the groups of those who may see the lead, as they are
now; an agent who may not see the conversation learns nothing, not even
that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatserver import events
from chatserver.commands.fields import Data, conversation_for, required
from chatserver.models import Agent
from chatserver.rules.errors import ActionError

# What an agent may be doing in a conversation; "gone" when they left it.
STATES = ("viewing", "typing", "gone")


@dataclass(frozen=True)
class Presence:
    """An agent's presence on a conversation, and who may learn of it."""

    agent: int
    name: str
    conversation: int
    lead: int
    state: str
    groups: frozenset[str]


def state_of(data: Data) -> str:
    """The presence a client reports: one of ``STATES``, else ActionError."""
    state = required(data, "state", str)
    if state not in STATES:
        raise ActionError(
            "'state' must be " + ", ".join(repr(s) for s in STATES) + ".", "invalid"
        )
    return state


def announce(agent: Agent, data: Data) -> Presence:
    """``{"conversation": id, "state": "viewing" | "typing" | "gone"}``:
    the agent's presence there, for everyone who may see the lead now."""
    state = state_of(data)
    conversation = conversation_for(agent, data, change=False)
    return Presence(
        agent=agent.id,
        name=agent.user.first_name or agent.name,
        conversation=conversation.id,
        lead=conversation.lead_id,
        state=state,
        groups=frozenset(events.groups_for_lead(conversation.lead)),
    )

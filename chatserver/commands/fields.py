"""Reading a client's fields (decoded JSON, from the socket or the JSON API):
each of the right type, and each id found among what the agent may see, or
ActionError: ids of other organisations, or of leads the agent may not see,
are "not found", never data."""

from __future__ import annotations

import datetime
from typing import Any

from chatserver.models import Agent, Conversation, Lead
from chatserver.queries import access
from chatserver.rules.errors import ActionError

Data = dict[str, Any]


def ident(
    data: Data, name: str, *, nullable: bool = False, required: bool = True
) -> int | None:
    """An id field: an integer (or null when ``nullable``), else ActionError.
    Absent: ActionError when ``required``, else None."""
    if name not in data:
        if required:
            raise ActionError(f"'{name}' is missing.", "invalid")
        return None
    value = data.get(name)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ActionError(
            f"'{name}' must be an id" + (" or null." if nullable else "."), "invalid"
        )
    return value


def text(data: Data, name: str) -> str:
    """An optional text field ('' when absent), else ActionError."""
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ActionError(f"'{name}' must be text.", "invalid")
    return value


def lead_for(agent: Agent, data: Data, *, change: bool = True) -> Lead:
    """The lead ``data["lead"]`` names, if the agent may see it (and, with
    ``change``, change it)."""
    lead = access.find_lead(agent, ident(data, "lead"))
    if lead is None:
        raise ActionError("No such lead.", "not_found")
    if change:
        reason = access.may_change_lead(agent, lead)
        if reason:
            raise ActionError(reason, "forbidden")
    return lead


def conversation_for(agent: Agent, data: Data, *, change: bool = True) -> Conversation:
    """The conversation ``data["conversation"]`` names, if the agent may see
    (and, with ``change``, change) its lead."""
    conversation = access.find_conversation(agent, ident(data, "conversation"))
    if conversation is None:
        raise ActionError("No such conversation.", "not_found")
    if change:
        reason = access.may_change_lead(agent, conversation.lead)
        if reason:
            raise ActionError(reason, "forbidden")
    return conversation


def colleague(agent: Agent, agent_id: int | None) -> Agent | None:
    """The agent of the same organisation with this id, or not found."""
    if agent_id is None:
        return None
    other = (
        Agent.objects.select_related("user")
        .filter(pk=agent_id, organisation_id=agent.organisation_id)
        .first()
    )
    if other is None:
        raise ActionError("No such agent.", "not_found")
    return other


# -- operations --------------------------------------------------------------------


def flag(data: Data, name: str) -> bool:
    """An optional true/false field (absent: false), else ActionError."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ActionError(f"'{name}' must be true or false.", "invalid")
    return value


def required(data: Data, name: str, kind: type | tuple[type, ...]):
    """A field that must be there, of the right type, or ActionError."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ActionError(f"'{name}' is missing or of the wrong type.", "invalid")
    return value


def optional_id(data: Data, name: str) -> int | None:
    """An optional id field (absent or null: None), else ActionError."""
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ActionError(f"'{name}' must be an id.", "invalid")
    return value


def moment(data: Data, name: str) -> datetime.datetime:
    """A time field: ISO 8601 with its offset ("2025-03-04T10:00:00-08:00"),
    else ActionError."""
    value = data.get(name)
    if not isinstance(value, str) or len(value) > 40:
        raise ActionError(f"'{name}' is missing or not a time.", "invalid")
    try:
        when = datetime.datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ActionError(
            f"'{name}' must be a time like 2025-03-04T10:00:00Z.", "invalid"
        ) from None
    if when.tzinfo is None:
        raise ActionError(f"'{name}' needs its time zone (Z, or +01:00).", "invalid")
    return when

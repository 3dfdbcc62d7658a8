"""What an agent does to leads, from the console's socket or the JSON API alike.

Each operation takes the agent and the client's fields as decoded from JSON,
checks their types, finds what they name among what the agent may see (ids
of other organisations, or of leads the agent may not see, are "not found",
never data), checks the agent may do it, calls ``chatserver.actions``, and
returns a JSON-ready result. Refusals are ``ActionError``s with a reason fit
to show the agent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatserver.queries import access, numbers as routing
from chatserver import actions, events
from chatserver.actions import ActionError
from chatserver.actions.leads import UNSET, conversation_data, lead_data
from chatserver.rules.text import check_text, clean_number
from chatserver.actions.notes import note_data
from chatserver.models import Agent, Contact, Conversation, Lead, MessageCategory

Data = dict[str, Any]


# -- reading the client's fields -------------------------------------------------


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


def assign(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "agent": id or null}``: assign, reassign or unassign."""
    lead = lead_for(agent, data)
    target = colleague(agent, ident(data, "agent", nullable=True))
    lead = actions.assign_lead(lead, target, actor=agent)
    return {"lead": lead_data(lead)}


def close(agent: Agent, data: Data) -> Data:
    """``{"lead": id}``: close the lead (an engagement closed)."""
    return {"lead": lead_data(actions.close_lead(lead_for(agent, data), agent))}


def reopen(agent: Agent, data: Data) -> Data:
    """``{"lead": id}``: reopen a closed lead."""
    return {"lead": lead_data(actions.reopen_lead(lead_for(agent, data), agent))}


def close_conversation(agent: Agent, data: Data) -> Data:
    """``{"conversation": id}``: close one conversation of a lead."""
    conversation = actions.set_conversation_status(
        conversation_for(agent, data), Conversation.Status.CLOSED, agent
    )
    return {"conversation": conversation_data(conversation)}


def reopen_conversation(agent: Agent, data: Data) -> Data:
    """``{"conversation": id}``: reopen one conversation of a lead."""
    conversation = actions.set_conversation_status(
        conversation_for(agent, data), Conversation.Status.OPEN, agent
    )
    return {"conversation": conversation_data(conversation)}


def share(agent: Agent, data: Data, on: bool = True) -> Data:
    """``{"lead": id, "agent": id}``: share the lead read-only with an
    external user (or stop sharing it)."""
    lead = lead_for(agent, data)
    target = colleague(agent, ident(data, "agent"))
    lead = actions.share_lead(lead, target, actor=agent, share=on)
    return {"lead": lead_data(lead)}


def unshare(agent: Agent, data: Data) -> Data:
    return share(agent, data, on=False)


def add_note(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "body": text, "client_id": uuid}``: an internal note."""
    lead = lead_for(agent, data, change=False)
    note = actions.add_note(agent, lead, data.get("body"), data.get("client_id"))
    return {"note": note_data(note)}


def create(agent: Agent, data: Data) -> Data:
    """``{"first_name", "last_name", "number", "name"?, "role"?, "assignee"?,
    "body"?, "category"?, "client_id"?}``: a new lead with a contact and their
    number, texted at once when ``body`` is given."""
    assignee = UNSET
    if "assignee" in data:
        assignee = colleague(agent, ident(data, "assignee", nullable=True))
    body = data.get("body")
    if body is not None and not isinstance(body, str):
        raise ActionError("'body' must be text.", "invalid")
    category = ident(data, "category", nullable=True, required=False)
    if (
        category is not None
        and not (
            MessageCategory.objects.filter(
                pk=category, organisation_id=agent.organisation_id
            )
        ).exists()
    ):
        raise ActionError("No such message category.", "not_found")
    lead, conversation, message, refusal = actions.create_lead_for_agent(
        agent,
        name=text(data, "name"),
        first_name=text(data, "first_name"),
        last_name=text(data, "last_name"),
        number=text(data, "number"),
        role=text(data, "role"),
        assignee=assignee,
        body=body or None,
        client_id=data.get("client_id"),
        category_id=category,
    )
    result: Data = {
        "lead": lead_data(lead),
        "conversation": conversation_data(conversation) if conversation else None,
        "message": events.message_data(message) if message else None,
        "send_error": None,
    }
    if refusal is not None:
        result["send_error"] = {"code": refusal.code, "reason": refusal.reason}
    return result


def add_contact(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "first_name", "last_name", "role"?, "number"?, "kind"?}``."""
    lead = lead_for(agent, data)
    contact = actions.add_contact(
        agent,
        lead,
        first_name=text(data, "first_name"),
        last_name=text(data, "last_name"),
        role=text(data, "role") or Contact.Role.CO_BORROWER,
        number=text(data, "number"),
        kind=text(data, "kind"),
    )
    return {"contact": contact_data(contact)}


def add_number(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "contact": id, "number": "+1...", "kind": "primary" or
    "secondary"}``: another number for a contact of the lead."""
    lead = lead_for(agent, data)
    contact = Contact.objects.filter(
        pk=ident(data, "contact"), organisation_id=agent.organisation_id, leads=lead
    ).first()
    if contact is None:
        raise ActionError("No such contact on this lead.", "not_found")
    actions.add_contact_number(
        agent, lead, contact, text(data, "number"), text(data, "kind") or "secondary"
    )
    return {"contact": contact_data(contact)}


def open_conversation(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "number": "+1..."}``: the thread in which the agent texts
    that number of the lead (made when missing), to send in with
    ``message.send``."""
    lead = lead_for(agent, data, change=False)
    if agent.is_external:
        raise ActionError("This lead is shared with you read-only.", "forbidden")
    number = routing.lead_number(lead, clean_number(text(data, "number")))
    if number is None:
        raise ActionError("No such number on this lead.", "not_found")
    conversation = actions.open_conversation(agent, lead, number)
    return {"conversation": conversation_data(conversation)}


def contact_data(contact: Contact) -> Data:
    """A contact and their numbers, primary first."""
    numbers = sorted(contact.numbers.all(), key=lambda n: (n.kind, n.id))
    return {
        "id": contact.id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "name": contact.name,
        "role": contact.role,
        "numbers": [{"id": n.id, "number": n.number, "kind": n.kind} for n in numbers],
    }


# Socket message types (docs/protocol.md) and what does them.
COMMANDS: dict[str, Callable[[Agent, Data], Data]] = {
    "lead.assign": assign,
    "lead.close": close,
    "lead.reopen": reopen,
    "lead.share": share,
    "lead.unshare": unshare,
    "lead.create": create,
    "lead.add_contact": add_contact,
    "lead.add_number": add_number,
    "lead.open_conversation": open_conversation,
    "conversation.close": close_conversation,
    "conversation.reopen": reopen_conversation,
    "note.add": add_note,
}

# Commands that may text a lead, and so count against a socket's send limit.
SENDS_TEXT = {"lead.create"}

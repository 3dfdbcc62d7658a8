"""What an agent does to leads, from the console's socket or the JSON API alike.

Each operation takes the agent and the client's fields as decoded from JSON,
checks their types, finds what they name among what the agent may see (ids
of other organisations, or of leads the agent may not see, are "not found",
never data), checks the agent may do it, calls ``chatserver.actions``, and
returns a JSON-ready result. Refusals are ``ActionError``s with a reason fit
to show the agent.
"""

from __future__ import annotations

from chatserver import actions, shapes
from chatserver.actions.leads import UNSET
from chatserver.commands.fields import (
    Data,
    colleague,
    conversation_for,
    flag,
    ident,
    lead_for,
    text,
)
from chatserver.models import Agent, Contact, Conversation, Lead, MessageCategory
from chatserver.queries import console, numbers
from chatserver.queries.contacts import contact_data
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_number


def assign(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "agent": id or null}``: assign, reassign or unassign."""
    lead = lead_for(agent, data)
    target = colleague(agent, ident(data, "agent", nullable=True))
    lead = actions.assign_lead(lead, target, actor=agent)
    return {"lead": shapes.lead_data(lead)}


def close(agent: Agent, data: Data) -> Data:
    """``{"lead": id}``: close the lead (an engagement closed)."""
    return {"lead": shapes.lead_data(actions.close_lead(lead_for(agent, data), agent))}


def reopen(agent: Agent, data: Data) -> Data:
    """``{"lead": id}``: reopen a closed lead."""
    return {"lead": shapes.lead_data(actions.reopen_lead(lead_for(agent, data), agent))}


def close_conversation(agent: Agent, data: Data) -> Data:
    """``{"conversation": id}``: close one conversation of a lead."""
    conversation = actions.set_conversation_status(
        conversation_for(agent, data), Conversation.Status.CLOSED, agent
    )
    return {"conversation": console.summary_of(conversation)}


def reopen_conversation(agent: Agent, data: Data) -> Data:
    """``{"conversation": id}``: reopen one conversation of a lead."""
    conversation = actions.set_conversation_status(
        conversation_for(agent, data), Conversation.Status.OPEN, agent
    )
    return {"conversation": console.summary_of(conversation)}


def share(agent: Agent, data: Data, on: bool = True) -> Data:
    """``{"lead": id, "agent": id}``: share the lead read-only with an
    external user (or stop sharing it)."""
    lead = lead_for(agent, data)
    target = colleague(agent, ident(data, "agent"))
    lead = actions.share_lead(lead, target, actor=agent, share=on)
    return {"lead": shapes.lead_data(lead)}


def unshare(agent: Agent, data: Data) -> Data:
    return share(agent, data, on=False)


def add_note(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "body": text, "client_id": uuid}``: an internal note."""
    lead = lead_for(agent, data, change=False)
    note = actions.add_note(agent, lead, data.get("body"), data.get("client_id"))
    return {"note": shapes.note_data(note)}


def create(agent: Agent, data: Data) -> Data:
    """``{"first_name", "last_name", "number", "name"?, "role"?, "email"?,
    "source"?, "assignee"?, "body"?, "category"?, "client_id"?,
    "allow_duplicate"?}``: a new lead with a contact and their number, texted
    at once when ``body`` is given. A number already on a lead is refused
    (``duplicate``, with the leads the agent may open instead) unless
    ``allow_duplicate``."""
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
        email=text(data, "email"),
        source=text(data, "source"),
        assignee=assignee,
        body=body or None,
        client_id=data.get("client_id"),
        category_id=category,
        allow_duplicate=flag(data, "allow_duplicate"),
    )
    result: Data = {
        "lead": shapes.lead_data(lead),
        "conversation": console.summary_of(conversation) if conversation else None,
        "message": shapes.message_data(message) if message else None,
        "send_error": None,
    }
    if refusal is not None:
        result["send_error"] = {"code": refusal.code, "reason": refusal.reason}
    return result


def add_contact(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "first_name", "last_name", "role"?, "number"?, "kind"?,
    "email"?}``: another person on the lead (a spouse by default)."""
    lead = lead_for(agent, data)
    contact = actions.add_contact(
        agent,
        lead,
        first_name=text(data, "first_name"),
        last_name=text(data, "last_name"),
        role=text(data, "role") or Contact.Role.SPOUSE,
        number=text(data, "number"),
        kind=text(data, "kind"),
        email=text(data, "email"),
    )
    return {"contact": contact_data(contact)}


def contact_for(agent: Agent, lead: Lead, data: Data) -> Contact:
    """The contact ``data["contact"]`` names, if it is on the lead."""
    contact = Contact.objects.filter(
        pk=ident(data, "contact"), organisation_id=agent.organisation_id, leads=lead
    ).first()
    if contact is None:
        raise ActionError("No such contact on this lead.", "not_found")
    return contact


def optional_text(data: Data, name: str) -> str | None:
    """A text field that may be left out (None: leave it as it is)."""
    return text(data, name) if name in data else None


def update_contact(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "contact": id, "first_name"?, "last_name"?, "role"?,
    "email"?}``: rename a contact (name one that texted in), change their
    role or email; fields left out stay as they are."""
    lead = lead_for(agent, data)
    contact = actions.update_contact(
        agent,
        lead,
        contact_for(agent, lead, data),
        first_name=optional_text(data, "first_name"),
        last_name=optional_text(data, "last_name"),
        role=optional_text(data, "role"),
        email=optional_text(data, "email"),
    )
    return {"contact": contact_data(contact)}


def add_number(agent: Agent, data: Data) -> Data:
    """``{"lead": id, "contact": id, "number": "+1...", "kind": "primary" or
    "secondary"}``: another number for a contact of the lead."""
    lead = lead_for(agent, data)
    contact = contact_for(agent, lead, data)
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
    region = numbers.region_of(agent.organisation_id)
    typed = clean_number(text(data, "number"), region)
    number = numbers.lead_number(lead, typed)
    if number is None:
        raise ActionError("No such number on this lead.", "not_found")
    conversation = actions.open_conversation(agent, lead, number)
    return {"conversation": console.summary_of(conversation)}

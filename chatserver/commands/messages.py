"""What an agent does with texts, from the console's socket or the JSON API
alike: send one, ask a number to authorize texts, decide a possible opt-out,
record an opt-out the lead asked for by phone,
mark a conversation read. Each reads the client's fields, finds what they
name among what the agent may see, and calls ``chatserver.actions``; the
socket and the API each answer in their own shape."""

from __future__ import annotations

from chatserver import actions
from chatserver.commands.fields import (
    Data,
    conversation_for,
    flag,
    optional_id,
    required,
    text,
)
from chatserver.models import Agent, Message
from chatserver.queries import access
from chatserver.rules.errors import ActionError


def client_id_of(data: Data) -> str | None:
    """The client's id for what it asks (a string), or None."""
    client_id = data.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise ActionError("'client_id' must be a string.", "invalid")
    return client_id


def send(agent: Agent, data: Data) -> Message:
    """``{"conversation": id, "body": text, "client_id"?: uuid, "category"?:
    id, "schedule"?: bool}``: queue a text (its ``client_id`` twice: once)."""
    client_id = client_id_of(data)
    body = required(data, "body", str)
    conversation = conversation_for(agent, data, change=False)
    return actions.send_message(
        agent,
        conversation,
        body,
        client_id,
        optional_id(data, "category"),
        schedule=flag(data, "schedule"),
    )


def resend(agent: Agent, data: Data) -> Message:
    """``{"message": id, "client_id"?: uuid, "schedule"?: bool}``: send a
    failed text again, as a new text (its ``client_id`` twice: once)."""
    client_id = client_id_of(data)
    schedule = flag(data, "schedule")
    failed = lead_message(agent, data)
    if access.find_conversation(agent, failed.conversation_id) is None:
        raise ActionError("No such message.", "not_found")
    return actions.resend_message(agent, failed, client_id, schedule=schedule)


def request_authorization(agent: Agent, data: Data) -> Message:
    """``{"conversation": id, "client_id"?: uuid, "schedule"?: bool}``."""
    client_id = client_id_of(data)
    schedule = flag(data, "schedule")
    conversation = conversation_for(agent, data, change=False)
    return actions.request_authorization(
        agent, conversation, client_id=client_id, schedule=schedule
    )


def lead_message(agent: Agent, data: Data) -> Message:
    """The message ``data["message"]`` names, of the agent's organisation
    (the action checks the agent may act on its lead)."""
    message = Message.objects.filter(
        pk=required(data, "message", int), organisation_id=agent.organisation_id
    ).first()
    if message is None:
        raise ActionError("No such message.", "not_found")
    return message


def confirm_optout(agent: Agent, data: Data) -> bool:
    """``{"message": id}``: the lead's message is an opt-out."""
    return actions.confirm_optout(agent, lead_message(agent, data))


def dismiss_optout(agent: Agent, data: Data) -> None:
    """``{"message": id}``: the lead's message is no opt-out."""
    actions.dismiss_optout(agent, lead_message(agent, data))


def optout_by_phone(agent: Agent, data: Data) -> Data:
    """``{"conversation": id, "note"?: text}``: the lead asked by phone to
    get no more texts on the conversation's number; ``changed`` is false when
    it had opted out already (nothing more happens)."""
    note = text(data, "note")
    conversation = conversation_for(agent, data)
    changed = actions.opt_out_by_phone(agent, conversation, note)
    return {"conversation": conversation.id, "consent": "revoked", "changed": changed}


def read(agent: Agent, data: Data) -> bool:
    """``{"conversation": id, "message": id}``: read up to that message."""
    conversation = conversation_for(agent, data, change=False)
    return actions.mark_read(agent, conversation, required(data, "message", int))

"""What an agent does with texts, from the console's socket or the JSON API
alike: send one (now or later), change or cancel a scheduled one, ask a
number to authorize texts, decide a possible opt-out, record an opt-out the
lead asked for by phone, mark a conversation read. Each reads the client's
fields, finds what they name among what the agent may see, and calls
``chatserver.actions``; the socket and the API each answer in their own
shape."""

from __future__ import annotations

import datetime

from django.utils import timezone

from chatserver import actions, shapes
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
from chatserver.rules.scheduling import parse_send_at


def client_id_of(data: Data) -> str | None:
    """The client's id for what it asks (a string), or None."""
    client_id = data.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise ActionError("'client_id' must be a string.", "invalid")
    return client_id


def send(agent: Agent, data: Data) -> Message:
    """``{"conversation": id, "body": text, "client_id"?: uuid, "category"?:
    id, "schedule"?: bool, "send_at"?: ISO 8601, "cancel_on_reply"?: bool}``:
    queue a text, or schedule it for ``send_at`` ("Send later"; cancelled if
    the lead texts first unless ``cancel_on_reply`` is false). Its
    ``client_id`` twice: once."""
    client_id = client_id_of(data)
    body = required(data, "body", str)
    send_at = send_at_of(data)
    cancel = flag_or_none(data, "cancel_on_reply")
    conversation = conversation_for(agent, data, change=False)
    return actions.send_message(
        agent,
        conversation,
        body,
        client_id,
        optional_id(data, "category"),
        schedule=flag(data, "schedule"),
        send_at=send_at,
        cancel_on_reply=True if cancel is None else cancel,
    )


def send_at_of(data: Data) -> datetime.datetime | None:
    """The ``send_at`` field as an instant to come (absent or null: None)."""
    value = data.get("send_at")
    if value is None:
        return None
    return parse_send_at(value, timezone.now())


def flag_or_none(data: Data, name: str) -> bool | None:
    """An optional true/false field; None when absent."""
    return flag(data, name) if data.get(name) is not None else None


def scheduled_message(agent: Agent, data: Data) -> Message:
    """The message ``data["message"]`` names, of a conversation the agent
    may see (the action checks they may text its lead now)."""
    message = lead_message(agent, data)
    if access.find_conversation(agent, message.conversation_id) is None:
        raise ActionError("No such message.", "not_found")
    return message


def reschedule(agent: Agent, data: Data) -> Data:
    """``{"message": id, "body"?: text, "send_at"?: ISO 8601,
    "cancel_on_reply"?: bool}``: change a scheduled text before it goes."""
    message = scheduled_message(agent, data)
    body = data.get("body")
    if body is not None and not isinstance(body, str):
        raise ActionError("'body' must be text.", "invalid")
    send_at = send_at_of(data)
    cancel = flag_or_none(data, "cancel_on_reply")
    if body is None and send_at is None and cancel is None:
        raise ActionError(
            "Say what to change: 'body', 'send_at' or 'cancel_on_reply'.", "invalid"
        )
    message = actions.reschedule_message(
        agent,
        message,
        body=body,
        send_at=send_at,
        cancel_on_reply=cancel,
    )
    return {"message": access.images_for(agent, shapes.message_data(message))}


def cancel(agent: Agent, data: Data) -> Data:
    """``{"message": id}``: cancel a scheduled text before it goes."""
    message = actions.cancel_scheduled(agent, scheduled_message(agent, data))
    return {"message": access.images_for(agent, shapes.message_data(message))}


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

"""Every write to the domain, and the events it publishes (on commit).

Views, webhooks and consumers parse, check access, call one of these, and
answer. Nothing else writes domain rows.
"""

from chatserver.actions import webhooks as inbox
from chatserver.actions.agents import set_agent, set_organisation_limit
from chatserver.actions.consent import (
    confirm_optout,
    dismiss_optout,
    request_authorization,
)
from chatserver.actions.errors import ActionError, UnknownRecipient
from chatserver.actions.leads import (
    add_contact,
    add_contact_number,
    assign_lead,
    close_lead,
    conversation_with,
    create_lead,
    create_lead_for_agent,
    open_conversation,
    reopen_lead,
    set_conversation_status,
    share_lead,
)
from chatserver.actions.messages import (
    mark_read,
    receive_inbound,
    record_status,
    send_message,
)
from chatserver.actions.notes import add_note
from chatserver.actions.setup import (
    add_agent,
    add_number,
    add_organisation,
    find_agent,
    resolve_organisation,
)

__all__ = [
    "ActionError",
    "UnknownRecipient",
    "add_agent",
    "add_contact",
    "add_contact_number",
    "add_note",
    "add_number",
    "add_organisation",
    "inbox",
    "assign_lead",
    "close_lead",
    "confirm_optout",
    "dismiss_optout",
    "conversation_with",
    "create_lead",
    "create_lead_for_agent",
    "mark_read",
    "open_conversation",
    "receive_inbound",
    "record_status",
    "reopen_lead",
    "request_authorization",
    "resolve_organisation",
    "send_message",
    "set_conversation_status",
    "share_lead",
    "find_agent",
    "set_agent",
    "set_organisation_limit",
]

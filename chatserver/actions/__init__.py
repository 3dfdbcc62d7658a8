"""Every write to the domain, and the events it publishes (on commit).

Views, webhooks and consumers parse, check access, call one of these, and
answer. Nothing else writes domain rows.
"""

from chatserver.actions.errors import ActionError, UnknownRecipient
from chatserver.actions.leads import (
    assign_lead,
    close_lead,
    conversation_with,
    create_lead,
    reopen_lead,
)
from chatserver.actions.messages import (
    mark_read,
    receive_inbound,
    record_status,
    send_message,
)
from chatserver.actions.setup import (
    add_agent,
    add_number,
    add_organisation,
    resolve_organisation,
)

__all__ = [
    "ActionError",
    "UnknownRecipient",
    "add_agent",
    "add_number",
    "add_organisation",
    "assign_lead",
    "close_lead",
    "conversation_with",
    "create_lead",
    "mark_read",
    "receive_inbound",
    "record_status",
    "reopen_lead",
    "resolve_organisation",
    "send_message",
]

"""Every write to the domain, and the events it publishes (on commit).

Commands (``chatserver.commands``), views, webhooks and the worker parse,
check access, call one of these, and answer. Nothing else writes domain rows.
Each module is one kind of write; this package re-exports the ones callers
outside it use.
"""

from chatserver.actions import webhooks
from chatserver.actions.agents import (
    set_agent,
    set_help_contact,
    set_organisation_limit,
)
from chatserver.actions.assignment import assign_lead, claim_lead, share_lead
from chatserver.actions.closing import close_lead, reopen_lead, set_conversation_status
from chatserver.actions.consent import request_authorization
from chatserver.actions.contacts import (
    add_contact,
    add_contact_number,
    update_contact,
)
from chatserver.actions.delivery import record_status
from chatserver.actions.inbound import receive_inbound
from chatserver.actions.leads import (
    conversation_with,
    create_lead,
    create_lead_for_agent,
    open_conversation,
)
from chatserver.actions.messages import mark_read
from chatserver.actions.notes import add_note
from chatserver.actions.optouts import confirm_optout, dismiss_optout, opt_out_by_phone
from chatserver.actions.scheduled import cancel_scheduled, reschedule_message
from chatserver.actions.sending import resend_message, send_message
from chatserver.actions.setup import (
    add_agent,
    add_number,
    add_organisation,
    find_agent,
    resolve_organisation,
)
from chatserver.rules.errors import ActionError, UnknownRecipient

__all__ = [
    "ActionError",
    "UnknownRecipient",
    "add_agent",
    "add_contact",
    "add_contact_number",
    "add_note",
    "add_number",
    "add_organisation",
    "assign_lead",
    "cancel_scheduled",
    "claim_lead",
    "close_lead",
    "confirm_optout",
    "conversation_with",
    "create_lead",
    "create_lead_for_agent",
    "dismiss_optout",
    "opt_out_by_phone",
    "find_agent",
    "mark_read",
    "open_conversation",
    "receive_inbound",
    "record_status",
    "reopen_lead",
    "reschedule_message",
    "request_authorization",
    "resend_message",
    "resolve_organisation",
    "send_message",
    "set_agent",
    "set_conversation_status",
    "set_help_contact",
    "set_organisation_limit",
    "share_lead",
    "update_contact",
    "webhooks",
]

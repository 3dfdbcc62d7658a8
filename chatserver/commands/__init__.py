"""The commands an agent gives, shared by the console's socket and the JSON
API: each reads the client's fields, finds what they name among what the
agent may see, and calls one action. Transports answer in their own shapes.

``LEAD_COMMANDS`` maps the socket's lead message types to theirs
(docs/protocol.md); the text commands are ``chatserver.commands.messages``.
"""

from collections.abc import Callable

from chatserver.commands import followups, leads, messages
from chatserver.commands.fields import Data
from chatserver.models import Agent

LEAD_COMMANDS: dict[str, Callable[[Agent, Data], Data]] = {
    "lead.assign": leads.assign,
    "lead.close": leads.close,
    "lead.reopen": leads.reopen,
    "lead.share": leads.share,
    "lead.unshare": leads.unshare,
    "lead.create": leads.create,
    "lead.add_contact": leads.add_contact,
    "lead.add_number": leads.add_number,
    "lead.update_contact": leads.update_contact,
    "lead.open_conversation": leads.open_conversation,
    "conversation.close": leads.close_conversation,
    "conversation.reopen": leads.reopen_conversation,
    "note.add": leads.add_note,
    # A scheduled text, before it goes ("Send later").
    "message.reschedule": messages.reschedule,
    "message.cancel": messages.cancel,
    "consent.phone_optout": messages.optout_by_phone,
    "followup.set": followups.set_followup,
    "followup.done": followups.done,
    "followup.snooze": followups.snooze,
    "followup.delete": followups.delete,
    "workflow.attach": followups.attach_workflow,
    "workflow.stop": followups.stop_workflow,
}

# Commands that may text a lead, and so count against a socket's send limit.
SENDS_TEXT = {"lead.create"}

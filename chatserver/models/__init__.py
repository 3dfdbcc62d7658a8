"""The domain model, a module per domain, every model re-exported here.

Every row belongs to one organisation. Only ``chatserver.actions`` writes
these rows (the admin and the management commands go through it too, or edit
plain settings fields).
"""

from chatserver.models.automation import BusinessHours, KeywordRule
from chatserver.models.consent import Consent, ConsentChange
from chatserver.models.fields import PhoneNumberField, validate_e164
from chatserver.models.followups import (
    Enrollment,
    FollowUp,
    Workflow,
    WorkflowStep,
)
from chatserver.models.leads import Contact, ContactNumber, Lead, LeadClosure, Note
from chatserver.models.log import Event, WebhookReceipt
from chatserver.models.messaging import (
    Attachment,
    Conversation,
    Message,
    MessageCategory,
    ReadState,
    SenderNumber,
    Template,
)
from chatserver.models.organisations import (
    Agent,
    AgentGroup,
    Organisation,
    SmsPermission,
)

__all__ = [
    "Agent",
    "AgentGroup",
    "Attachment",
    "BusinessHours",
    "Consent",
    "ConsentChange",
    "Contact",
    "ContactNumber",
    "Conversation",
    "Enrollment",
    "Event",
    "FollowUp",
    "KeywordRule",
    "Lead",
    "LeadClosure",
    "Message",
    "MessageCategory",
    "Note",
    "Organisation",
    "PhoneNumberField",
    "ReadState",
    "SenderNumber",
    "SmsPermission",
    "Template",
    "WebhookReceipt",
    "Workflow",
    "WorkflowStep",
    "validate_e164",
]

"""How rows look to consoles: the JSON shapes of leads, messages, notes,
contacts, follow-ups and workflows, in events and API answers alike (one
place for each)."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from chatserver import links
from chatserver.models import Enrollment, FollowUp, Lead, Message, Note, Workflow
from chatserver.rules import images
from chatserver.rules.quiet_hours import lead_zone


class AttachmentData(TypedDict):
    """An image on an MMS. ``status``: pending (being fetched from the
    carrier), accepted, or rejected (``reason`` says why). ``url`` and
    ``download_url`` only for accepted ones, and only for agents who may see
    images (``queries.access.images_for``)."""

    id: int
    status: Literal["pending", "accepted", "rejected"]
    content_type: str
    size: int
    reason: str
    url: NotRequired[str]
    download_url: NotRequired[str]


class MessageData(TypedDict):
    id: int
    conversation: int
    lead: int
    direction: Literal["in", "out"]
    kind: str
    # Why an automatic reply went: consent, optout_confirmation, keyword,
    # after_hours ('' for any other message).
    automation: str
    body: str
    status: str
    author: int | None
    author_name: str
    created_at: str
    encoding: str
    segments: int
    error_code: str
    error_reason: str
    possible_optout: bool
    # The category the agent filed it under (an id of the organisation's
    # ``MessageCategory``s, named in the chatbox's details), or None.
    category: int | None
    # When a scheduled message ("Send later", or quiet hours) is to go;
    # None otherwise. ``lead_time_zone``: the zone of the lead's clock, to
    # show that time as theirs (None unless scheduled).
    scheduled_for: str | None
    lead_time_zone: str | None
    # A scheduled text is cancelled if the lead texts first.
    cancel_on_reply: bool
    # The images of an MMS (encoding "MMS"); empty for a plain SMS.
    attachments: list[AttachmentData]
    # The failed text this one sends again (``message.resend``), or None.
    resend_of: int | None
    client_id: NotRequired[str | None]


def scheduled_for(message: Message) -> str | None:
    """When a scheduled message is to go (ISO 8601), None for any other."""
    if message.status == "scheduled" and message.send_after:
        return message.send_after.isoformat()
    return None


def lead_time_zone(message: Message) -> str | None:
    """The lead's time zone, for a scheduled message only (one query more
    for those few, none for the rest)."""
    if message.status != "scheduled":
        return None
    return lead_zone(message.conversation.contact_number.number)


def message_data(message: Message) -> MessageData:
    """A message as consoles see it."""
    return {
        "id": message.id,
        "conversation": message.conversation_id,
        "lead": message.conversation.lead_id,
        "direction": message.direction,
        "kind": message.kind,
        "automation": message.automation,
        "body": message.body,
        "status": message.status,
        "author": message.author_id,
        "author_name": message.author.name if message.author_id else "",
        "created_at": message.created_at.isoformat(),
        "encoding": message.encoding,
        "segments": message.segments,
        "error_code": message.error_code,
        "error_reason": message.error_reason,
        "possible_optout": message.possible_optout,
        "category": message.category_id,
        "scheduled_for": scheduled_for(message),
        "lead_time_zone": lead_time_zone(message),
        "cancel_on_reply": message.direction == "out" and message.cancel_on_reply,
        "attachments": attachments_data(message),
        "resend_of": message.resend_of_id,
        "client_id": str(message.client_id) if message.client_id else None,
    }


def attachments_data(message: Message) -> list[AttachmentData]:
    """The images of a message as consoles see them (with their URLs: see
    ``queries.access.images_for`` for agents who may not see images)."""
    # Only an MMS has any: a plain SMS costs no query (nor does a message
    # whose attachments were prefetched).
    if message.encoding != images.MMS_ENCODING:
        return []
    items: list[AttachmentData] = []
    for attachment in sorted(message.attachments.all(), key=lambda a: a.id):
        item: AttachmentData = {
            "id": attachment.id,
            "status": attachment.status,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "reason": attachment.reason,
        }
        if attachment.status == "accepted":
            item["url"] = links.attachment_path(attachment.id)
            item["download_url"] = links.attachment_path(attachment.id, download=True)
        items.append(item)
    return items


def lead_data(lead: Lead) -> dict:
    """A lead as consoles see it in events and lists."""
    return {
        "id": lead.id,
        "name": lead.name,
        "status": lead.status,
        "assignee": lead.assignee_id,
        "assignee_name": lead.assignee.name if lead.assignee_id else "",
        "source": lead.source,
        "created_by": lead.created_by_id,
        "last_activity_at": lead.last_activity_at.isoformat(),
        "closed_at": lead.closed_at.isoformat() if lead.closed_at else None,
        "created_at": lead.created_at.isoformat(),
    }


def note_data(note: Note) -> dict:
    """A note as consoles see it."""
    return {
        "id": note.id,
        "lead": note.lead_id,
        "author": note.author_id,
        "author_name": note.author.name if note.author_id else "",
        "body": note.body,
        "created_at": note.created_at.isoformat(),
        "client_id": str(note.client_id) if note.client_id else None,
    }


def iso(when) -> str | None:
    return when.isoformat() if when else None


def followup_data(followup: FollowUp) -> dict:
    """A follow-up as consoles see it: ``due`` is when it is (again) due, its
    snooze or else its due time; it is on the Outstanding list from then."""
    lead = followup.lead
    enrollment = followup.enrollment
    return {
        "id": followup.id,
        "lead": followup.lead_id,
        "lead_name": lead.name,
        "kind": str(followup.kind),
        "note": followup.note,
        "due_at": followup.due_at.isoformat(),
        "snoozed_until": iso(followup.snoozed_until),
        "due": followup.due_time.isoformat(),
        "assignee": followup.assignee_id,
        "created_by": followup.created_by_id,
        "created_by_name": followup.created_by.name if followup.created_by_id else "",
        "done_at": iso(followup.done_at),
        "done_by": followup.done_by_id,
        "workflow_name": enrollment.workflow_name if enrollment else "",
        "client_id": str(followup.client_id) if followup.client_id else None,
    }


def enrollment_data(enrollment: Enrollment) -> dict:
    """A lead's enrollment in a workflow, running or stopped (and why)."""
    return {
        "id": enrollment.id,
        "lead": enrollment.lead_id,
        "workflow": enrollment.workflow_id,
        "workflow_name": enrollment.workflow_name,
        "started_at": enrollment.started_at.isoformat(),
        "started_by": enrollment.started_by_id,
        "stopped_at": iso(enrollment.stopped_at),
        "stop_reason": enrollment.stop_reason,
    }


def workflow_data(workflow: Workflow) -> dict:
    """A workflow and its steps, as the editor shows them."""
    return {
        "id": workflow.id,
        "name": workflow.name,
        "source": workflow.source,
        "sender": workflow.sender_id,
        "steps": [
            {
                "id": step.id,
                "delay_days": step.delay_days,
                "delay_hours": step.delay_hours,
                "kind": step.kind,
                "template": step.template_id,
                "note": step.note,
            }
            for step in workflow.steps.all()
        ],
    }

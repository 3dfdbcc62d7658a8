"""An agent's text: checked (rights, consent, quiet hours, the send
governor, plan, images), queued for the outbox, and the lead claimed when
nobody had it; and a text that failed, sent again as a new one after the
same checks."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from carriers.segments import check_limit
from chatserver.actions import attachments, followups, governing
from chatserver.actions.assignment import claim_lead
from chatserver.actions.attachments import Image
from chatserver.actions.locks import lock_number
from chatserver.actions.messages import mark_read, once_per_client_id, queue_message
from chatserver.models import Agent, Conversation, Message, MessageCategory
from chatserver.queries import access, compliance, scheduling
from chatserver.rules.errors import ActionError
from chatserver.rules.text import parse_client_id


def send_message(
    agent: Agent,
    conversation: Conversation,
    body: str,
    client_id: uuid.UUID | str | None = None,
    category_id: int | None = None,
    schedule: bool = False,
    images: Sequence[Image] = (),
    send_at: datetime.datetime | None = None,
    cancel_on_reply: bool = True,
) -> Message:
    """Queue an agent's text for sending, after every check.

    Sending again with the same ``client_id`` returns the first message: a
    retry from a flaky connection never texts the lead twice. Raises
    ActionError with a reason the agent understands when the text may not go.
    In the lead's quiet hours ``schedule`` stores it as scheduled for the next
    allowed time instead of refusing it. ``images`` make it an MMS (the text
    may then be empty). ``send_at`` ("Send later", already read by
    ``rules.scheduling.parse_send_at``) stores it as scheduled for then, which
    must be outside the lead's quiet hours and the governor's hours;
    ``cancel_on_reply``: it is cancelled if the lead texts first.
    """
    client_id = parse_client_id(client_id)
    later = Later(send_at, cancel_on_reply) if send_at is not None else None
    return once_per_client_id(
        agent,
        client_id,
        lambda: _queue_agent_message(
            agent,
            conversation,
            body,
            client_id,
            category_id,
            schedule,
            images,
            later=later,
        ),
    )


@dataclass(frozen=True)
class Later:
    """A text the agent asked to go at a time of their choosing."""

    send_at: datetime.datetime
    cancel_on_reply: bool = True


# A text in one of these may be sent again: it failed for good, or an outage
# left it for an agent to check (it may or may not have reached the lead).
RESENDABLE = (Message.Status.FAILED, Message.Status.UNDELIVERED, Message.Status.CHECK)


def resend_message(
    agent: Agent,
    failed: Message,
    client_id: uuid.UUID | str | None = None,
    schedule: bool = False,
) -> Message:
    """Send again a text of the agent's team that failed, or that was left
    for an agent to check (status ``check``): a new message with the same
    text and images, linked to the failed one (``resend_of``), after every
    check a new text gets (rights, consent, quiet hours, plan). The failed
    one stays as it was. A text is resent once: two agents clicking at once
    send one copy. ``client_id`` twice: once.
    """
    client_id = parse_client_id(client_id)

    def resend() -> Message:
        original = (
            Message.objects.select_related(
                "conversation__organisation", "conversation__sender"
            )
            .select_for_update(of=("self",))
            .get(pk=failed.pk)
        )
        check_resendable(original)
        return _queue_agent_message(
            agent,
            original.conversation,
            compliance.undecorate(original.conversation, original.body),
            client_id,
            original.category_id,
            schedule,
            attachments.images_of(original),
            resend_of=original,
        )

    return once_per_client_id(agent, client_id, resend)


def check_resendable(message: Message) -> None:
    """ActionError unless the message is an agent's text that may go again."""
    if message.direction != Message.Direction.OUTBOUND or message.kind != (
        Message.Kind.TEXT
    ):
        raise ActionError("Only a text an agent sent can be resent.", "invalid")
    if message.status not in RESENDABLE:
        raise ActionError(
            "Only a text that failed, or that is to be checked, can be resent: "
            f"this one is {message.get_status_display().lower()}.",
            "invalid",
        )
    if message.resends.exists():
        raise ActionError("This text was resent already.", "already_resent")


def _queue_agent_message(
    agent,
    conversation,
    body,
    client_id,
    category_id,
    schedule=False,
    images=(),
    resend_of=None,
    later: Later | None = None,
):
    # The number's lock before the rows of its thread and lead, in the order
    # a lead's text takes them (chatserver.actions.locks).
    lock_number(conversation.organisation_id, conversation.contact_number.number)
    conversation = (
        Conversation.objects.select_related("lead", "sender", "contact_number")
        .select_for_update()
        .get(pk=conversation.pk)
    )
    lead = conversation.lead
    reason = access.why_cannot_text(agent, lead)
    if reason:
        raise ActionError(reason, "forbidden")
    body = body.strip() if isinstance(body, str) else ""
    if not body and not images:
        raise ActionError("Type a message first.", "empty")
    organisation = agent.organisation
    problem = check_limit(body, organisation.message_limit) if body else None
    if problem:
        raise ActionError(problem, "too_long")
    checked = []
    if images:
        reason = access.why_cannot_send_images(agent)
        if reason:
            raise ActionError(reason, "forbidden")
        checked = attachments.check_outbound(images)
    if category_id is not None and not MessageCategory.objects.filter(
        pk=category_id, organisation_id=conversation.organisation_id
    ).exists():
        raise ActionError("No such message category.", "not_found")

    compliance.check_can_send(conversation)
    if later is not None:
        # "Send later": the time the agent chose, checked now against the
        # lead's quiet hours and the governor's hours (again when it comes).
        scheduling.check_send_at(conversation, later.send_at)
        when = governing.Timing(later.send_at, governed=False)
    else:
        when = governing.timing(conversation, schedule=schedule)
    outgoing = compliance.decorate(conversation, body)
    message = queue_message(
        conversation,
        outgoing,
        author=agent,
        client_id=client_id,
        category_id=category_id,
        send_after=when.send_after,
        checked_images=checked,
        resend_of=resend_of,
        governed=when.governed,
        cancel_on_reply=later.cancel_on_reply if later else True,
    )
    if lead.assignee_id is None:
        # Refuses (and so rolls the message back) if a colleague replied first.
        claim_lead(lead, agent, reason="replied")
    # Replying means the agent has read what they answer.
    mark_read(agent, conversation, message.id)
    # Texting the lead is following it up: its due follow-ups are done.
    followups.done_by_texting(agent, lead)
    return message

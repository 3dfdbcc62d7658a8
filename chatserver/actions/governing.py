"""When a text may go: the organisation's quiet hours, then the send governor.

Both the sends of now (an agent's text, an authorization request) and the
release of a scheduled text ask here, under the number's lock, so that the
caps count every governed text once. The law itself is pure
(``chatserver.rules.governor``); what it governs is read in
``chatserver.queries.governed``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from chatserver.actions.locks import lock_number
from chatserver.models import Conversation, Message
from chatserver.queries import compliance, governed
from chatserver.queries.governed import GovernorHold


@dataclass(frozen=True)
class Timing:
    """When a text goes (None: now), and whether the governor judged it."""

    send_after: datetime.datetime | None
    governed: bool


def timing(
    conversation: Conversation, kind: str = Message.Kind.TEXT, schedule: bool = False
) -> Timing:
    """When a text asked for now may go, or a refusal that says why not.

    In the organisation's quiet hours: QuietHours, or with ``schedule`` the
    next allowed time (the governor then judges it when that time comes, as
    every scheduled text). Otherwise a governed text the law holds raises
    GovernorHold naming the rule and when the text may go; with ``schedule``
    it is scheduled for then.
    """
    send_after = compliance.scheduled_time(conversation, schedule=schedule)
    if send_after is not None:
        return Timing(send_after, governed=False)
    lock_number(conversation.organisation_id, conversation.contact_number.number)
    verdict = governed.verdict(conversation, kind)
    if verdict is None:
        return Timing(None, governed=False)
    if verdict.allowed:
        return Timing(None, governed=True)
    if schedule and verdict.next_allowed is not None:
        return Timing(verdict.next_allowed, governed=False)
    raise GovernorHold(verdict)


def release_verdict(message: Message, now: datetime.datetime):
    """The governor's verdict on a scheduled text whose time came (None: not
    governed). Takes the number's lock for the rest of the transaction."""
    conversation = message.conversation
    lock_number(conversation.organisation_id, conversation.contact_number.number)
    return governed.verdict(
        conversation,
        message.kind,
        scheduled=True,
        automatic=message.author_id is None,
        now=now,
    )

"""Which texts the send governor judges, and its verdict on one of them.

The law (``chatserver.rules.governor``) is pure; this module reads what the
law needs from the database: what kind of text this is to the organisation,
whether the lead just wrote (a reply is not governed), and the governed texts
already sent to the number in the last 24 hours (the caps count them). The
actions that queue or release a text ask here, under the number's lock, and
mark what passed as ``governed`` so the next check counts it.
See docs/compliance.md, "Which texts are governed".
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone

from chatserver.models import Conversation, Message, Organisation
from chatserver.rules import governor
from chatserver.rules.errors import ActionError

Kind = Message.Kind
Status = Message.Status

# A text is a reply, not governed, when the lead's latest text to this
# conversation came this recently: the lead started the exchange. A day is
# the span an agent answers an enquiry in; after it, texting the lead again
# is a follow-up, and governed.
REPLY_WINDOW = datetime.timedelta(hours=24)
CAP_WINDOW = datetime.timedelta(hours=24)

# The four kinds of governed text, and the organisation's switch for each
# (does it count as a solicitation?). docs/compliance.md explains them.
FOLLOW_UP = "follow_up"  # an agent's text now, the lead not having just written
SCHEDULED = "scheduled"  # an agent's text at the time they chose
AUTOMATIC = "automatic"  # a text no agent wrote (a workflow's step)
AUTHORIZATION = "authorization_request"
SWITCHES = {
    FOLLOW_UP: "solicit_follow_ups",
    SCHEDULED: "solicit_scheduled",
    AUTOMATIC: "solicit_automatic",
    AUTHORIZATION: "solicit_authorization_requests",
}

# Sent, or on its way: what a cap counts. A text that failed never reached
# the lead.
WENT = (Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED, Status.CHECK)


class GovernorHold(ActionError):
    """A governed text the law holds now; ``details`` say which rule and
    when it may go, so the console can offer to schedule it for then."""

    def __init__(self, verdict: governor.Verdict):
        rule = verdict.held_by
        details = {
            "rule": rule.id,
            "law": rule.law,
            "citation": rule.citation,
            "next_allowed": verdict.next_allowed.isoformat()
            if verdict.next_allowed
            else None,
            "time_zones": list(verdict.zones),
        }
        if verdict.next_allowed:
            details["next_allowed_local"] = verdict.next_allowed.astimezone(
                ZoneInfo(verdict.zones[0])
            ).isoformat()
        super().__init__(verdict.message(), "governor_hold", details)
        self.verdict = verdict


def lead_just_wrote(conversation: Conversation, now: datetime.datetime) -> bool:
    """Whether the lead texted this conversation within REPLY_WINDOW."""
    return Message.objects.filter(
        conversation_id=conversation.pk,
        direction=Message.Direction.INBOUND,
        created_at__gte=now - REPLY_WINDOW,
    ).exists()


def kind_of(
    conversation: Conversation,
    kind: str,
    *,
    scheduled: bool,
    automatic: bool,
    now: datetime.datetime,
) -> str | None:
    """Which governed kind a text is, or None when it is a reply (or an
    automatic answer to the lead's own text), which no rule governs."""
    if kind == Kind.AUTO_REPLY:
        return None
    if kind == Kind.AUTHORIZATION_REQUEST:
        return AUTHORIZATION
    if automatic:
        return AUTOMATIC
    if scheduled:
        return SCHEDULED
    return None if lead_just_wrote(conversation, now) else FOLLOW_UP


def is_solicitation(organisation: Organisation, governed_kind: str) -> bool:
    """The organisation's choice: does this kind of text count as a solicitation?"""
    return getattr(organisation, SWITCHES[governed_kind])


def prior_sends(conversation: Conversation, now: datetime.datetime) -> list:
    """When the governed texts to this number went in the last CAP_WINDOW,
    from any of the organisation's numbers (one subject: docs/compliance.md)."""
    return list(
        Message.objects.filter(
            organisation_id=conversation.organisation_id,
            conversation__contact_number__number=conversation.contact_number.number,
            direction=Message.Direction.OUTBOUND,
            governed=True,
            status__in=WENT,
        )
        .annotate(went=Coalesce("send_after", "created_at"))
        .filter(went__gt=now - CAP_WINDOW, went__lte=now)
        .values_list("went", flat=True)
    )


def verdict(
    conversation: Conversation,
    kind: str = Kind.TEXT,
    *,
    scheduled: bool = False,
    automatic: bool = False,
    now: datetime.datetime | None = None,
) -> governor.Verdict | None:
    """The governor's verdict on a text now, or None when it is not governed
    (a reply, an automatic answer, or a kind the organisation does not count
    as a solicitation). Call it under the number's lock
    (``actions.inbound.lock_number``) so that two texts checked at once
    cannot both take the cap's last place."""
    if not settings.ENFORCE_SEND_GOVERNOR:
        return None
    now = now or timezone.now()
    governed_kind = kind_of(
        conversation, kind, scheduled=scheduled, automatic=automatic, now=now
    )
    if governed_kind is None:
        return None
    organisation = conversation.organisation
    if not is_solicitation(organisation, governed_kind):
        return None
    return governor.check(
        conversation.contact_number.number,
        now,
        prior_sends(conversation, now),
    )

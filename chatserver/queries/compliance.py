"""The rules every outbound text must pass: consent, quiet hours, first contact.

By kind of message:

- ``text`` (an agent's or a template's): the number must be Authorized, and
  it must not be quiet hours where the lead is (or the text is scheduled for
  the next allowed time);
- ``authorization_request``: the number must be neither Authorized nor
  Revoked; quiet hours apply the same;
- ``auto_reply`` (a keyword's confirmation, the HELP text): always allowed,
  at once; it answers the lead's own message (``chatserver.actions.consent``).

A refused send raises ActionError before anything is stored: nothing is
queued and nothing reaches the carrier. Scheduled messages pass the same
checks again when their time comes (``chatserver.actions.scheduled``).
Read-only: these rules decide, the actions write.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from chatserver.models import Conversation, Message
from chatserver.queries import access
from chatserver.queries.consent import NOTICES, State, render, state_of
from chatserver.rules import quiet_hours
from chatserver.rules.errors import ActionError

Kind = Message.Kind


class QuietHours(ActionError):
    """A send refused because it is quiet hours where the lead is.

    ``details`` tells the console the lead's local time(s) and the next allowed
    time, so it can offer to schedule the text for then.
    """

    def __init__(self, verdict: quiet_hours.Verdict, window: quiet_hours.Window):
        locals_ = verdict.local_times()
        now_text = " / ".join(
            f"{when:%H:%M} ({name})" for name, when in locals_.items()
        )
        first_zone = verdict.zones[0]
        next_local = verdict.next_allowed.astimezone(quiet_hours.ZoneInfo(first_zone))
        days = (next_local.date() - locals_[first_zone].date()).days
        when = f"{next_local:%H:%M}" + {0: "", 1: " tomorrow"}.get(
            days, f" on {next_local:%a %d %b}"
        )
        reason = (
            f"Quiet hours: it is {now_text} for this lead. Texts may go from "
            f"{window.end:%H:%M} to {window.start:%H:%M} their time. Schedule it "
            f"to go at {when} their time, or send it then."
        )
        super().__init__(
            reason,
            "quiet_hours",
            {
                "time_zones": list(verdict.zones),
                "local_times": {k: v.isoformat() for k, v in locals_.items()},
                "next_allowed": verdict.next_allowed.isoformat(),
                "next_allowed_local": next_local.isoformat(),
                "quiet_hours": {
                    "start": f"{window.start:%H:%M}",
                    "end": f"{window.end:%H:%M}",
                },
            },
        )
        self.verdict = verdict


def check_can_send(conversation: Conversation, kind: str = Kind.TEXT) -> None:
    """Raise ActionError unless the number's consent allows this kind of text."""
    if kind == Kind.AUTO_REPLY:
        return
    state = state_of(conversation.organisation_id, conversation.contact_number.number)
    if kind == Kind.AUTHORIZATION_REQUEST:
        if state == State.AUTHORIZED:
            raise ActionError(
                "This number has already authorized texts.", "already_authorized"
            )
        if state == State.REVOKED:
            raise ActionError(NOTICES[state], "consent_revoked")
        return
    if state != State.AUTHORIZED:
        raise ActionError(NOTICES[state], f"consent_{state}")


def window_of(organisation) -> quiet_hours.Window:
    """An organisation's quiet hours (none when the deployment switched them
    off: ``ENFORCE_QUIET_HOURS``)."""
    if not settings.ENFORCE_QUIET_HOURS:
        return quiet_hours.Window(
            organisation.quiet_hours_start, organisation.quiet_hours_start
        )
    return quiet_hours.Window(
        organisation.quiet_hours_start, organisation.quiet_hours_end
    )


def quiet_verdict(
    conversation: Conversation, now: datetime.datetime | None = None
) -> quiet_hours.Verdict:
    """Whether it is quiet hours for the conversation's number now."""
    return quiet_hours.check(
        conversation.contact_number.number,
        window_of(conversation.organisation),
        now or timezone.now(),
    )


def scheduled_time(conversation: Conversation, schedule: bool = False):
    """When a text may go: None for now.

    In quiet hours, the next allowed time when ``schedule`` is asked for;
    otherwise QuietHours, which tells the agent the lead's local time.
    """
    verdict = quiet_verdict(conversation)
    if not verdict.quiet:
        return None
    if schedule:
        return verdict.next_allowed
    raise QuietHours(verdict, window_of(conversation.organisation))


def is_first_contact(conversation: Conversation, but_for: int | None = None) -> bool:
    """Whether the organisation has never texted this number (a text that
    failed, or was cancelled, never reached the lead, so it does not count;
    nor does the message ``but_for``, a scheduled text being edited)."""
    return not (
        Message.objects.filter(
            organisation_id=conversation.organisation_id,
            conversation__contact_number__number=conversation.contact_number.number,
            direction=Message.Direction.OUTBOUND,
        )
        .exclude(status__in=NEVER_REACHED)
        .exclude(pk=but_for)
        .exists()
    )


NEVER_REACHED = [
    Message.Status.FAILED,
    Message.Status.UNDELIVERED,
    Message.Status.CANCELLED,
]


def decorate(conversation: Conversation, body: str, but_for: int | None = None) -> str:
    """The text as sent: the intro on first contact (``but_for``: see
    ``is_first_contact``), the footer when set."""
    organisation = conversation.organisation
    number = conversation.sender.number
    intro = render(organisation.intro_text, organisation, number)
    if intro and is_first_contact(conversation, but_for):
        body = f"{intro}\n{body}"
    footer = render(organisation.optout_footer, organisation, number)
    if footer:
        body = f"{body}\n{footer}"
    return body


def undecorate(conversation: Conversation, body: str) -> str:
    """A text as the agent wrote it: ``body`` as it was sent, less the intro
    and the footer ``decorate`` adds (as the organisation words them now)."""
    organisation = conversation.organisation
    number = conversation.sender.number
    intro = render(organisation.intro_text, organisation, number)
    if intro and body.startswith(f"{intro}\n"):
        body = body[len(intro) + 1 :]
    footer = render(organisation.optout_footer, organisation, number)
    if footer and body.endswith(f"\n{footer}"):
        body = body[: -len(footer) - 1]
    return body


def why_not_release(message: Message) -> ActionError | None:
    """Why a scheduled message may not go now that its time came, or None."""
    conversation = message.conversation
    if message.author_id is not None:
        reason = access.why_cannot_text(message.author, conversation.lead)
        if reason:
            return ActionError(reason, "forbidden")
    try:
        check_can_send(conversation, message.kind)
    except ActionError as error:
        return error
    return None

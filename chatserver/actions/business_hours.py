"""Our numbers' business hours and after-hours replies, as admins set them
in the console (the Django admin edits the same rows, checked the same way:
``BusinessHours.clean``). A change tells the consoles as a change to the
saved replies does (``templates.changed``): the editor lives beside them."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from chatserver.actions.templates import tell_consoles
from chatserver.models import BusinessHours, SenderNumber
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_text

TEXT_LENGTH = 1000


def parse_time(value, what: str) -> datetime.time:
    """A time of day written ``HH:MM``, or ActionError."""
    if isinstance(value, str):
        try:
            return datetime.time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ActionError(f"The {what} must be a time like 09:00.", "invalid")


@transaction.atomic
def save_hours(
    sender: SenderNumber,
    *,
    time_zone,
    days,
    opens,
    closes,
    after_hours_text,
    reply_every_hours,
) -> BusinessHours:
    """Set (or change) a number's business hours; checked as in the admin."""
    hours = BusinessHours.objects.filter(sender=sender).first() or BusinessHours(
        sender=sender
    )
    hours.time_zone = clean_text(time_zone, "time zone", 64, required=True)
    hours.days = clean_text(days, "days", 7, required=True)
    hours.opens = parse_time(opens, "opening time")
    hours.closes = parse_time(closes, "closing time")
    hours.after_hours_text = clean_text(
        after_hours_text, "after-hours text", TEXT_LENGTH
    )
    if isinstance(reply_every_hours, bool) or not isinstance(reply_every_hours, int):
        raise ActionError("'reply_every_hours' must be a whole number.", "invalid")
    if not 1 <= reply_every_hours <= 24 * 14:
        raise ActionError("Reply at most once every 1 to 336 hours.", "invalid")
    hours.reply_every_hours = reply_every_hours
    try:
        hours.full_clean()
    except ValidationError as exc:
        reasons = [m for messages in exc.message_dict.values() for m in messages]
        raise ActionError(" ".join(reasons), "invalid") from None
    hours.save()
    tell_consoles(sender.organisation_id)
    return hours


@transaction.atomic
def remove_hours(sender: SenderNumber) -> None:
    """The number keeps no hours: it sends no after-hours reply."""
    BusinessHours.objects.filter(sender=sender).delete()
    tell_consoles(sender.organisation_id)

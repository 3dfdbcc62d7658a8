"""Automatic replies: which keyword a lead's text is, which keywords an
organisation may define, and when one of our numbers is open for business.

A keyword rule matches a whole message only, read as the consent keywords
are (``keywords.whole_word``): any case, the spaces, punctuation and emoji
around it ignored, its parts joined, so "price", " Price! " and "PRICE 🙂"
all match ``PRICE`` while "what is the price?" does not. A keyword is one
to twenty letters or digits; the consent keywords (STOP, START, HELP and
their variants) are reserved, whatever their case or spacing.

Business hours are days of the week and one opening time and closing time
on each, in the number's time zone; a closing time before the opening time
runs past midnight (a day's hours belong to the day they open).

Pure functions: ``chatserver.actions.auto_replies`` acts on them.
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatserver.rules import keywords
from chatserver.rules.errors import ActionError

KEYWORD_LENGTH = 20
_KEYWORD = re.compile(rf"^[A-Z0-9]{{1,{KEYWORD_LENGTH}}}$")

# ISO weekdays (Monday 1 ... Sunday 7) and their names, as admins see them.
DAY_NAMES = {
    1: "Monday",
    2: "Tuesday",
    3: "Wednesday",
    4: "Thursday",
    5: "Friday",
    6: "Saturday",
    7: "Sunday",
}


def message_keyword(body: str) -> str:
    """The word a keyword rule would match in a whole message ('' for none)."""
    word = keywords.whole_word(body)
    return word if _KEYWORD.match(word) else ""


def clean_keyword(value) -> str:
    """An admin's keyword as it is stored (upper case), or ActionError:
    one word of letters and digits, not a consent keyword."""
    if not isinstance(value, str) or not value.strip():
        raise ActionError("Write the keyword a lead texts, e.g. PRICE.", "invalid")
    word = keywords.whole_word(value)
    if word in keywords.KEYWORDS:
        raise ActionError(
            f"{word} is reserved for consent (STOP, START, HELP and their "
            "variants): the server answers it itself.",
            "reserved",
        )
    if not _KEYWORD.match(word):
        raise ActionError(
            f"A keyword is one word of up to {KEYWORD_LENGTH} letters or digits "
            "(no spaces or punctuation).",
            "invalid",
        )
    return word


def zone_of(name: str) -> ZoneInfo:
    """The time zone an IANA name names, or ValueError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"Unknown time zone {name!r}: use a name like America/Chicago."
        ) from None


def parse_days(days: str) -> frozenset[int]:
    """ISO weekdays from their digits ("12345": Monday to Friday)."""
    return frozenset(int(day) for day in days if day in "1234567")


def is_open(
    when: datetime.datetime,
    zone: str,
    days: str,
    opens: datetime.time,
    closes: datetime.time,
) -> bool:
    """Whether a number with these hours is open at ``when`` (aware).

    Opening and closing at the same time means open all day on the days.
    """
    local = when.astimezone(zone_of(zone))
    open_days = parse_days(days)
    now = local.time().replace(tzinfo=None)
    today = local.isoweekday()
    if opens == closes:
        return today in open_days
    if opens < closes:
        return today in open_days and opens <= now < closes
    # Past midnight: this evening belongs to today, the small hours to yesterday.
    yesterday = 7 if today == 1 else today - 1
    return (today in open_days and now >= opens) or (
        yesterday in open_days and now < closes
    )

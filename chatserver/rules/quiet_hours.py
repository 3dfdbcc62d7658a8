"""Quiet hours: when a number may be texted, in the recipient's local time.

A number's time zones come from ``phonenumbers`` (by country and area code).
When it spans several, the strictest rule applies: a text may go only when it
is inside the allowed hours in every one of them. The server's ``TIME_ZONE``
is used instead for a number tied to no place (toll-free, premium, VoIP,
personal numbers: ``phonenumbers`` would list every zone of the country, from
Guam to Newfoundland for +1), one with no known zone, and one whose zones are
so far apart that no hour is allowed in all of them.

Pure functions of a clock reading: ``chatserver.queries.compliance`` applies
them to sends and scheduled messages.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django.conf import settings
from phonenumbers import timezone as phone_timezones

# How far ahead to look for the next allowed time: enough for any window.
SEARCH_DAYS = 3


@dataclass(frozen=True)
class Window:
    """The quiet hours: no sends from ``start`` until ``end`` (local times).

    ``start`` after ``end`` spans midnight (21:00 -> 08:00, the default);
    ``start`` equal to ``end`` means no quiet hours at all.
    """

    start: datetime.time
    end: datetime.time

    @property
    def disabled(self) -> bool:
        return self.start == self.end

    def is_quiet(self, local: datetime.time) -> bool:
        """Whether a local time of day falls in the quiet hours."""
        if self.disabled:
            return False
        if self.start > self.end:
            return local >= self.start or local < self.end
        return self.start <= local < self.end


@dataclass(frozen=True)
class Verdict:
    """Whether a number may be texted at ``now``, and if not, when next."""

    now: datetime.datetime
    zones: tuple[str, ...]
    quiet: bool
    next_allowed: datetime.datetime | None  # None when texting is allowed now

    def local_times(self) -> dict[str, datetime.datetime]:
        """``now`` on the recipient's clocks, per zone."""
        return {name: self.now.astimezone(ZoneInfo(name)) for name in self.zones}


def fallback_zone() -> str:
    return settings.TIME_ZONE or "UTC"


# Number types that say nothing about where their owner is.
PLACELESS = {
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.VOICEMAIL,
}


@lru_cache(maxsize=4096)
def number_zones(number: str) -> tuple[str, ...]:
    """The time zones a number may be in, as ``phonenumbers`` knows them
    (none for a number tied to no place)."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return ()
    if phonenumbers.number_type(parsed) in PLACELESS:
        return ()
    names = []
    for name in phone_timezones.time_zones_for_number(parsed):
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # "Etc/Unknown" and the like
            continue
        names.append(name)
    return tuple(names)


def lead_zone(number: str) -> str:
    """The one time zone a number's times are shown in (the first of its
    zones; the fallback for a number tied to no place)."""
    return (number_zones(number) or (fallback_zone(),))[0]


def _allowed_everywhere(when: datetime.datetime, zones, window: Window) -> bool:
    return not any(
        window.is_quiet(when.astimezone(ZoneInfo(name)).time()) for name in zones
    )


def _next_allowed(now: datetime.datetime, zones, window: Window):
    """The first instant from ``now`` allowed in every zone, or None.

    The allowed hours of all zones together begin either now or at the end of
    some zone's quiet hours, so those instants are the only candidates.
    """
    candidates = {now}
    for name in zones:
        tz = ZoneInfo(name)
        today = now.astimezone(tz).date()
        for days in range(-1, SEARCH_DAYS + 1):
            local = datetime.datetime.combine(
                today + datetime.timedelta(days=days), window.end, tzinfo=tz
            )
            # Round-tripping through UTC turns a wall time that a DST jump
            # skipped into the real instant just after it.
            instant = local.astimezone(datetime.UTC)
            if instant >= now:
                candidates.add(instant)
    for candidate in sorted(candidates):
        if _allowed_everywhere(candidate, zones, window):
            return candidate
    return None


def check(number: str, window: Window, now: datetime.datetime) -> Verdict:
    """Whether ``number`` may be texted at ``now`` under ``window``.

    ``now`` must be timezone-aware. The zones in the verdict are those the
    rule was applied in (the fallback zone when the number's own don't work).
    """
    zones = number_zones(number) or (fallback_zone(),)
    if window.disabled:
        return Verdict(now, zones, False, None)
    next_allowed = _next_allowed(now, zones, window)
    if next_allowed is None:
        zones = (fallback_zone(),)
        next_allowed = _next_allowed(now, zones, window)
    if next_allowed == now:
        return Verdict(now, zones, False, None)
    return Verdict(now, zones, True, next_allowed)

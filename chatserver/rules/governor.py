"""The send governor: when the law lets a governed text go to a lead.

A governed text is every text that is not a reply within a conversation the
lead just started: a follow-up, a scheduled or automatic text, an
authorization request. It is checked against the federal rule and the rules of
the state the lead is presumed to live in from the number's area code, in the
number's own time zones (the strictest when it has several).

The rules are data (``chatserver.rules.laws``): each carries its citation, the date it took
effect, a plain-English summary and what was read to check it;
docs/compliance.md lists them for a compliance officer. Everything here is a
pure function of its arguments, and of the clock when ``now`` is not given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import phonenumbers

from chatserver.rules import quiet_hours
from chatserver.rules.area_codes import AREA_CODES
from chatserver.rules.laws import RULES, SEARCH_DAYS, UTC, Exemption, Rule


def state_of(number: str) -> str | None:
    """The state (or DC, or territory) a number's area code presumes, or None.

    None for anything that is not a geographic US area code: toll-free and
    other non-geographic numbers, Canada, the Caribbean countries.
    """
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    national = str(parsed.national_number)
    if parsed.country_code != 1 or len(national) != 10:
        return None
    return AREA_CODES.get(national[:3])


def rules_for(number: str, on: dt.date) -> list[Rule]:
    """The federal rule and the presumed state's rules in force on ``on``."""
    state = state_of(number)
    return [r for r in RULES if r.jurisdiction in ("US", state) and r.in_force(on)]


@dataclass(frozen=True)
class Hold:
    """A rule that holds a text at the moment checked."""

    rule: Rule
    until: dt.datetime | None  # when this rule alone would let it go


@dataclass(frozen=True)
class Verdict:
    """Whether a governed text may go at ``now``, and if not, why and when."""

    number: str
    now: dt.datetime
    state: str | None
    zones: tuple[str, ...]  # the zones the rules were applied in
    rules: tuple[Rule, ...]  # applied
    exempted: tuple[Rule, ...]  # in force, but the text claims an exemption
    holds: tuple[Hold, ...]  # most binding first; empty when allowed
    next_allowed: dt.datetime | None  # now when allowed; None: no time found

    @property
    def allowed(self) -> bool:
        return not self.holds

    @property
    def held_by(self) -> Rule | None:
        return self.holds[0].rule if self.holds else None

    def local_times(self) -> dict[str, dt.datetime]:
        """``now`` on the lead's clocks, per zone."""
        return {name: self.now.astimezone(ZoneInfo(name)) for name in self.zones}

    def message(self) -> str:
        """The sentence a held text shows an agent ("" when allowed)."""
        rule = self.held_by
        if rule is None:
            return ""
        held = f"Held by {rule.law} ({rule.citation}): {rule.describe()}."
        if self.next_allowed is None:
            return f"{held} No time in the next {SEARCH_DAYS} days allows it."
        zone = ZoneInfo(self.zones[0])
        then = self.next_allowed.astimezone(zone)
        days = (then.date() - self.now.astimezone(zone).date()).days
        day = {0: "today", 1: "tomorrow"}.get(
            days, f"on {then:%a} {then.day} {then:%b}"
        )
        return f"{held} It may go at {then:%H:%M} {day} (their time)."


def _first_allowed(
    now: dt.datetime,
    rules: Sequence[Rule],
    zones: Sequence[str],
    prior: Sequence[dt.datetime],
) -> dt.datetime | None:
    candidates = {now}
    for rule in rules:
        candidates |= rule.openings(now, zones, prior)
    for candidate in sorted(candidates):
        if all(rule.allows(candidate, zones, prior) for rule in rules):
            return candidate
    return None


def check(
    number: str,
    now: dt.datetime | None = None,
    prior: Sequence[dt.datetime] = (),
    *,
    exemptions: Collection[Exemption] = (),
    solicitation: bool = True,
    fallback_zone: str | None = None,
) -> Verdict:
    """Whether a governed text to ``number`` may go at ``now`` (default: the clock).

    ``prior``: when the earlier governed texts to this lead on the same subject
    went (aware datetimes, up to ``now``), from any of the organisation's
    numbers; the caps count them. ``exemptions``: those this text claims.
    ``solicitation``: False when the organisation does not count this kind of
    text as a solicitation; no rule then applies. A number with no zone of its
    own (toll-free, unknown) is judged in ``fallback_zone``, by default the
    server's (``TIME_ZONE``).
    """
    now = dt.datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # In UTC, adding 24 hours means 24 elapsed hours; with a zone's tzinfo
    # Python would add wall-clock hours, one more or less across a DST change.
    instant = now.astimezone(UTC)
    prior = tuple(sent.astimezone(UTC) for sent in prior)
    fallback = (fallback_zone or quiet_hours.fallback_zone(),)
    zones = quiet_hours.number_zones(number) or fallback
    on = now.astimezone(ZoneInfo(zones[0])).date()
    in_force = rules_for(number, on) if solicitation else []
    claimed = frozenset(exemptions)
    applied = tuple(r for r in in_force if not r.exemptions & claimed)
    exempted = tuple(r for r in in_force if r.exemptions & claimed)
    next_allowed = _first_allowed(instant, applied, zones, prior)
    if next_allowed is None and zones != fallback:
        # Zones so far apart that no hour suits them all: the server's zone
        # decides, as for quiet hours.
        zones = fallback
        next_allowed = _first_allowed(instant, applied, zones, prior)
    holds = [
        Hold(rule, _first_allowed(instant, (rule,), zones, prior))
        for rule in applied
        if not rule.allows(instant, zones, prior)
    ]
    # The rule that binds longest leads; on a tie the state's law, the stricter.
    holds.sort(key=lambda hold: hold.rule.jurisdiction == "US")
    holds.sort(
        key=lambda hold: hold.until or dt.datetime.max.replace(tzinfo=UTC), reverse=True
    )
    return Verdict(
        number=number,
        now=now,
        state=state_of(number),
        zones=tuple(zones),
        rules=applied,
        exempted=exempted,
        holds=tuple(holds),
        next_allowed=next_allowed,
    )

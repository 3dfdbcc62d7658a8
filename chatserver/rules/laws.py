"""The laws the send governor applies, as data: each rule with its
citation, the date it took effect, a plain-English summary and what was read
to check it. The module a compliance officer reads (docs/compliance.md lists
the same); ``chatserver.rules.governor`` applies them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from chatserver.rules.area_codes import NAMES

UTC = dt.UTC
# How far ahead to look for a time every rule allows: a week of windows that
# differ by weekday, plus a day for a cap to slide.
SEARCH_DAYS = 9

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Exemption(StrEnum):
    """Grounds on which a law does not count a text as a solicitation.

    The caller claims them for one text and keeps the evidence; each rule lists
    the ones its law recognises, and a rule whose law recognises a claimed one
    is not applied. Claim ESTABLISHED_BUSINESS_RELATIONSHIP only within the
    federal definition (47 CFR 64.1200(f)), the narrowest: up to 18 months after
    the lead's last purchase or transaction, 3 months after their inquiry.
    """

    CONSUMER_REQUEST = "consumer_request"  # the lead asked for this text
    ESTABLISHED_BUSINESS_RELATIONSHIP = "established_business_relationship"


@dataclass(frozen=True)
class Hours:
    """Local times of day a text may go: from ``start`` (allowed) to ``end`` (not)."""

    start: dt.time
    end: dt.time

    def allows(self, local: dt.time) -> bool:
        # The closing minute counts as closed: "not after 8 p.m." is read as
        # "not from 20:00", the cautious side of a minute's doubt.
        return self.start <= local < self.end

    def __str__(self) -> str:
        return f"{self.start.hour}:{self.start:%M}-{self.end.hour}:{self.end:%M}"


def daily(start: int, end: int) -> tuple[Hours, ...]:
    """The same hours on every day of the week (Monday first)."""
    return (Hours(dt.time(start), dt.time(end)),) * 7


@dataclass(frozen=True)
class Cap:
    """At most ``count`` governed texts on one subject in any ``period`` (sliding)."""

    count: int
    period: dt.timedelta

    def allows(self, when: dt.datetime, prior: Sequence[dt.datetime]) -> bool:
        """Whether one more text at ``when`` stays within the cap.

        An earlier text counts until ``period`` has passed since it went: after
        texts at t, t+1h and t+2h, a fourth may go at t+24h, not a second before.
        """
        since = when.astimezone(UTC) - self.period  # elapsed time, whatever the zone
        recent = sum(1 for sent in prior if since < sent <= when)
        return recent < self.count


@dataclass(frozen=True)
class Rule:
    """One legal limit on governed texts: hours of the day, a cap, or both."""

    id: str
    jurisdiction: str  # "US", or the two-letter code of a state
    law: str  # how a held text names it to an agent
    citation: str
    effective: dt.date
    summary: str
    hours: tuple[Hours, ...] | None = None  # Monday first; None: any time
    cap: Cap | None = None
    exemptions: frozenset[Exemption] = frozenset()
    checked: str = ""  # what was read to check it, and any doubt left

    def in_force(self, on: dt.date) -> bool:
        return self.effective <= on

    def allows(
        self, when: dt.datetime, zones: Iterable[str], prior: Sequence[dt.datetime]
    ) -> bool:
        """Whether this rule lets a text go at ``when`` in every one of ``zones``."""
        if self.cap is not None and not self.cap.allows(when, prior):
            return False
        if self.hours is None:
            return True
        for name in zones:
            local = when.astimezone(ZoneInfo(name))
            if not self.hours[local.weekday()].allows(local.time()):
                return False
        return True

    def openings(
        self, now: dt.datetime, zones: Iterable[str], prior: Sequence[dt.datetime]
    ) -> set[dt.datetime]:
        """The instants from ``now`` on at which this rule may start to allow a text.

        Allowed times are unions of intervals closed at their start, so the
        first allowed instant of several rules together is ``now`` or one of
        these: a window opening in some zone, or a cap sliding past a text.
        """
        found = set()
        if self.hours is not None:
            for name in zones:
                tz = ZoneInfo(name)
                today = now.astimezone(tz).date()
                for days in range(SEARCH_DAYS + 1):
                    day = today + dt.timedelta(days=days)
                    opens = self.hours[day.weekday()].start
                    # Through UTC, a wall time a DST jump skipped becomes the
                    # instant just after the jump.
                    start = dt.datetime.combine(day, opens, tzinfo=tz)
                    if (instant := start.astimezone(UTC)) >= now:
                        found.add(instant)
        if self.cap is not None:
            frees = (sent.astimezone(UTC) + self.cap.period for sent in prior)
            found.update(instant for instant in frees if instant > now)
        return found

    def describe(self) -> str:
        """What the rule allows, in the words a held text shows an agent."""
        name = NAMES.get(self.jurisdiction)
        parts = []
        if self.hours is not None:
            whose = f"texts to {name} numbers" if name else "texts"
            parts.append(f"{whose} may go {hours_text(self.hours)} their time")
        if self.cap is not None:
            whose = f"to one {name} number " if name else ""
            hours = round(self.cap.period.total_seconds() / 3600)
            parts.append(
                f"at most {self.cap.count} texts {whose}on the same subject"
                f" in any {hours} hours"
            )
        return "; ".join(parts)


def hours_text(week: Sequence[Hours]) -> str:
    """A week of hours in words: "8:00-20:00", or day by day where they differ."""
    runs: list[list] = []  # [hours, first day, last day]
    for day, hours in enumerate(week):
        if runs and runs[-1][0] == hours:
            runs[-1][2] = day
        else:
            runs.append([hours, day, day])
    words = [
        f"{hours} " + (f"on {DAYS[a]}" if a == b else f"{DAYS[a]} to {DAYS[b]}")
        for hours, a, b in runs
    ]
    if len(words) == 1:
        return str(runs[0][0])
    return ", ".join(words[:-1]) + " and " + words[-1]


_TEXAS_HOURS = (Hours(dt.time(9), dt.time(21)),) * 6 + (
    Hours(dt.time(12), dt.time(21)),
)
_THREE_A_DAY = Cap(count=3, period=dt.timedelta(hours=24))

# docs/compliance.md gives each rule's reading in full; ``checked`` says what
# was read and what doubt is left.
RULES: tuple[Rule, ...] = (
    Rule(
        id="us-hours",
        jurisdiction="US",
        law="the federal telephone solicitation rules",
        citation="47 CFR 64.1200(c)(1)",
        effective=dt.date(1992, 12, 20),
        summary=(
            "No telephone solicitation before 8 a.m. or after 9 p.m. at the called"
            " party's location; texts are calls, and 64.1200(e) extends the rule"
            " to wireless numbers. Not a solicitation (64.1200(f)): a text with the"
            " lead's prior express invitation or permission, or to a lead with an"
            " established business relationship."
        ),
        hours=daily(8, 21),
        exemptions=frozenset(Exemption),
        checked="Rule text, 64.1200(c), (e), (f); in force since the 1992 TCPA rules.",
    ),
    Rule(
        id="fl-hours",
        jurisdiction="FL",
        law="Florida's Telemarketing Act",
        citation="Fla. Stat. 501.616(6)(a)",
        effective=dt.date(2021, 7, 1),
        summary=(
            "No commercial telephone solicitation call before 8 a.m. or after"
            " 8 p.m. in the called person's time zone (9 p.m. before CS/SB 1120,"
            " 2021). A Florida area code presumes a Florida lead (501.059(8)(b))."
        ),
        hours=daily(8, 20),
        checked="Statute text; 501.604's exemptions expressly do not reach (6).",
    ),
    Rule(
        id="fl-cap",
        jurisdiction="FL",
        law="Florida's Telemarketing Act",
        citation="Fla. Stat. 501.616(6)(b)",
        effective=dt.date(2021, 7, 1),
        summary=(
            "No more than three commercial telephone solicitation calls to a person"
            " in 24 hours on the same subject matter or issue, from whatever numbers."
        ),
        cap=_THREE_A_DAY,
        checked="Statute text (added by CS/SB 1120, 2021).",
    ),
    Rule(
        id="ok-hours",
        jurisdiction="OK",
        law="Oklahoma's Telephone Solicitation Act",
        citation="15 O.S. 775C.4",
        effective=dt.date(2022, 11, 1),
        summary=(
            "No commercial telephone solicitation call before 8 a.m. or after"
            " 8 p.m. at the called party's location. An Oklahoma area code"
            " presumes an Oklahoma lead."
        ),
        hours=daily(8, 20),
        checked=(
            "HB 3168 (2022) and summaries; section number to be confirmed. The"
            " 775C.5 exemptions read name kinds of seller, none the lead's request."
        ),
    ),
    Rule(
        id="ok-cap",
        jurisdiction="OK",
        law="Oklahoma's Telephone Solicitation Act",
        citation="15 O.S. 775C.4",
        effective=dt.date(2022, 11, 1),
        summary=(
            "No more than three commercial telephone solicitation calls to a person"
            " in 24 hours on the same subject matter or issue."
        ),
        cap=_THREE_A_DAY,
        checked="As for ok-hours.",
    ),
    Rule(
        id="md-hours",
        jurisdiction="MD",
        law="Maryland's Stop the Spam Calls Act",
        citation="Md. Code, Com. Law 14-4502",
        effective=dt.date(2024, 1, 1),
        summary=(
            "No telephone solicitation (calls and texts) before 8 a.m. or after"
            " 8 p.m. in the called party's time zone."
        ),
        hours=daily(8, 20),
        checked=(
            "SB 90 (2023, ch. 413), 14-4501 and 14-4502(a); where in the subtitle"
            " the hours and cap sit is to be confirmed. 14-4502(a)'s exemptions"
            " (an answer to an inquiry among them) apply to that subsection only."
        ),
    ),
    Rule(
        id="md-cap",
        jurisdiction="MD",
        law="Maryland's Stop the Spam Calls Act",
        citation="Md. Code, Com. Law 14-4502",
        effective=dt.date(2024, 1, 1),
        summary=(
            "No more than three telephone solicitations to a called party in"
            " 24 hours on the same subject matter or issue."
        ),
        cap=_THREE_A_DAY,
        checked="As for md-hours.",
    ),
    Rule(
        id="tx-hours",
        jurisdiction="TX",
        law="Texas's telephone solicitation law",
        citation="Tex. Bus. & Com. Code 301.051",
        effective=dt.date(2025, 9, 1),
        summary=(
            "No telephone solicitation before 9 a.m. or after 9 p.m. on a weekday"
            " or Saturday, or before noon or after 9 p.m. on a Sunday; applied to"
            " texts since SB 140 (2025) took effect. Not covered: a text answering"
            " the consumer's request, or to a customer of an existing relationship."
        ),
        hours=_TEXAS_HOURS,
        exemptions=frozenset(Exemption),
        checked=(
            "SB 140 analysis (it defines calls in chapter 302; the hours are in"
            " 301.051); exemptions from summaries, to be confirmed."
        ),
    ),
)

"""The send governor on a controlled clock: each state's hours at their edges,
across DST changes and midnight, caps over a sliding 24 hours, Sunday in
Texas, numbers with no zone or two, exemptions, and the area-code table."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import time_machine
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from phonenumbers import geocoder

from chatserver.rules.area_codes import AREA_CODES, NAMES
from chatserver.rules.governor import check, rules_for, state_of
from chatserver.rules.laws import RULES, Cap, Exemption

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
# Fictional numbers (555-01XX) in each state's area codes.
MIAMI = "+13055550123"  # Florida, Eastern
TULSA = "+19185550123"  # Oklahoma, Central
BALTIMORE = "+14105550123"  # Maryland, Eastern
DALLAS = "+12145550123"  # Texas, Central
EL_PASO = "+19155550123"  # Texas, Mountain
SAN_FRANCISCO = "+14155550123"  # California: the federal rule alone
SOUTH_DAKOTA = "+16055550123"  # Mountain and Central
TOLL_FREE = "+18005550123"
TORONTO = "+14165550123"

EASTERN = "America/New_York"
CENTRAL = "America/Chicago"
MOUNTAIN = "America/Denver"


def at(zone: str, *args) -> dt.datetime:
    """A wall time in ``zone`` (the first of two, on the night clocks go back)."""
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def rule_ids(verdict) -> list[str]:
    return [hold.rule.id for hold in verdict.holds]


# -- Hours at their edges ------------------------------------------------------

# A Wednesday, and one after Texas's rule reached texts (1 September 2025).
WEDNESDAY = (2025, 1, 15)
TEXAS_WEDNESDAY = (2025, 9, 10)


@pytest.mark.parametrize(
    "number, zone, day, hour, minute, allowed",
    [
        (MIAMI, EASTERN, WEDNESDAY, 7, 59, False),
        (MIAMI, EASTERN, WEDNESDAY, 8, 0, True),
        (MIAMI, EASTERN, WEDNESDAY, 19, 59, True),
        (MIAMI, EASTERN, WEDNESDAY, 20, 0, False),
        (TULSA, CENTRAL, WEDNESDAY, 7, 59, False),
        (TULSA, CENTRAL, WEDNESDAY, 8, 0, True),
        (TULSA, CENTRAL, WEDNESDAY, 19, 59, True),
        (TULSA, CENTRAL, WEDNESDAY, 20, 0, False),
        (BALTIMORE, EASTERN, WEDNESDAY, 7, 59, False),
        (BALTIMORE, EASTERN, WEDNESDAY, 8, 0, True),
        (BALTIMORE, EASTERN, WEDNESDAY, 19, 59, True),
        (BALTIMORE, EASTERN, WEDNESDAY, 20, 0, False),
        (DALLAS, CENTRAL, TEXAS_WEDNESDAY, 8, 59, False),
        (DALLAS, CENTRAL, TEXAS_WEDNESDAY, 9, 0, True),
        (DALLAS, CENTRAL, TEXAS_WEDNESDAY, 20, 59, True),
        (DALLAS, CENTRAL, TEXAS_WEDNESDAY, 21, 0, False),
        # The federal rule alone: 8:00-21:00.
        (SAN_FRANCISCO, "America/Los_Angeles", WEDNESDAY, 7, 59, False),
        (SAN_FRANCISCO, "America/Los_Angeles", WEDNESDAY, 8, 0, True),
        (SAN_FRANCISCO, "America/Los_Angeles", WEDNESDAY, 20, 59, True),
        (SAN_FRANCISCO, "America/Los_Angeles", WEDNESDAY, 21, 0, False),
    ],
)
def test_window_edges(number, zone, day, hour, minute, allowed):
    verdict = check(number, at(zone, *day, hour, minute))
    assert verdict.allowed is allowed
    if allowed:
        assert verdict.next_allowed == verdict.now
    else:
        assert verdict.next_allowed > verdict.now


def test_a_state_rule_holds_where_the_federal_one_would_not():
    verdict = check(MIAMI, at(EASTERN, *WEDNESDAY, 20, 30))
    assert rule_ids(verdict) == ["fl-hours"]
    assert verdict.held_by.citation == "Fla. Stat. 501.616(6)(a)"
    assert verdict.next_allowed == at(EASTERN, 2025, 1, 16, 8, 0)


def test_when_both_hold_the_state_rule_leads():
    verdict = check(MIAMI, at(EASTERN, *WEDNESDAY, 21, 30))
    assert rule_ids(verdict) == ["fl-hours", "us-hours"]


# -- Midnight and DST ------------------------------------------------------------


def test_after_the_window_it_waits_for_tomorrow_morning():
    verdict = check(MIAMI, at(EASTERN, *WEDNESDAY, 23, 30))
    assert verdict.next_allowed == at(EASTERN, 2025, 1, 16, 8, 0)
    assert verdict.message().endswith("It may go at 08:00 tomorrow (their time).")


def test_after_midnight_it_waits_for_this_morning():
    verdict = check(MIAMI, at(EASTERN, 2025, 1, 16, 0, 30))
    assert verdict.next_allowed == at(EASTERN, 2025, 1, 16, 8, 0)
    assert verdict.message().endswith("It may go at 08:00 today (their time).")


def test_spring_forward_the_window_opens_at_8_new_time():
    # 9 March 2025: 02:00 EST became 03:00 EDT.
    assert check(MIAMI, at(EASTERN, 2025, 3, 9, 7, 59)).next_allowed == dt.datetime(
        2025, 3, 9, 12, 0, tzinfo=UTC
    )
    assert check(MIAMI, at(EASTERN, 2025, 3, 9, 8, 0)).allowed
    # Held the evening before (EST): the next 08:00 is EDT, an hour earlier in UTC.
    verdict = check(MIAMI, at(EASTERN, 2025, 3, 8, 20, 30))
    assert verdict.next_allowed == dt.datetime(2025, 3, 9, 12, 0, tzinfo=UTC)


def test_fall_back_the_window_opens_at_8_new_time():
    # 2 November 2025: 02:00 EDT became 01:00 EST.
    verdict = check(BALTIMORE, at(EASTERN, 2025, 11, 1, 20, 30))
    assert verdict.next_allowed == dt.datetime(2025, 11, 2, 13, 0, tzinfo=UTC)
    # 01:30, a time that happens twice that night: held either time.
    for fold in (0, 1):
        night = at(EASTERN, 2025, 11, 2, 1, 30).replace(fold=fold)
        assert check(BALTIMORE, night).next_allowed == at(EASTERN, 2025, 11, 2, 8, 0)
    assert not check(BALTIMORE, at(EASTERN, 2025, 11, 2, 7, 59)).allowed
    assert check(BALTIMORE, at(EASTERN, 2025, 11, 2, 8, 0)).allowed


def test_texas_spring_forward_falls_on_a_sunday():
    # 8 March 2026 is a Sunday and the day clocks go forward: noon is CDT.
    saturday_night = at(CENTRAL, 2026, 3, 7, 22, 0)  # CST
    verdict = check(DALLAS, saturday_night)
    assert verdict.next_allowed == dt.datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
    assert not check(DALLAS, at(CENTRAL, 2026, 3, 8, 11, 59)).allowed
    assert check(DALLAS, at(CENTRAL, 2026, 3, 8, 12, 0)).allowed


# -- Sunday in Texas -------------------------------------------------------------


def test_texas_sunday_opens_at_noon():
    sunday = (2025, 9, 7)
    verdict = check(DALLAS, at(CENTRAL, *sunday, 11, 59))
    assert rule_ids(verdict) == ["tx-hours"]
    assert verdict.next_allowed == at(CENTRAL, *sunday, 12, 0)
    assert check(DALLAS, at(CENTRAL, *sunday, 12, 0)).allowed
    assert check(DALLAS, at(CENTRAL, *sunday, 20, 59)).allowed
    assert not check(DALLAS, at(CENTRAL, *sunday, 21, 0)).allowed


def test_texas_saturday_opens_at_9_and_its_night_waits_for_sunday_noon():
    saturday = (2025, 9, 6)
    assert check(DALLAS, at(CENTRAL, *saturday, 9, 0)).allowed
    assert check(DALLAS, at(CENTRAL, *saturday, 8, 59)).next_allowed == at(
        CENTRAL, *saturday, 9, 0
    )
    verdict = check(DALLAS, at(CENTRAL, *saturday, 21, 30))
    assert verdict.next_allowed == at(CENTRAL, 2025, 9, 7, 12, 0)


def test_texas_rule_reaches_texts_from_1_september_2025():
    # Sunday 31 August 2025, 10:00: only the federal rule applies.
    verdict = check(DALLAS, at(CENTRAL, 2025, 8, 31, 10, 0))
    assert verdict.allowed
    assert [rule.id for rule in verdict.rules] == ["us-hours"]


# -- Caps over a sliding 24 hours --------------------------------------------------


def test_a_fourth_text_waits_until_24_hours_after_the_first():
    t = at(EASTERN, *WEDNESDAY, 10, 0)
    prior = [t, t + HOUR, t + 2 * HOUR]
    verdict = check(MIAMI, t + 3 * HOUR, prior)
    assert rule_ids(verdict) == ["fl-cap"]
    assert verdict.next_allowed == t + 24 * HOUR
    assert not check(MIAMI, t + 24 * HOUR - dt.timedelta(seconds=1), prior).allowed
    assert check(MIAMI, t + 24 * HOUR, prior).allowed


def test_a_text_sent_25_hours_ago_does_not_count():
    t = at(EASTERN, *WEDNESDAY, 10, 0)
    prior = [t - 25 * HOUR, t - 2 * HOUR, t - HOUR]
    assert check(MIAMI, t, prior).allowed


@pytest.mark.parametrize(
    "number, zone, cap", [(TULSA, CENTRAL, "ok-cap"), (BALTIMORE, EASTERN, "md-cap")]
)
def test_oklahoma_and_maryland_cap_too(number, zone, cap):
    t = at(zone, *WEDNESDAY, 9, 0)
    verdict = check(number, t + 3 * HOUR, [t, t + HOUR, t + 2 * HOUR])
    assert rule_ids(verdict) == [cap]
    assert verdict.next_allowed == t + 24 * HOUR


def test_texas_and_the_federal_rule_have_no_cap():
    t = at(CENTRAL, *TEXAS_WEDNESDAY, 10, 0)
    prior = [t, t + HOUR, t + 2 * HOUR]
    assert check(DALLAS, t + 3 * HOUR, prior).allowed
    assert check(SAN_FRANCISCO, t + 3 * HOUR, prior).allowed


def test_the_cap_slides_over_elapsed_hours_across_a_dst_change():
    # Saturday 1 November 2025, EDT; 24 hours later is 09:00 EST, not 10:00.
    t = at(EASTERN, 2025, 11, 1, 10, 0)
    verdict = check(MIAMI, t + 3 * HOUR, [t, t + HOUR, t + 2 * HOUR])
    assert verdict.next_allowed == at(EASTERN, 2025, 11, 2, 9, 0)


def test_a_cap_counts_elapsed_hours_whatever_zone_its_times_are_in():
    cap = Cap(count=3, period=24 * HOUR)
    t = at(EASTERN, 2025, 11, 1, 10, 0)  # EDT; a day later it is EST
    prior = [t, t + HOUR, t + 2 * HOUR]
    assert not cap.allows(at(EASTERN, 2025, 11, 2, 8, 59), prior)
    assert cap.allows(at(EASTERN, 2025, 11, 2, 9, 0), prior)


def test_a_cap_and_a_window_together_wait_for_both():
    # Three texts late in the evening; the fourth waits for the cap, which
    # frees it the next evening inside the window.
    t = at(EASTERN, *WEDNESDAY, 19, 0)
    prior = [t, t + dt.timedelta(minutes=15), t + dt.timedelta(minutes=30)]
    verdict = check(MIAMI, t + dt.timedelta(minutes=45), prior)
    assert verdict.next_allowed == t + 24 * HOUR
    # After 20:00 both hold; the cap binds longer.
    verdict = check(MIAMI, t + dt.timedelta(minutes=90), prior)
    assert rule_ids(verdict) == ["fl-cap", "fl-hours"]
    assert verdict.next_allowed == t + 24 * HOUR


# -- Numbers with no zone of their own, or two -----------------------------------


def test_a_toll_free_number_gets_the_federal_rule_in_the_fallback_zone():
    verdict = check(
        TOLL_FREE,
        at("America/Los_Angeles", *WEDNESDAY, 7, 30),
        fallback_zone="America/Los_Angeles",
    )
    assert verdict.state is None
    assert verdict.zones == ("America/Los_Angeles",)
    assert [rule.id for rule in verdict.rules] == ["us-hours"]
    assert verdict.next_allowed == at("America/Los_Angeles", *WEDNESDAY, 8, 0)


def test_the_fallback_zone_is_the_servers_by_default(settings):
    settings.TIME_ZONE = CENTRAL
    verdict = check(TOLL_FREE, at(CENTRAL, *WEDNESDAY, 21, 0))
    assert verdict.zones == (CENTRAL,)
    assert verdict.next_allowed == at(CENTRAL, 2025, 1, 16, 8, 0)


def test_a_canadian_number_gets_the_federal_rule_in_its_own_zone():
    verdict = check(TORONTO, at("America/Toronto", *WEDNESDAY, 20, 30))
    assert verdict.state is None
    assert verdict.allowed


def test_el_paso_is_texas_on_mountain_time():
    sunday_1130_mountain = at(MOUNTAIN, 2025, 9, 7, 11, 30)  # 12:30 in Dallas
    verdict = check(EL_PASO, sunday_1130_mountain)
    assert verdict.zones == (MOUNTAIN,)
    assert rule_ids(verdict) == ["tx-hours"]
    assert verdict.next_allowed == at(MOUNTAIN, 2025, 9, 7, 12, 0)
    assert check(DALLAS, sunday_1130_mountain).allowed
    # 21:30 in Dallas is 20:30 in El Paso.
    evening = at(CENTRAL, *TEXAS_WEDNESDAY, 21, 30)
    assert check(EL_PASO, evening).allowed
    assert not check(DALLAS, evening).allowed


def test_a_number_in_two_zones_waits_for_the_later_morning():
    # 08:30 Central is 07:30 Mountain: held until 08:00 Mountain.
    verdict = check(SOUTH_DAKOTA, at(CENTRAL, *WEDNESDAY, 8, 30))
    assert set(verdict.zones) == {MOUNTAIN, "America/North_Dakota/Center"}
    assert verdict.next_allowed == at(MOUNTAIN, *WEDNESDAY, 8, 0)


# -- Exemptions and the organisation's choices -----------------------------------


def test_a_texas_lead_who_asked_for_the_text_may_get_it_on_sunday_morning():
    verdict = check(
        DALLAS, at(CENTRAL, 2025, 9, 7, 10, 0), exemptions={Exemption.CONSUMER_REQUEST}
    )
    assert verdict.allowed
    assert verdict.rules == ()
    assert [rule.id for rule in verdict.exempted] == ["us-hours", "tx-hours"]


def test_florida_recognises_no_exemption_from_its_hours_or_cap():
    verdict = check(MIAMI, at(EASTERN, *WEDNESDAY, 20, 30), exemptions=set(Exemption))
    assert rule_ids(verdict) == ["fl-hours"]
    assert [rule.id for rule in verdict.exempted] == ["us-hours"]


def test_an_established_relationship_lifts_the_federal_rule():
    verdict = check(
        SAN_FRANCISCO,
        at("America/Los_Angeles", *WEDNESDAY, 22, 0),
        exemptions=[Exemption.ESTABLISHED_BUSINESS_RELATIONSHIP],
    )
    assert verdict.allowed


def test_a_text_the_organisation_does_not_count_as_a_solicitation_is_not_governed():
    verdict = check(MIAMI, at(EASTERN, *WEDNESDAY, 22, 0), solicitation=False)
    assert verdict.allowed and verdict.rules == ()


@examples(max_examples=80, deadline=None)
@given(
    number=st.sampled_from([MIAMI, TULSA, BALTIMORE, DALLAS, EL_PASO, SOUTH_DAKOTA]),
    now=st.datetimes(
        min_value=dt.datetime(2025, 9, 1), max_value=dt.datetime(2026, 12, 31)
    ).map(lambda naive: naive.replace(tzinfo=UTC)),
    ages=st.lists(st.integers(min_value=0, max_value=30 * 3600), max_size=5),
)
def test_next_allowed_is_the_first_instant_every_rule_allows(number, now, ages):
    prior = [now - dt.timedelta(seconds=age) for age in ages]
    verdict = check(number, now, prior)
    assert verdict.next_allowed is not None
    assert check(number, verdict.next_allowed, prior).allowed
    if not verdict.allowed:
        just_before = verdict.next_allowed - dt.timedelta(seconds=1)
        assert just_before < now or not check(number, just_before, prior).allowed


# -- What a held text says ---------------------------------------------------------


def test_the_sentence_a_held_text_shows():
    verdict = check(MIAMI, at(EASTERN, *WEDNESDAY, 20, 30))
    assert verdict.message() == (
        "Held by Florida's Telemarketing Act (Fla. Stat. 501.616(6)(a)): texts to"
        " Florida numbers may go 8:00-20:00 their time. It may go at 08:00 tomorrow"
        " (their time)."
    )
    assert check(MIAMI, at(EASTERN, *WEDNESDAY, 12, 0)).message() == ""


def test_the_sentences_for_texas_and_for_a_cap():
    texas = check(DALLAS, at(CENTRAL, 2025, 9, 7, 11, 0)).message()
    assert "may go 9:00-21:00 Monday to Saturday and 12:00-21:00 on Sunday" in texas
    assert texas.endswith("It may go at 12:00 today (their time).")
    t = at(CENTRAL, *WEDNESDAY, 10, 0)
    capped = check(TULSA, t + 3 * HOUR, [t, t + HOUR, t + 2 * HOUR]).message()
    assert capped == (
        "Held by Oklahoma's Telephone Solicitation Act (15 O.S. 775C.4): at most 3"
        " texts to one Oklahoma number on the same subject in any 24 hours. It may"
        " go at 10:00 tomorrow (their time)."
    )


def test_the_clock_is_read_when_now_is_not_given():
    with time_machine.travel(at(EASTERN, *WEDNESDAY, 20, 15), tick=False):
        verdict = check(BALTIMORE)
    assert rule_ids(verdict) == ["md-hours"]
    assert verdict.next_allowed == at(EASTERN, 2025, 1, 16, 8, 0)


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        check(MIAMI, dt.datetime(2025, 1, 15, 12, 0))


# -- The rules as data, and where a number is presumed to be ---------------------


def test_every_rule_has_its_source_and_date():
    assert len({rule.id for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.jurisdiction == "US" or rule.jurisdiction in NAMES
        assert rule.citation and rule.summary and rule.checked and rule.law
        assert isinstance(rule.effective, dt.date)
        assert rule.hours is not None or rule.cap is not None
        assert rule.hours is None or len(rule.hours) == 7


@pytest.mark.parametrize(
    "on, expected",
    [
        (dt.date(2025, 8, 31), {"FL": 2, "OK": 2, "MD": 2, "TX": 0}),
        (dt.date(2025, 9, 1), {"FL": 2, "OK": 2, "MD": 2, "TX": 1}),
        (dt.date(2023, 12, 31), {"FL": 2, "OK": 2, "MD": 0, "TX": 0}),
        (dt.date(2022, 10, 31), {"FL": 2, "OK": 0, "MD": 0, "TX": 0}),
        (dt.date(2021, 6, 30), {"FL": 0, "OK": 0, "MD": 0, "TX": 0}),
    ],
)
def test_rules_for_follows_effective_dates(on, expected):
    for state, count in expected.items():
        number = {"FL": MIAMI, "OK": TULSA, "MD": BALTIMORE, "TX": DALLAS}[state]
        found = rules_for(number, on)
        assert found[0].id == "us-hours"
        assert len(found) == 1 + count


# The four states' area codes in full, checked by hand against NANPA's list.
STATE_CODES = {
    "FL": "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813"
    " 850 863 904 941 954",
    "OK": "405 539 572 580 918",
    "MD": "227 240 301 410 443 667",
    "TX": "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817"
    " 830 832 903 915 936 940 945 956 972 979",
}


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_governed_states_area_codes_are_complete(state):
    table = {code for code, where in AREA_CODES.items() if where == state}
    assert table == set(STATE_CODES[state].split())
    for code in table:
        assert state_of(f"+1{code}5550123") == state


def test_every_state_and_dc_has_area_codes():
    assert set(AREA_CODES.values()) == set(NAMES)
    assert len(NAMES) == 50 + 1 + 5  # states, DC, inhabited territories


def test_the_table_agrees_with_phonenumbers_geocoder():
    # The geocoder names a state, or a city with its state's abbreviation.
    by_name = {name: code for code, name in NAMES.items()}
    by_name |= {"Washington State": "WA", "Washington D.C.": "DC"}
    for npa in range(200, 1000):
        parsed = phonenumbers.parse(f"+1{npa}5550123")
        region = phonenumbers.region_code_for_number(parsed)
        if region not in {"US", "PR", "VI", "GU", "MP", "AS"}:
            assert str(npa) not in AREA_CODES
            continue
        description = geocoder.description_for_number(parsed, "en")
        match = re.search(r", ([A-Z]{2})$", description)
        expected = by_name.get(description) or (match and match.group(1))
        if region != "US":
            expected = region
        assert AREA_CODES.get(str(npa)) == (expected or None), npa


@pytest.mark.parametrize(
    "number",
    [
        TOLL_FREE,
        "+19005550123",
        "+15005550123",
        TORONTO,
        "+447700900123",  # Ofcom's range for drama: fictional
        "not a number",
        "+1305555012",
    ],
)
def test_numbers_tied_to_no_state(number):
    assert state_of(number) is None


def test_territories_and_dc_are_presumed_too():
    assert state_of("+17875550123") == "PR"
    assert state_of("+12025550123") == "DC"
    assert [rule.id for rule in rules_for("+17875550123", dt.date(2025, 1, 1))] == [
        "us-hours"
    ]

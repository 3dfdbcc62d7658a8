"""Quiet hours in the recipient's local time, on a frozen clock: time zones,
DST, numbers spanning several zones, refusals, and scheduled sends."""

import datetime

import pytest
import time_machine

from chatserver import actions, shapes
from chatserver.actions import scheduled
from chatserver.actions import delivery as sending
from chatserver.models import Consent, Message, Organisation
from chatserver.queries.compliance import QuietHours
from chatserver.rules import quiet_hours
from chatserver.worker import loop as outbox
from tests.chatserver.consent_support import inbound, manual_lead, outbound, state

UTC = datetime.UTC
LOS_ANGELES = "+14155550123"
NEW_YORK = "+12125550123"
# South Dakota's 605 spans Mountain and Central time.
MOUNTAIN_AND_CENTRAL = "+16055550123"
TOLL_FREE = "+18005550123"  # phonenumbers lists every North American zone

DEFAULT = quiet_hours.Window(datetime.time(21), datetime.time(8))


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def enforce_quiet_hours(settings):
    settings.ENFORCE_QUIET_HOURS = True


@pytest.mark.parametrize(
    "number, now, next_allowed",
    [
        # 20:00 in Los Angeles: allowed.
        (LOS_ANGELES, utc(2025, 1, 15, 4, 0), None),
        # 21:30 there: quiet until 08:00 PST.
        (LOS_ANGELES, utc(2025, 1, 15, 5, 30), utc(2025, 1, 15, 16, 0)),
        # The same instant is 00:30 in New York: quiet until 08:00 EST.
        (NEW_YORK, utc(2025, 1, 15, 5, 30), utc(2025, 1, 15, 13, 0)),
        # The edges: 21:00 is quiet, 08:00 is allowed, 07:59 is not.
        (NEW_YORK, utc(2025, 1, 15, 2, 0), utc(2025, 1, 15, 13, 0)),
        (NEW_YORK, utc(2025, 1, 15, 13, 0), None),
        (NEW_YORK, utc(2025, 1, 15, 12, 59), utc(2025, 1, 15, 13, 0)),
        # DST starts on 9 March 2025: 12:30 UTC is 07:30 EST the day before
        # (quiet) and 08:30 EDT that day (allowed).
        (NEW_YORK, utc(2025, 3, 8, 12, 30), utc(2025, 3, 8, 13, 0)),
        (NEW_YORK, utc(2025, 3, 9, 12, 30), None),
        # 22:00 EST on the 8th: the next 08:00 is already EDT, an hour earlier in UTC.
        (NEW_YORK, utc(2025, 3, 9, 3, 0), utc(2025, 3, 9, 12, 0)),
        # DST ends on 2 November: 22:00 EDT on the 1st waits for 08:00 EST.
        (NEW_YORK, utc(2025, 11, 2, 2, 0), utc(2025, 11, 2, 13, 0)),
        # 01:30 in Los Angeles, a time that happens twice that night.
        (LOS_ANGELES, utc(2025, 11, 2, 9, 30), utc(2025, 11, 2, 16, 0)),
        # Two zones: the strictest wins. 07:30 Mountain / 08:30 Central ...
        (MOUNTAIN_AND_CENTRAL, utc(2025, 1, 15, 14, 30), utc(2025, 1, 15, 15, 0)),
        # ... and 20:30 Mountain / 21:30 Central are both quiet.
        (MOUNTAIN_AND_CENTRAL, utc(2025, 1, 16, 3, 30), utc(2025, 1, 16, 15, 0)),
        (MOUNTAIN_AND_CENTRAL, utc(2025, 1, 15, 20, 0), None),
    ],
)
def test_quiet_hours_are_the_recipients_local_time(number, now, next_allowed):
    verdict = quiet_hours.check(number, DEFAULT, now)
    assert verdict.quiet == (next_allowed is not None)
    assert verdict.next_allowed == next_allowed


def test_a_number_tied_to_no_place_uses_the_servers_time_zone(settings):
    settings.TIME_ZONE = "America/Chicago"
    verdict = quiet_hours.check(TOLL_FREE, DEFAULT, utc(2025, 1, 15, 13, 30))
    assert verdict.zones == ("America/Chicago",)
    assert verdict.next_allowed == utc(2025, 1, 15, 14, 0)  # 08:00 in Chicago


def test_zones_with_no_common_allowed_hour_use_the_servers_time_zone(settings):
    settings.TIME_ZONE = "America/Chicago"
    # Australian mobiles may be anywhere from Perth (UTC+8) to Lord Howe
    # Island (UTC+11): a 09:00-10:00 window is never open in all of them.
    one_hour = quiet_hours.Window(datetime.time(10), datetime.time(9))
    verdict = quiet_hours.check("+61491570110", one_hour, utc(2025, 1, 15, 13, 30))
    assert verdict.zones == ("America/Chicago",)
    assert verdict.next_allowed == utc(2025, 1, 15, 15, 0)  # 09:00 in Chicago


def test_a_number_gets_each_of_its_zones():
    assert quiet_hours.number_zones(MOUNTAIN_AND_CENTRAL) == (
        "America/Denver",
        "America/North_Dakota/Center",
    )


def test_quiet_hours_are_configurable_per_organisation():
    evening = quiet_hours.Window(datetime.time(20), datetime.time(9))
    assert quiet_hours.check(LOS_ANGELES, evening, utc(2025, 1, 15, 4, 30)).quiet
    assert not quiet_hours.check(LOS_ANGELES, DEFAULT, utc(2025, 1, 15, 4, 30)).quiet
    # A daytime window that does not span midnight.
    siesta = quiet_hours.Window(datetime.time(13), datetime.time(15))
    verdict = quiet_hours.check(LOS_ANGELES, siesta, utc(2025, 1, 15, 21, 0))  # 13:00
    assert verdict.next_allowed == utc(2025, 1, 15, 23, 0)
    # The same start and end: no quiet hours at all.
    never = quiet_hours.Window(datetime.time(21), datetime.time(21))
    assert not quiet_hours.check(LOS_ANGELES, never, utc(2025, 1, 15, 5, 30)).quiet


# -- sends in quiet hours ------------------------------------------------------


@pytest.fixture
def la_conversation(db, org, sender):
    """A lead in Los Angeles who texted in first (so is Authorized), at noon."""
    with time_machine.travel(utc(2025, 1, 14, 20, 0), tick=False):
        return inbound(sender, LOS_ANGELES, "Can I get a quote?").conversation


NIGHT = utc(2025, 1, 15, 5, 30)  # 21:30 in Los Angeles
MORNING = utc(2025, 1, 15, 16, 0)  # 08:00 there


@pytest.mark.django_db
def test_a_send_in_quiet_hours_is_refused_with_the_leads_local_time(
    org, alice, la_conversation
):
    with time_machine.travel(NIGHT, tick=False):
        with pytest.raises(QuietHours) as refused:
            actions.send_message(alice, la_conversation, "Still up?")
    error = refused.value
    assert error.code == "quiet_hours"
    assert "21:30 (America/Los_Angeles)" in error.reason
    assert "08:00 to 21:00" in error.reason
    assert "at 08:00 tomorrow their time" in error.reason
    assert error.details["next_allowed"] == MORNING.isoformat()
    assert error.details["local_times"]["America/Los_Angeles"].startswith(
        "2025-01-14T21:30:00-08:00"
    )
    assert outbound(LOS_ANGELES) == []
    assert sending.due_message_ids() == []


@pytest.mark.django_db
def test_an_organisation_with_other_quiet_hours_is_held_to_its_own(
    org, alice, la_conversation
):
    Organisation.objects.filter(pk=org.pk).update(
        quiet_hours_start=datetime.time(22), quiet_hours_end=datetime.time(7)
    )
    with time_machine.travel(NIGHT, tick=False):  # 21:30: allowed now
        message = actions.send_message(alice, la_conversation, "Quick question")
    assert message.status == Message.Status.QUEUED


@pytest.mark.django_db
def test_a_send_scheduled_in_quiet_hours_waits_for_the_next_allowed_time(
    org, alice, la_conversation
):
    with time_machine.travel(NIGHT, tick=False):
        message = actions.send_message(
            alice, la_conversation, "Morning!", schedule=True
        )
    assert message.status == Message.Status.SCHEDULED
    assert message.send_after == MORNING
    assert shapes.message_data(message)["scheduled_for"] == MORNING.isoformat()
    with time_machine.travel(MORNING - datetime.timedelta(minutes=1), tick=False):
        assert scheduled.release_scheduled() == 0
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    with time_machine.travel(MORNING + datetime.timedelta(seconds=5), tick=False):
        assert scheduled.release_scheduled() == 1
        assert sending.due_message_ids() == [message.id]
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED


@pytest.mark.django_db
def test_scheduling_outside_quiet_hours_sends_at_once(org, alice, la_conversation):
    with time_machine.travel(MORNING, tick=False):
        message = actions.send_message(alice, la_conversation, "Hi", schedule=True)
    assert message.status == Message.Status.QUEUED and message.send_after is None


@pytest.mark.django_db
def test_a_lead_who_opts_out_before_the_hour_gets_nothing(
    org, sender, alice, la_conversation
):
    with time_machine.travel(NIGHT, tick=False):
        message = actions.send_message(
            alice, la_conversation, "Morning!", schedule=True
        )
        inbound(sender, LOS_ANGELES, "STOP")
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "opted_out")
    with time_machine.travel(MORNING + datetime.timedelta(minutes=1), tick=False):
        assert scheduled.release_scheduled() == 0
        # Only the opt-out confirmation (sent at once, quiet hours or not) is due.
        assert [Message.objects.get(pk=i).kind for i in sending.due_message_ids()] == [
            "auto_reply"
        ]


@pytest.mark.django_db
def test_a_scheduled_message_is_checked_again_when_its_hour_comes(
    org, alice, bob, la_conversation
):
    with time_machine.travel(NIGHT, tick=False):
        revoked = actions.send_message(alice, la_conversation, "One", schedule=True)
        reassigned = actions.send_message(alice, la_conversation, "Two", schedule=True)
    # Consent changed without the actions' help (an admin's edit, say) ...
    Consent.objects.filter(number=LOS_ANGELES).update(state=Consent.State.REVOKED)
    with time_machine.travel(MORNING, tick=False):
        assert scheduled.release_scheduled() == 0
    revoked.refresh_from_db()
    assert revoked.status == Message.Status.FAILED
    assert (
        revoked.error_code == "consent_revoked" and "opted out" in revoked.error_reason
    )

    Consent.objects.filter(number=LOS_ANGELES).update(state=Consent.State.AUTHORIZED)
    with time_machine.travel(NIGHT + datetime.timedelta(days=1), tick=False):
        again = actions.send_message(alice, la_conversation, "Three", schedule=True)
    actions.assign_lead(la_conversation.lead, bob, actor=alice)
    with time_machine.travel(MORNING + datetime.timedelta(days=1), tick=False):
        assert scheduled.release_scheduled() == 0
    again.refresh_from_db()
    assert again.status == Message.Status.FAILED
    assert again.error_reason == "This lead is assigned to Bob."
    assert reassigned.pk != again.pk


@pytest.mark.django_db
def test_a_scheduled_message_still_in_quiet_hours_waits_again(
    org, alice, la_conversation
):
    with time_machine.travel(NIGHT, tick=False):
        message = actions.send_message(alice, la_conversation, "Hi", schedule=True)
    # The organisation moved its mornings to 10:00 meanwhile.
    Organisation.objects.filter(pk=org.pk).update(quiet_hours_end=datetime.time(10))
    with time_machine.travel(MORNING, tick=False):
        assert scheduled.release_scheduled() == 0
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    assert message.send_after == MORNING + datetime.timedelta(hours=2)


@pytest.mark.django_db
def test_an_authorization_request_also_keeps_quiet_hours(org, sender, alice):
    conversation = manual_lead(org, sender, NEW_YORK)
    with time_machine.travel(NIGHT, tick=False):  # 00:30 in New York
        with pytest.raises(QuietHours):
            actions.request_authorization(alice, conversation)
        assert state(org, NEW_YORK) == Consent.State.NOT_AUTHORIZED
        request = actions.request_authorization(alice, conversation, schedule=True)
    assert request.status == Message.Status.SCHEDULED
    assert request.send_after == utc(2025, 1, 15, 13, 0)
    assert state(org, NEW_YORK) == Consent.State.PENDING


@pytest.mark.django_db
def test_keyword_replies_go_at_once_even_in_quiet_hours(org, sender, la_conversation):
    with time_machine.travel(NIGHT, tick=False):
        inbound(sender, LOS_ANGELES, "HELP")
        [reply] = outbound(LOS_ANGELES, kind=Message.Kind.AUTO_REPLY)
        assert reply.status == Message.Status.QUEUED and reply.send_after is None
        assert sending.due_message_ids() == [reply.id]


# -- through the real outbox and the simulated phone network --------------------


@pytest.fixture
def phones(settings, tmp_path):
    """The simulator's phone network, empty, for this test only."""
    from carriers import phone_network

    settings.SIMULATOR_DIR = tmp_path / "simulator"
    # Its delivery receipts go nowhere reachable from a test; none are needed.
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"
    return phone_network.network()


@pytest.mark.django_db(transaction=True)
def test_the_outbox_delivers_a_scheduled_text_when_the_hour_comes(
    org, alice, la_conversation, phones
):
    with time_machine.travel(NIGHT, tick=False):
        message = actions.send_message(
            alice, la_conversation, "Good morning, your quote is ready", schedule=True
        )
        outbox.run_once()
    assert phones.messages(LOS_ANGELES) == []
    with time_machine.travel(MORNING + datetime.timedelta(seconds=1), tick=False):
        outbox.run_once()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    [received] = phones.messages(LOS_ANGELES)
    assert received["body"].endswith("Good morning, your quote is ready")


@pytest.mark.django_db(transaction=True)
def test_a_carrier_that_says_the_lead_opted_out_revokes_the_number(
    org, alice, la_conversation, phones
):
    phones.set_mode(LOS_ANGELES, "opted_out")
    with time_machine.travel(MORNING, tick=False):
        message = actions.send_message(alice, la_conversation, "Your quote")
        outbox.run_once()
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "21610")
    assert state(org, LOS_ANGELES) == Consent.State.REVOKED
    with pytest.raises(actions.ActionError) as refused:
        actions.send_message(alice, la_conversation, "Hello?")
    assert refused.value.code == "consent_revoked"

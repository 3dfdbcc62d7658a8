"""The send governor applied to real sends, on a frozen clock: a follow-up to a
Florida lead after 20:00 is held and says until when, a reply is not, the caps
count what went, Texas's Sunday, scheduled and automatic texts at release,
authorization requests, the organisation's choice, and the JSON API."""

import datetime
import json

import pytest
import time_machine

from chatserver import actions
from chatserver.actions import scheduled
from chatserver.actions.messages import queue_message
from chatserver.models import Event, Message, Organisation
from chatserver.queries.governed import SWITCHES, GovernorHold, is_solicitation
from tests.chatserver.consent_support import inbound, manual_lead, outbound

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
FLORIDA = "+13055550123"  # Miami: Eastern
OKLAHOMA = "+14055550123"  # Oklahoma City: Central
TEXAS = "+12145550123"  # Dallas: Central
CALIFORNIA = "+14155550123"  # federal rule only


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


# Wednesday 15 January 2025, 10:00 in Miami: the lead writes in.
FIRST_TEXT = utc(2025, 1, 15, 15, 0)
# Thursday 16 January, 20:30 in Miami: after Florida's 20:00, before the
# organisation's quiet hours (21:00) and the federal 21:00; over a day after
# the lead wrote, so a follow-up.
EVENING = utc(2025, 1, 17, 1, 30)
NEXT_MORNING = utc(2025, 1, 17, 13, 0)  # 08:00 in Miami


@pytest.fixture(autouse=True)
def enforce(settings):
    settings.ENFORCE_SEND_GOVERNOR = True
    settings.ENFORCE_QUIET_HOURS = True


def lead_who_wrote(sender, number, when=FIRST_TEXT):
    with time_machine.travel(when, tick=False):
        return inbound(sender, number, "Can I get a quote?").conversation


def test_a_follow_up_to_florida_after_20_is_held_and_says_until_when(
    sender, alice
):
    conversation = lead_who_wrote(sender, FLORIDA)
    with time_machine.travel(EVENING, tick=False):
        with pytest.raises(GovernorHold) as held:
            actions.send_message(alice, conversation, "Still thinking about it?")
    error = held.value
    assert error.code == "governor_hold"
    assert error.reason.startswith("Held by Florida")
    assert "501.616(6)" in error.reason
    assert "It may go at 08:00 tomorrow (their time)." in error.reason
    assert error.details["next_allowed"] == NEXT_MORNING.isoformat()
    assert error.details["rule"] == "fl-hours"
    assert [m.kind for m in outbound(FLORIDA)] == []


def test_a_held_follow_up_can_be_scheduled_for_when_the_law_allows(sender, alice):
    conversation = lead_who_wrote(sender, FLORIDA)
    with time_machine.travel(EVENING, tick=False):
        message = actions.send_message(
            alice, conversation, "Still thinking about it?", schedule=True
        )
    assert message.status == Message.Status.SCHEDULED
    assert message.send_after == NEXT_MORNING
    with time_machine.travel(NEXT_MORNING + datetime.timedelta(seconds=5), tick=False):
        assert scheduled.release_scheduled() == 1
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.governed  # the caps count it from now


def test_a_reply_to_a_lead_who_just_wrote_is_not_held(sender, alice):
    conversation = lead_who_wrote(sender, FLORIDA, EVENING - datetime.timedelta(minutes=20))
    with time_machine.travel(EVENING, tick=False):
        message = actions.send_message(alice, conversation, "Yes, $4,200 all in.")
    assert message.status == Message.Status.QUEUED
    assert not message.governed


def test_every_governed_kind_counts_as_a_solicitation_until_the_organisation_decides(
    org,
):
    assert all(is_solicitation(org, kind) for kind in SWITCHES)
    assert set(SWITCHES) == {"follow_up", "scheduled", "automatic", "authorization_request"}


def test_an_organisation_that_does_not_count_follow_ups_as_solicitations(
    org, sender, alice
):
    Organisation.objects.filter(pk=org.pk).update(solicit_follow_ups=False)
    conversation = lead_who_wrote(sender, FLORIDA)
    with time_machine.travel(EVENING, tick=False):
        message = actions.send_message(alice, conversation, "Still thinking about it?")
    assert message.status == Message.Status.QUEUED


def test_the_third_follow_up_in_24_hours_is_the_last_in_oklahoma(sender, alice):
    conversation = lead_who_wrote(sender, OKLAHOMA)
    # Friday 17 January at 10:00, 11:00 and 12:00 in Oklahoma City (CST).
    for hour in (16, 17, 18):
        with time_machine.travel(utc(2025, 1, 17, hour, 0), tick=False):
            sent = actions.send_message(alice, conversation, f"Update {hour}")
        assert sent.status == Message.Status.QUEUED and sent.governed
    with time_machine.travel(utc(2025, 1, 17, 19, 0), tick=False):
        with pytest.raises(GovernorHold) as held:
            actions.send_message(alice, conversation, "One more thing")
    assert held.value.details["rule"] == "ok-cap"
    assert "at most 3" in held.value.reason
    # The first of the three stops counting 24 hours after it went.
    assert held.value.details["next_allowed"] == utc(2025, 1, 18, 16, 0).isoformat()
    # A text that failed never reached the lead, so it frees its place.
    Message.objects.filter(body__endswith="Update 16").update(status=Message.Status.FAILED)
    with time_machine.travel(utc(2025, 1, 17, 19, 0), tick=False):
        assert actions.send_message(alice, conversation, "One more thing").governed


def test_texas_on_sunday_waits_for_noon(sender, alice):
    conversation = lead_who_wrote(sender, TEXAS)
    # Texas's hours govern texts from SB 140's date, 1 September 2025.
    sunday_10 = utc(2026, 1, 18, 16, 0)  # 10:00 CST, Sunday 18 January 2026
    with time_machine.travel(sunday_10, tick=False):
        with pytest.raises(GovernorHold) as held:
            actions.send_message(alice, conversation, "Are you home today?")
    assert held.value.details["rule"] == "tx-hours"
    assert held.value.details["next_allowed"] == utc(2026, 1, 18, 18, 0).isoformat()


def test_a_scheduled_text_the_law_holds_at_release_waits_and_consoles_see_when(
    org, sender, alice
):
    conversation = lead_who_wrote(sender, FLORIDA)
    with time_machine.travel(EVENING - datetime.timedelta(hours=3), tick=False):
        message = queue_message(
            conversation, "Checking in", author=alice, send_after=EVENING
        )
    with time_machine.travel(EVENING + datetime.timedelta(seconds=5), tick=False):
        assert scheduled.release_scheduled() == 0
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    assert message.send_after == NEXT_MORNING
    updated = Event.objects.filter(organisation=org, type="message.updated").last()
    assert updated.payload["message"]["id"] == message.id
    assert updated.payload["message"]["scheduled_for"] == NEXT_MORNING.isoformat()
    with time_machine.travel(NEXT_MORNING + datetime.timedelta(seconds=5), tick=False):
        assert scheduled.release_scheduled() == 1


def test_an_automatic_text_is_governed_as_the_organisation_chose(org, sender):
    conversation = lead_who_wrote(sender, FLORIDA)
    with time_machine.travel(EVENING - datetime.timedelta(hours=1), tick=False):
        automatic = queue_message(conversation, "Day 2: any questions?", send_after=EVENING)
    with time_machine.travel(EVENING + datetime.timedelta(seconds=5), tick=False):
        assert scheduled.release_scheduled() == 0  # held: a solicitation by default
        Organisation.objects.filter(pk=org.pk).update(solicit_automatic=False)
        Message.objects.filter(pk=automatic.pk).update(send_after=EVENING)
        assert scheduled.release_scheduled() == 1
    automatic.refresh_from_db()
    assert automatic.status == Message.Status.QUEUED and not automatic.governed


def test_an_authorization_request_is_governed(org, sender, alice):
    conversation = manual_lead(org, sender, FLORIDA)
    with time_machine.travel(EVENING, tick=False):
        with pytest.raises(GovernorHold):
            actions.request_authorization(alice, conversation)
    assert outbound(FLORIDA) == []
    with time_machine.travel(NEXT_MORNING, tick=False):
        message = actions.request_authorization(alice, conversation)
    assert message.status == Message.Status.QUEUED and message.governed


def test_the_federal_window_alone_where_no_state_law_applies(sender, alice):
    conversation = lead_who_wrote(sender, CALIFORNIA)
    # 20:30 in Los Angeles: the federal window (8:00-21:00) lets it go.
    with time_machine.travel(utc(2025, 1, 17, 4, 30), tick=False):
        assert actions.send_message(alice, conversation, "Hi again").governed


def test_a_held_text_through_the_api(client, sender, alice):
    client.force_login(alice.user)
    conversation = lead_who_wrote(sender, FLORIDA)
    path = f"/api/conversations/{conversation.id}/messages"

    def post(data):
        response = client.post(path, json.dumps(data), content_type="application/json")
        return response.status_code, response.json()

    with time_machine.travel(EVENING, tick=False):
        status, body = post({"body": "Still thinking about it?"})
        assert status == 409
        assert body["error"]["code"] == "governor_hold"
        assert body["error"]["details"]["next_allowed"] == NEXT_MORNING.isoformat()
        status, body = post({"body": "Still thinking about it?", "schedule": True})
    assert status == 201
    assert body["message"]["scheduled_for"] == NEXT_MORNING.isoformat()


def test_an_admin_finds_the_four_switches_together_in_the_organisations_page(
    admin_client, org
):
    page = admin_client.get(f"/admin/chatserver/organisation/{org.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Send governor: which texts count as solicitations" in html
    for field in SWITCHES.values():
        assert f'name="{field}"' in html
    assert 'name="quiet_hours_start"' in html  # the rest of the page is still there

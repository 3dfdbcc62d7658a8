"""Scheduled texts ("Send later", issue 20): asked for with ``send_at``,
refused with a clear 4xx when the time or the send is wrong, changed or
cancelled until they go, cancelled when the lead texts first, and released
at their time after every check again. A frozen clock throughout."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
import time_machine

from chatserver import actions
from chatserver.actions import delivery as sending
from chatserver.actions import scheduled
from chatserver.models import Consent, Message, Organisation
from tests.chatserver.consent_support import inbound, manual_lead

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
LOS_ANGELES = "+14155550123"
# 10:00 in Los Angeles on a Wednesday.
NOW = datetime.datetime(2025, 1, 15, 18, 0, tzinfo=UTC)
# 09:00 the next morning there.
TOMORROW_9 = "2025-01-16T09:00:00-08:00"
TOMORROW_9_UTC = datetime.datetime(2025, 1, 16, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(settings):
    settings.ENFORCE_QUIET_HOURS = True
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def conversation(sender):
    """A lead in Los Angeles who texted first (so texts may go)."""
    return inbound(sender, LOS_ANGELES, "Hi, a quote please?").conversation


@pytest.fixture
def api(client, alice):
    client.force_login(alice.user)

    def post(path, data=None, as_agent=None):
        if as_agent is not None:
            client.force_login(as_agent.user)
        response = client.post(
            path, json.dumps(data or {}), content_type="application/json"
        )
        return response.status_code, response.json()

    return post


def later(conversation, api, send_at=TOMORROW_9, **fields):
    return api(
        f"/api/conversations/{conversation.id}/messages",
        {"body": "Morning! Ready?", "send_at": send_at, **fields},
    )


def test_send_later_stores_it_scheduled_with_its_time_and_flag(conversation, api):
    status, body = later(conversation, api)
    assert status == 201
    message = body["message"]
    assert message["status"] == "scheduled"
    assert message["scheduled_for"] == TOMORROW_9_UTC.isoformat()
    assert message["lead_time_zone"] == "America/Los_Angeles"
    assert message["cancel_on_reply"] is True
    # Nothing for the outbox before its time.
    assert sending.due_message_ids() == []

    status, body = later(conversation, api, cancel_on_reply=False)
    assert status == 201 and body["message"]["cancel_on_reply"] is False


@pytest.mark.parametrize(
    "send_at, words",
    [
        ("2025-01-15T17:00:00Z", "passed"),  # an hour ago
        ("2026-02-01T09:00:00-08:00", "a year"),
        ("2025-01-16T09:00:00", "offset"),  # whose 09:00?
        ("tomorrow", "not a date"),
        (1737046800, "ISO 8601"),
    ],
)
def test_a_time_that_cannot_be_is_a_clear_400_and_stores_nothing(
    conversation, api, send_at, words
):
    status, body = later(conversation, api, send_at=send_at)
    assert status == 400, body
    assert words in body["error"]["reason"]
    assert not Message.objects.filter(direction="out").exists()


def test_a_few_seconds_late_is_still_now(conversation, api):
    status, body = later(conversation, api, send_at="2025-01-15T17:59:50Z")
    assert status == 201
    assert body["message"]["scheduled_for"] == NOW.isoformat()


def test_a_time_in_the_leads_quiet_hours_is_refused_with_the_next_allowed(
    conversation, api
):
    status, body = later(conversation, api, send_at="2025-01-15T22:30:00-08:00")
    assert status == 409
    error = body["error"]
    assert error["code"] == "quiet_hours"
    assert "22:30 for this lead" in error["reason"]
    assert error["details"]["next_allowed_local"] == "2025-01-16T08:00:00-08:00"
    assert not Message.objects.filter(direction="out").exists()


def test_every_check_of_a_send_is_made_when_it_is_scheduled(
    org, sender, alice, make_agent, api
):
    # No consent yet: refused now, not at its time.
    quiet_lead = manual_lead(org, sender, "+14155550124")
    status, body = later(quiet_lead, api)
    assert status == 409 and body["error"]["code"].startswith("consent_")
    # An agent without SMS rights.
    lead = inbound(sender, LOS_ANGELES, "Hello").conversation
    denied = make_agent("dora", sms="deny")
    status, body = api(
        f"/api/conversations/{lead.id}/messages",
        {"body": "Hi", "send_at": TOMORROW_9},
        as_agent=denied,
    )
    assert status == 403
    # The plan's limit.
    api(f"/api/conversations/{lead.id}/messages", {"body": "x"}, as_agent=alice)
    status, body = later(lead, api, body="é" * 2000)
    assert status == 400 and body["error"]["code"] == "too_long"
    assert Message.objects.filter(direction="out", status="scheduled").count() == 0


def test_the_same_client_id_twice_schedules_once(conversation, api):
    client_id = str(uuid.uuid4())
    first = later(conversation, api, client_id=client_id)
    second = later(conversation, api, client_id=client_id)
    assert first[0] == second[0] == 201
    assert first[1]["message"]["id"] == second[1]["message"]["id"]
    assert Message.objects.filter(direction="out").count() == 1


def test_edit_its_words_and_time_until_it_goes(conversation, api):
    first = later(conversation, api)[1]["message"]
    message_id = first["id"]
    intro = first["body"].removesuffix("Morning! Ready?")  # a first text's
    path = f"/api/messages/{message_id}/reschedule"
    status, body = api(path, {"body": "Morning! Still keen?"})
    assert status == 200
    assert body["message"]["body"] == intro + "Morning! Still keen?"
    # The words as the thread shows them, intro and all: the intro once.
    status, body = api(path, {"body": body["message"]["body"]})
    assert body["message"]["body"] == intro + "Morning! Still keen?"
    assert body["message"]["scheduled_for"] == TOMORROW_9_UTC.isoformat()
    status, body = api(
        path, {"send_at": "2025-01-16T11:30:00-08:00", "cancel_on_reply": False}
    )
    assert status == 200
    assert body["message"]["scheduled_for"] == "2025-01-16T19:30:00+00:00"
    assert body["message"]["cancel_on_reply"] is False
    # Bad input changes nothing.
    for bad in ({}, {"body": 5}, {"body": "  "}, {"send_at": "yesterday"}):
        status, _ = api(path, bad)
        assert status == 400, bad
    message = Message.objects.get(pk=message_id)
    assert (message.body, message.send_after) == (
        intro + "Morning! Still keen?",
        datetime.datetime(2025, 1, 16, 19, 30, tzinfo=UTC),
    )


def test_edit_keeps_the_intro_of_a_first_text(org, sender, alice, authorized):
    Organisation.objects.filter(pk=org.pk).update(intro_text="Acme Roofing here.")
    org.refresh_from_db()
    conversation = manual_lead(org, sender, LOS_ANGELES)
    authorized(LOS_ANGELES)
    message = actions.send_message(alice, conversation, "Hi!", send_at=TOMORROW_9_UTC)
    assert message.body == "Acme Roofing here.\nHi!"
    edited = actions.reschedule_message(alice, message, body="Hello!")
    assert edited.body == "Acme Roofing here.\nHello!"


def test_cancel_until_it_goes_and_not_after(conversation, api, alice):
    message_id = later(conversation, api)[1]["message"]["id"]
    status, body = api(f"/api/messages/{message_id}/cancel")
    assert status == 200
    assert body["message"]["status"] == "cancelled"
    assert body["message"]["error_reason"] == "Cancelled by Alice."
    # Twice: nothing more.
    assert api(f"/api/messages/{message_id}/cancel")[0] == 200
    # A cancelled one can no longer be changed, and never goes.
    status, body = api(f"/api/messages/{message_id}/reschedule", {"body": "x"})
    assert status == 409 and body["error"]["code"] == "not_scheduled"
    with time_machine.travel(TOMORROW_9_UTC, tick=False):
        assert scheduled.release_scheduled() == 0
    # A text that went already: refused with the reason.
    sent = actions.send_message(alice, conversation, "Now")
    status, body = api(f"/api/messages/{sent.id}/cancel")
    assert status == 409
    assert body["error"]["reason"] == (
        "Only a scheduled text can be changed: this one is queued."
    )


def test_only_an_agent_who_may_text_the_lead_now_may_edit_or_cancel(
    conversation, api, alice, make_agent
):
    message_id = later(conversation, api)[1]["message"]["id"]  # Alice has the lead
    carol = make_agent("carol", first_name="Carol")  # sees it, not hers
    for path in ("reschedule", "cancel"):
        status, body = api(
            f"/api/messages/{message_id}/{path}", {"body": "Hijack"}, as_agent=carol
        )
        assert status == 403, body
        assert body["error"]["reason"] == "This lead is assigned to Alice."
    blind = make_agent("mo", access="mine")  # cannot see it at all
    status, _ = api(f"/api/messages/{message_id}/cancel", as_agent=blind)
    assert status == 404
    assert Message.objects.get(pk=message_id).status == "scheduled"


def test_the_leads_reply_cancels_the_flagged_ones(conversation, api, sender):
    flagged = later(conversation, api)[1]["message"]["id"]
    kept = later(conversation, api, cancel_on_reply=False)[1]["message"]["id"]
    inbound(sender, LOS_ANGELES, "Actually, call me instead")
    cancelled = Message.objects.get(pk=flagged)
    assert (cancelled.status, cancelled.error_code, cancelled.error_reason) == (
        "cancelled",
        "lead_replied",
        "Cancelled: the lead replied first.",
    )
    assert Message.objects.get(pk=kept).status == "scheduled"
    with time_machine.travel(TOMORROW_9_UTC, tick=False):
        assert scheduled.release_scheduled() == 1
        assert sending.due_message_ids() == [kept]


def test_released_at_its_time_after_every_check_again(org, conversation, api, alice):
    on_time = later(conversation, api)[1]["message"]["id"]
    with time_machine.travel(TOMORROW_9_UTC - datetime.timedelta(seconds=1)):
        assert scheduled.release_scheduled() == 0
    with time_machine.travel(TOMORROW_9_UTC, tick=False):
        assert scheduled.release_scheduled() == 1
        assert scheduled.release_scheduled() == 0  # once
        assert sending.due_message_ids() == [on_time]


def test_a_plan_that_no_longer_takes_it_fails_it_at_release(org, conversation, api):
    Organisation.objects.filter(pk=org.pk).update(message_limit="advanced")
    message_id = later(conversation, api, body="Café at 9? ☕")[1]["message"]["id"]
    Organisation.objects.filter(pk=org.pk).update(message_limit="standard")
    with time_machine.travel(TOMORROW_9_UTC, tick=False):
        assert scheduled.release_scheduled() == 0
    message = Message.objects.get(pk=message_id)
    assert message.status == "failed" and message.error_code == "too_long"
    assert "not allowed on your plan" in message.error_reason


def test_an_opt_out_before_its_time_fails_it(conversation, api):
    message_id = later(conversation, api, cancel_on_reply=False)[1]["message"]["id"]
    Consent.objects.filter(number=LOS_ANGELES).update(state=Consent.State.REVOKED)
    with time_machine.travel(TOMORROW_9_UTC, tick=False):
        assert scheduled.release_scheduled() == 0
    message = Message.objects.get(pk=message_id)
    assert (message.status, message.error_code) == ("failed", "consent_revoked")


def test_a_time_the_governor_would_hold_is_refused_naming_the_rule(
    settings, sender, api
):
    """20:30 in Miami: outside the organisation's quiet hours, but after
    Florida's 20:00 for a scheduled text (a solicitation by default)."""
    settings.ENFORCE_SEND_GOVERNOR = True
    florida = inbound(sender, "+13055550123", "Quote?").conversation
    status, body = later(florida, api, send_at="2025-01-16T20:30:00-05:00")
    assert status == 409, body
    error = body["error"]
    assert error["code"] == "governor_hold"
    assert error["details"]["next_allowed_local"] == "2025-01-17T08:00:00-05:00"
    assert not Message.objects.filter(direction="out").exists()
    # 19:30 there is allowed, and is scheduled.
    status, body = later(florida, api, send_at="2025-01-16T19:30:00-05:00")
    assert status == 201 and body["message"]["status"] == "scheduled"

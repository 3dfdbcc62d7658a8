"""Automatic replies: a keyword rule's saved reply, and the after-hours reply
of the number a lead texted; each once, never to an opted-out number, never
to a consent keyword, and through the outbox like any text."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from chatserver.actions import delivery, keyword_rules, templates
from chatserver.models import BusinessHours, Consent, KeywordRule, Message, Template
from chatserver.rules import auto_replies as rules
from chatserver.rules.errors import ActionError
from tests.chatserver.consent_support import auto_replies, inbound, state
from tests.chatserver.leads_support import api, login
from tests.conftest import fictional_number

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# A Tuesday and a Saturday in Chicago.
TUESDAY_NOON = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=CHICAGO)
SATURDAY_EVENING = datetime.datetime(2026, 3, 14, 19, 0, tzinfo=CHICAGO)
Automation = Message.Automation


@pytest.fixture
def price_rule(org):
    template = Template.objects.create(
        organisation=org,
        name="Prices",
        body="{org.name}: a new roof starts at $9,000.",
    )
    return keyword_rules.save_rule(org, None, "price", template)


@pytest.fixture
def hours(sender):
    """Monday to Friday, 9:00 to 17:00 in Chicago, with an after-hours reply."""
    return BusinessHours.objects.create(
        sender=sender,
        time_zone="America/Chicago",
        days="12345",
        opens=datetime.time(9),
        closes=datetime.time(17),
        after_hours_text="{org.name}: we are closed now and answer from 9:00 Monday.",
    )


def keyword_replies(number):
    return [m for m in auto_replies(number) if m.automation == Automation.KEYWORD]


def after_hours_replies(number):
    return [m for m in auto_replies(number) if m.automation == Automation.AFTER_HOURS]


@pytest.mark.parametrize("body", ["PRICE", "price", "  Price! ", "price 🙂", "Pr-ice"])
def test_a_keyword_earns_its_saved_reply_once(org, sender, price_rule, body):
    number = fictional_number()
    text = inbound(sender, number, body, sid="SMprice1")
    # The carrier delivers the same webhook again: nothing more is sent.
    assert inbound(sender, number, body, sid="SMprice1") is None

    [reply] = auto_replies(number)
    assert reply.automation == Automation.KEYWORD
    assert reply.kind == Message.Kind.AUTO_REPLY and reply.author is None
    assert reply.status == Message.Status.QUEUED
    # The lead's first text from us: the organisation's intro comes first.
    assert reply.body == (
        "Acme Roofing: Reply STOP to opt out.\n"
        "Acme Roofing: a new roof starts at $9,000."
    )
    assert reply.conversation == text.conversation


def test_a_keyword_texted_again_soon_gets_no_second_reply(org, sender, price_rule):
    number = fictional_number()
    start = datetime.datetime(2026, 3, 10, 18, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        inbound(sender, number, "PRICE")
    with time_machine.travel(start + datetime.timedelta(minutes=9), tick=False):
        inbound(sender, number, "price")  # two auto-responders would loop here
    assert len(keyword_replies(number)) == 1
    with time_machine.travel(start + datetime.timedelta(minutes=11), tick=False):
        inbound(sender, number, "Price")
    second = keyword_replies(number)[1]
    # No intro this time (not the first contact), the same answer.
    assert second.body == "Acme Roofing: a new roof starts at $9,000."


def test_the_outbox_sends_a_keyword_reply_exactly_once(org, sender, price_rule):
    number = fictional_number()
    inbound(sender, number, "PRICE")
    [reply] = auto_replies(number)
    assert delivery.claim(reply.id) is not None
    assert delivery.claim(reply.id) is None  # a second sender gets nothing


def test_a_keyword_reply_carries_the_organisations_footer(org, sender, price_rule):
    org.optout_footer = "Reply STOP to opt out"
    org.save()
    number = fictional_number()
    inbound(sender, number, "price")
    [reply] = auto_replies(number)
    assert reply.body.endswith("\nReply STOP to opt out")


@pytest.mark.parametrize(
    "body", ["what is the price?", "PRICES", "price price", "Can I get a price"]
)
def test_only_the_whole_message_is_a_keyword(org, sender, price_rule, body):
    number = fictional_number()
    inbound(sender, number, body)
    assert auto_replies(number) == []


def test_an_inactive_rule_answers_nothing(org, sender, price_rule):
    price_rule.active = False
    price_rule.save()
    number = fictional_number()
    inbound(sender, number, "PRICE")
    assert auto_replies(number) == []


def test_no_keyword_reply_to_an_opted_out_number(org, sender, price_rule):
    number = fictional_number()
    inbound(sender, number, "Hello")
    inbound(sender, number, "STOP")
    inbound(sender, number, "PRICE")

    assert state(org, number) == Consent.State.REVOKED
    # Only the opt-out's own confirmation went.
    [confirmation] = auto_replies(number)
    assert confirmation.automation == Automation.OPTOUT_CONFIRMATION


@pytest.mark.parametrize(
    "keyword",
    ["STOP", "stop", "Opt-Out", "unsubscribe", "START", "yes", "HELP", "info"],
)
def test_consent_keywords_are_reserved(org, keyword):
    template = Template.objects.create(organisation=org, name="T", body="Hi")
    with pytest.raises(ActionError) as refused:
        keyword_rules.save_rule(org, None, keyword, template)
    assert refused.value.code == "reserved"
    rule = KeywordRule(organisation=org, keyword=keyword, template=template)
    with pytest.raises(ValidationError):
        rule.full_clean()  # the Django admin refuses it too
    assert not KeywordRule.objects.exists()


@pytest.mark.parametrize("keyword", ["", "  ", "$$$", "café", "x" * 21, 7, None])
def test_a_keyword_is_one_word_of_letters_or_digits(org, keyword):
    template = Template.objects.create(organisation=org, name="T", body="Hi")
    with pytest.raises(ActionError) as refused:
        keyword_rules.save_rule(org, None, keyword, template)
    assert refused.value.code == "invalid"


def test_a_keyword_has_one_rule(org, price_rule):
    with pytest.raises(ActionError) as refused:
        keyword_rules.save_rule(org, None, " Price ", price_rule.template)
    assert refused.value.code == "duplicate"


def test_a_saved_reply_answering_a_keyword_is_not_deleted(org, price_rule):
    with pytest.raises(ActionError) as refused:
        templates.delete_template(price_rule.template)
    assert refused.value.code == "in_use" and "PRICE" in refused.value.reason
    assert Template.objects.filter(pk=price_rule.template_id).exists()


def test_a_stop_is_answered_by_its_confirmation_only(org, sender, hours):
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        number = fictional_number()
        inbound(sender, number, "STOP")
    [confirmation] = auto_replies(number)
    assert confirmation.automation == Automation.OPTOUT_CONFIRMATION


# -- after hours ------------------------------------------------------------


def test_after_hours_a_lead_is_told_once_per_period(org, sender, hours):
    number = fictional_number()
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        inbound(sender, number, "Is anyone there?")
        inbound(sender, number, "Hello?")
    [reply] = after_hours_replies(number)
    assert reply.body.endswith(
        "\nAcme Roofing: we are closed now and answer from 9:00 Monday."
    )
    assert reply.kind == Message.Kind.AUTO_REPLY and reply.author is None
    # Eleven hours on, still within the twelve: nothing more.
    with time_machine.travel(
        SATURDAY_EVENING + datetime.timedelta(hours=11), tick=False
    ):
        inbound(sender, number, "Still nobody?")
    assert len(after_hours_replies(number)) == 1
    # Past the period, still closed (Sunday): told again, once.
    with time_machine.travel(
        SATURDAY_EVENING + datetime.timedelta(hours=13), tick=False
    ):
        inbound(sender, number, "Sunday now")
        inbound(sender, number, "Sunday again")
    assert len(after_hours_replies(number)) == 2


def test_the_period_is_a_setting_of_the_number(org, sender, hours):
    hours.reply_every_hours = 1
    hours.save()
    number = fictional_number()
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        inbound(sender, number, "Hi")
    with time_machine.travel(
        SATURDAY_EVENING + datetime.timedelta(minutes=61), tick=False
    ):
        inbound(sender, number, "Hi again")
    assert len(after_hours_replies(number)) == 2


def test_in_business_hours_no_reply(org, sender, hours):
    number = fictional_number()
    with time_machine.travel(TUESDAY_NOON, tick=False):
        inbound(sender, number, "Hi there")
    assert auto_replies(number) == []


def test_no_after_hours_reply_to_an_opted_out_number(org, sender, hours):
    number = fictional_number()
    with time_machine.travel(TUESDAY_NOON, tick=False):
        inbound(sender, number, "Hi")
        inbound(sender, number, "STOP")
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        inbound(sender, number, "Hello?")
    assert after_hours_replies(number) == []


def test_no_after_hours_reply_to_a_text_that_reads_like_an_opt_out(org, sender, hours):
    number = fictional_number()
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        text = inbound(sender, number, "please stop texting me")
    assert text.possible_optout
    assert auto_replies(number) == []


def test_a_keyword_rule_wins_over_the_after_hours_reply(org, sender, hours, price_rule):
    number = fictional_number()
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        inbound(sender, number, "PRICE")
    assert [m.automation for m in auto_replies(number)] == [Automation.KEYWORD]


def test_an_empty_after_hours_text_sends_nothing(org, sender, hours):
    hours.after_hours_text = ""
    hours.save()
    number = fictional_number()
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        inbound(sender, number, "Hi")
    assert auto_replies(number) == []


def test_an_opt_out_fails_an_automatic_reply_still_waiting(org, sender, price_rule):
    number = fictional_number()
    inbound(sender, number, "PRICE")
    [reply] = keyword_replies(number)
    inbound(sender, number, "STOP")
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.error_code == "opted_out"


# -- business hours, the rule ----------------------------------------------


@pytest.mark.parametrize(
    "when, open_",
    [
        (datetime.datetime(2026, 3, 9, 8, 59, tzinfo=CHICAGO), False),  # Monday
        (datetime.datetime(2026, 3, 9, 9, 0, tzinfo=CHICAGO), True),
        (datetime.datetime(2026, 3, 9, 16, 59, tzinfo=CHICAGO), True),
        (datetime.datetime(2026, 3, 9, 17, 0, tzinfo=CHICAGO), False),
        (datetime.datetime(2026, 3, 14, 12, 0, tzinfo=CHICAGO), False),  # Saturday
        # The Sunday DST starts, and the Monday after: local hours hold.
        (datetime.datetime(2026, 3, 8, 12, 0, tzinfo=CHICAGO), False),
        (datetime.datetime(2026, 3, 9, 14, 0, tzinfo=datetime.UTC), True),  # 9:00 CDT
        (datetime.datetime(2026, 3, 9, 13, 59, tzinfo=datetime.UTC), False),
    ],
)
def test_business_hours_in_the_numbers_zone(when, open_):
    assert (
        rules.is_open(
            when, "America/Chicago", "12345", datetime.time(9), datetime.time(17)
        )
        is open_
    )


@pytest.mark.parametrize(
    "when, open_",
    [
        (datetime.datetime(2026, 3, 13, 23, 0, tzinfo=CHICAGO), True),  # Friday night
        (datetime.datetime(2026, 3, 14, 5, 0, tzinfo=CHICAGO), True),  # its small hours
        (datetime.datetime(2026, 3, 14, 6, 0, tzinfo=CHICAGO), False),
        (datetime.datetime(2026, 3, 14, 23, 0, tzinfo=CHICAGO), False),  # Saturday
        (datetime.datetime(2026, 3, 9, 5, 0, tzinfo=CHICAGO), False),  # Sunday's
    ],
)
def test_hours_past_midnight_belong_to_the_day_they_open(when, open_):
    assert (
        rules.is_open(
            when, "America/Chicago", "12345", datetime.time(22), datetime.time(6)
        )
        is open_
    )


def test_business_hours_are_checked_when_saved(sender):
    hours = BusinessHours(sender=sender, time_zone="Mars/Olympus", days="12345")
    with pytest.raises(ValidationError) as refused:
        hours.full_clean()
    assert "time_zone" in refused.value.message_dict
    hours = BusinessHours(sender=sender, days="1189", after_hours_text="{nope}")
    with pytest.raises(ValidationError) as refused:
        hours.full_clean()
    assert {"days", "after_hours_text"} <= set(refused.value.message_dict)


# -- the console's editor (JSON API) -----------------------------------------


def test_admins_edit_keyword_rules_through_the_api(org, make_agent):
    admin = make_agent("alice", access="all", admin=True)
    agent = make_agent("bob", access="mine")
    template = Template.objects.create(organisation=org, name="Prices", body="From $9k")
    client = login(admin)

    status, answer = api(
        client,
        "POST",
        "/api/keyword-rules",
        {"keyword": " price ", "template": template.id},
    )
    assert status == 201 and answer["rule"]["keyword"] == "PRICE"
    rule = answer["rule"]["id"]
    status, answer = api(
        client,
        "POST",
        "/api/keyword-rules",
        {"keyword": "stop", "template": template.id},
    )
    assert status == 400 and answer["error"]["code"] == "reserved"
    status, answer = api(
        client,
        "POST",
        f"/api/keyword-rules/{rule}",
        {"keyword": "quote", "template": template.id, "active": False},
    )
    assert status == 200 and (answer["rule"]["keyword"], answer["rule"]["active"]) == (
        "QUOTE",
        False,
    )
    status, answer = api(client, "GET", "/api/keyword-rules")
    assert [r["keyword"] for r in answer["rules"]] == ["QUOTE"]

    # Not an admin: refused, and nothing changes.
    other = login(agent)
    assert api(other, "GET", "/api/keyword-rules")[0] == 403
    assert api(other, "DELETE", f"/api/keyword-rules/{rule}")[0] == 403
    assert api(client, "DELETE", f"/api/keyword-rules/{rule}")[0] == 200
    assert not KeywordRule.objects.exists()


# -- the Django admin ---------------------------------------------------------


def test_the_django_admin_edits_keyword_rules_and_refuses_reserved_words(
    org, make_agent, client
):
    boss = make_agent("boss", admin=True)
    client.force_login(boss.user)
    template = Template.objects.create(organisation=org, name="Prices", body="$9k")
    form = {"organisation": org.id, "template": template.id, "active": "on"}
    response = client.post(
        "/admin/chatserver/keywordrule/add/", {**form, "keyword": "Stop"}
    )
    assert (
        response.status_code == 200 and "STOP is reserved" in response.content.decode()
    )
    assert not KeywordRule.objects.exists()
    response = client.post(
        "/admin/chatserver/keywordrule/add/", {**form, "keyword": "price"}
    )
    assert response.status_code == 302
    assert KeywordRule.objects.get().keyword == "PRICE"


def test_the_django_admin_sets_a_numbers_business_hours(
    org, sender, make_agent, client
):
    boss = make_agent("boss", admin=True)
    client.force_login(boss.user)
    form = {
        "organisation": org.id,
        "number": sender.number,
        "carrier": sender.carrier,
        "business_hours-TOTAL_FORMS": "1",
        "business_hours-INITIAL_FORMS": "0",
        "business_hours-MIN_NUM_FORMS": "0",
        "business_hours-MAX_NUM_FORMS": "1",
        "business_hours-0-time_zone": "America/Chicago",
        "business_hours-0-days": "123456",
        "business_hours-0-opens": "08:00",
        "business_hours-0-closes": "18:00",
        "business_hours-0-after_hours_text": "{org.name}: closed, back at 8:00.",
        "business_hours-0-reply_every_hours": "12",
    }
    url = f"/admin/chatserver/sendernumber/{sender.id}/change/"
    refused = client.post(url, {**form, "business_hours-0-days": "8"})
    assert (
        refused.status_code == 200 and "Digits 1 (Monday)" in refused.content.decode()
    )
    assert not BusinessHours.objects.exists()
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    hours = BusinessHours.objects.get(sender=sender)
    assert (hours.days, hours.opens, hours.closes) == (
        "123456",
        datetime.time(8),
        datetime.time(18),
    )


def test_admins_set_a_numbers_hours_through_the_api(org, sender, make_agent):
    admin = make_agent("alice", access="all", admin=True)
    client = login(admin)
    url = f"/api/business-hours/{sender.id}"
    hours = {
        "time_zone": "America/Chicago",
        "days": "12345",
        "opens": "09:00",
        "closes": "17:00",
        "after_hours_text": "{org.name}: closed now, back at 9:00.",
        "reply_every_hours": 12,
    }
    for wrong in (
        {"time_zone": "Mars/Olympus"},
        {"days": "89"},
        {"opens": "9 o'clock"},
        {"after_hours_text": "{lead.nickname}"},
        {"reply_every_hours": "12"},
        {"reply_every_hours": 0},
    ):
        status, answer = api(client, "POST", url, {**hours, **wrong})
        assert status == 400, wrong
        assert answer["error"]["code"] == "invalid"
    assert not BusinessHours.objects.exists()

    status, answer = api(client, "POST", url, hours)
    assert status == 200 and answer["number"]["hours"]["opens"] == "09:00"
    status, listed = api(client, "GET", "/api/business-hours")
    assert listed["numbers"] == [answer["number"]]
    number = fictional_number()
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        inbound(sender, number, "Anyone there?")
    intro = "Acme Roofing: Reply STOP to opt out."
    assert [m.body for m in after_hours_replies(number)] == [
        f"{intro}\nAcme Roofing: closed now, back at 9:00."
    ]

    other = login(make_agent("bob", access="mine"))
    assert api(other, "GET", "/api/business-hours")[0] == 403
    assert api(other, "DELETE", url)[0] == 403
    status, answer = api(client, "DELETE", url)
    assert status == 200 and answer["number"]["hours"] is None
    assert not BusinessHours.objects.exists()

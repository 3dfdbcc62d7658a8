"""Automatic replies and phone opt-outs, in real Chromium on a real Daphne:
an admin sets a keyword reply beside the saved replies (a reserved word is
refused), a lead's keyword gets it, shown as automatic; an agent records
that a lead opted out by phone, and the number is opted out at once, in
every console, with one confirmation text."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    PHONE,
    chatbox,
    log_in,
    phone_texts,
    queue_row,
    run_script,
    shot,
    start_console_server,
    text_in,
    watch,
)

pytestmark = pytest.mark.browser

DANA = "+14155550134"
TOM = "+16175550135"

PRICES = """
from chatserver.models import Organisation, Template
org = Organisation.objects.get(name=ORG)
Template.objects.create(
    organisation=org, name="Prices", body="{org.name}: roofs from $9,000."
)
"""

HOURS_OF = """
from chatserver.models import BusinessHours
h = BusinessHours.objects.get(sender__number=SENDER)
print(h.time_zone, h.days, h.after_hours_text)
"""


def texts_on_phone(team, server, phone: str, words: str) -> list[str]:
    """The texts holding ``words`` that reached the lead's phone, once the
    outbox (in the server's process) has sent one; then a moment more, so a
    second copy would show."""
    for _ in range(60):
        found = [
            t["body"] for t in phone_texts(team, server, phone) if words in t["body"]
        ]
        if found:
            time.sleep(1)
            return [
                t["body"]
                for t in phone_texts(team, server, phone)
                if words in t["body"]
            ]
        time.sleep(0.25)
    return []


def test_an_admin_sets_a_keyword_reply_and_a_lead_gets_it(team, browser_context):
    server = start_console_server(team)
    run_script(team, PRICES)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)  # an admin

    page.get_by_test_id("replies-admin-button").click()
    dialog = page.get_by_test_id("replies-admin")
    rules = dialog.get_by_role("region", name="Keyword replies")
    expect(rules).to_contain_text("No keyword replies yet")
    # STOP is the server's own: refused, with the reason, nothing lost.
    rules.get_by_label("Keyword").fill("stop")
    rules.get_by_label("Saved reply sent").select_option(label="Prices")
    rules.get_by_role("button", name="Add keyword").click()
    expect(rules.get_by_role("alert")).to_contain_text("STOP is reserved")
    expect(rules.get_by_label("Keyword")).to_have_value("stop")
    rules.get_by_label("Keyword").fill("price")
    rules.get_by_role("button", name="Add keyword").click()
    expect(rules.get_by_test_id("rule-row")).to_have_count(1)
    expect(rules.get_by_test_id("rule-row")).to_contain_text(
        re.compile(r"PRICE\s*→ Prices")
    )
    expect(rules.get_by_label("Keyword")).to_have_value("")
    shot(page, "keyword-replies-admin")

    # The number's after-hours reply, beside them: a wrong zone is refused.
    hours = dialog.get_by_role("region", name="After-hours replies")
    expect(hours).to_contain_text("No business hours yet")
    hours.get_by_label("Time zone").fill("Mars/Olympus")
    hours.get_by_label("Sat", exact=True).check()
    hours.get_by_label(re.compile("^After-hours reply")).fill("{org.name}: closed now.")
    hours.get_by_role("button", name="Set hours").click()
    expect(hours.get_by_role("alert")).to_contain_text("Unknown time zone")
    hours.get_by_label("Time zone").fill("America/Chicago")
    hours.get_by_role("button", name="Set hours").click()
    expect(hours.get_by_role("status")).to_have_text("Saved.")
    shot(page, "after-hours-admin")
    saved = run_script(team, HOURS_OF)
    assert "America/Chicago 123456 {org.name}: closed now." in saved
    dialog.get_by_role("button", name="Close", exact=True).click()

    # A lead texts the keyword, any case: the reply is sent, shown as automatic.
    text_in(team, server, DANA, "Price?")
    # The queue shows the thread's newest text: the reply.
    queue_row(page, "roofs from").click()
    box = chatbox(page)
    expect(box.locator(".bubble", has_text="roofs from $9,000")).to_be_visible()
    expect(box.get_by_test_id("automatic").last).to_have_text(
        "Automatic reply · keyword"
    )
    assert len(texts_on_phone(team, server, DANA, "roofs from")) == 1
    assert errors == []


def test_an_agent_records_a_phone_opt_out(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    other = browser_context(**PHONE).new_page()  # a colleague, on a phone
    errors = watch(page)
    log_in(page, server, team.alice)
    log_in(other, server, team.alice)
    text_in(team, server, TOM, "Call me about the gutters")
    queue_row(page, "about the gutters").click()
    box = chatbox(page)
    # The colleague has the conversation open too, on a phone.
    queue_row(other, "about the gutters").click()
    theirs = chatbox(other)
    expect(theirs.get_by_role("button", name="Opted out by phone")).to_be_visible()
    shot(other, "phone-optout-phone")

    box.get_by_role("button", name="Opted out by phone").click()
    form = box.get_by_test_id("phone-optout-form")
    form.get_by_label("Note (optional)").fill("Asked on a call this morning")
    shot(page, "phone-optout")
    form.get_by_role("button", name="Record opt-out").click()

    # Opted out at once: the composer says so, the button is gone, and the
    # lead's one confirmation shows as automatic.
    expect(box.get_by_role("button", name="Opted out by phone")).to_be_hidden()
    expect(box).to_contain_text("This number has opted out")
    expect(box.get_by_test_id("automatic").last).to_have_text(
        "Automatic reply · opt-out confirmation"
    )
    # The colleague's open chatbox shows it too, live.
    expect(theirs).to_contain_text("This number has opted out")
    expect(theirs.get_by_role("button", name="Opted out by phone")).to_be_hidden()
    expect(theirs.get_by_test_id("automatic").last).to_have_text(
        "Automatic reply · opt-out confirmation"
    )
    shot(other, "phone-optout-done-phone")
    assert len(texts_on_phone(team, server, TOM, "unsubscribed")) == 1
    assert errors == []

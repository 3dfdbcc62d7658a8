"""Send later (issue 20), in the console: the composer's Later menu beside
Send, the scheduled text in the thread with its time on the lead's clock and
the agent's, Edit and Cancel, and every console seeing each change live; a
lead's reply cancelling one; the menu at phone width, checked by axe-core.
Real Daphne, real Chromium, the simulated carrier."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    PHONE,
    chatbox,
    log_in,
    phone_texts,
    queue_row,
    shot,
    start_console_server,
    text_in,
    watch,
)
from tests.browser.test_console_accessibility import (  # noqa: F401 (a fixture)
    assert_accessible,
    axe_source,
)

pytestmark = pytest.mark.browser

DANA = "+14155550123"  # Los Angeles: the agents below are in London
LONDON = {"timezone_id": "Europe/London"}


def open_lead(page, text):
    queue_row(page, text).click()
    box = chatbox(page)
    expect(box.get_by_test_id("send-later")).to_be_visible()
    return box


def bubble(box, text):
    return box.get_by_test_id("message").filter(has_text=text)


def test_schedule_edit_and_cancel_a_text_seen_live_by_another_console(
    team,
    browser_context,
    axe_source,  # noqa: F811
):
    server = start_console_server(team)
    page = browser_context(**LONDON).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    other = browser_context(**LONDON).new_page()  # Alice's second device
    log_in(other, server, team.alice)
    text_in(team, server, DANA, "Can you come by this week?")
    box = open_lead(page, "come by this week")
    other_box = open_lead(other, "come by this week")

    box.locator("textarea").fill("We can come Thursday morning.")
    later = box.get_by_test_id("send-later")
    later.click()
    expect(later).to_have_attribute("aria-expanded", "true")
    menu = box.get_by_test_id("send-later-menu")
    expect(menu).to_contain_text("(Los Angeles)")
    expect(menu.get_by_role("button", name="Tomorrow 9:00 their time")).to_be_visible()
    expect(menu.get_by_role("button", name="Monday 9:00 their time")).to_be_visible()
    expect(menu.get_by_label("Cancel if the lead replies first")).to_be_checked()
    assert_accessible(page, axe_source, "the Send later menu")
    shot(page, "send-later-menu")
    # A press elsewhere closes it; Later opens it again.
    box.get_by_test_id("message").first.click()
    expect(menu).to_be_hidden()
    expect(later).to_have_attribute("aria-expanded", "false")
    later.click()
    menu.get_by_role("button", name="Tomorrow 9:00 their time").click()

    mine = bubble(box, "Thursday morning")
    theirs = bubble(other_box, "Thursday morning")
    for shown in (mine, theirs):
        expect(shown).to_have_attribute("data-status", "scheduled")
        scheduled = shown.get_by_test_id("scheduled")
        # 09:00 in Los Angeles is 17:00 in London (16:00 while only one of
        # them has moved its clocks).
        expect(scheduled).to_contain_text(re.compile(r"9:00\sAM their time"))
        expect(scheduled).to_contain_text(re.compile(r"\b[45]:00\sPM yours"))
        expect(scheduled).to_contain_text("Cancelled if the lead replies first")
    expect(box.locator("textarea")).to_have_value("")
    assert_accessible(page, axe_source, "a scheduled text")
    shot(page, "send-later-scheduled")

    # Edit its words: every console shows the new text.
    mine.get_by_test_id("scheduled-edit").click()
    editor = mine.get_by_test_id("scheduled-editor")
    editor.get_by_label("Text").fill("We can come Thursday at 10 instead.")
    editor.get_by_role("button", name="Save").click()
    expect(bubble(other_box, "Thursday at 10 instead")).to_have_attribute(
        "data-status", "scheduled"
    )
    edited = bubble(box, "Thursday at 10 instead")
    expect(edited.get_by_test_id("scheduled")).to_be_visible()

    # Cancel it: struck through, with who cancelled it, everywhere.
    edited.get_by_test_id("scheduled-cancel").click()
    for shown in (edited, bubble(other_box, "Thursday at 10 instead")):
        expect(shown).to_have_attribute("data-status", "cancelled")
        expect(shown).to_have_class(re.compile(r"\bcancelled\b"))  # struck through
        expect(shown.get_by_test_id("cancelled")).to_have_text("Cancelled by Alice.")
        expect(shown.get_by_test_id("scheduled-cancel")).to_have_count(0)
    shot(page, "send-later-cancelled")
    texts = phone_texts(team, server, DANA)
    assert not [m for m in texts if m["direction"] == "to_phone"]
    assert errors == []


def test_the_leads_reply_cancels_a_scheduled_text_live(team, browser_context):
    server = start_console_server(team)
    page = browser_context(**LONDON).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, DANA, "Quote for the roof?")
    box = open_lead(page, "Quote for the roof")
    box.locator("textarea").fill("Following up on your quote.")
    box.get_by_test_id("send-later").click()
    box.get_by_test_id("send-later-monday").click()
    waiting = bubble(box, "Following up on your quote")
    expect(waiting).to_have_attribute("data-status", "scheduled")

    text_in(team, server, DANA, "Never mind, we went with someone else.")
    expect(waiting).to_have_attribute("data-status", "cancelled")
    expect(waiting.get_by_test_id("cancelled")).to_have_text(
        "Cancelled: the lead replied first."
    )
    assert errors == []


def test_send_later_at_a_time_picked_at_phone_width(
    team,
    browser_context,
    axe_source,  # noqa: F811
):
    server = start_console_server(team)
    page = browser_context(**PHONE, **LONDON).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, DANA, "Is Saturday possible?")
    box = open_lead(page, "Saturday possible")
    box.locator("textarea").fill("Saturday works, see you then.")
    later = box.get_by_test_id("send-later")
    expect(later).to_be_in_viewport()
    later.click()
    menu = box.get_by_test_id("send-later-menu")
    # Ten days ahead, 11:30 on the lead's clock, and their reply won't cancel it.
    picked = page.evaluate(
        """() => {
        const d = new Date(Date.now() + 10 * 86400000);
        const p = new Intl.DateTimeFormat("en-CA", {timeZone: "America/Los_Angeles",
          year: "numeric", month: "2-digit", day: "2-digit"}).format(d);
        return `${p}T11:30`;
      }"""
    )
    menu.get_by_label("Pick a time (their time)").fill(picked)
    menu.get_by_label("Cancel if the lead replies first").uncheck()
    assert_accessible(page, axe_source, "the Send later menu (phone)")
    shot(page, "send-later-phone")
    menu.get_by_role("button", name="Schedule", exact=True).click()
    shown = bubble(box, "Saturday works")
    expect(shown).to_have_attribute("data-status", "scheduled")
    expect(shown.get_by_test_id("scheduled")).to_contain_text(
        re.compile(r"11:30\sAM their time")
    )
    expect(shown.get_by_test_id("scheduled")).not_to_contain_text("replies first")
    assert errors == []


def test_a_time_in_the_leads_quiet_hours_offers_the_first_allowed(
    team, browser_context
):
    server = start_console_server(team, ENFORCE_QUIET_HOURS="true")
    page = browser_context(**LONDON).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, DANA, "Any time this week is fine.")
    box = open_lead(page, "Any time this week")
    box.locator("textarea").fill("How about first thing?")
    box.get_by_test_id("send-later").click()
    menu = box.get_by_test_id("send-later-menu")
    # 23:00 on the lead's clock in three days: their quiet hours.
    late = page.evaluate(
        """() => {
        const d = new Date(Date.now() + 3 * 86400000);
        const p = new Intl.DateTimeFormat("en-CA", {timeZone: "America/Los_Angeles",
          year: "numeric", month: "2-digit", day: "2-digit"}).format(d);
        return `${p}T23:00`;
      }"""
    )
    menu.get_by_label("Pick a time (their time)").fill(late)
    menu.get_by_role("button", name="Schedule", exact=True).click()
    error = box.get_by_test_id("send-error")
    expect(error).to_contain_text("in their quiet hours")
    expect(box.locator("textarea")).to_have_value("How about first thing?")
    error.get_by_role("button", name=re.compile(r"^Schedule it for .* instead")).click()
    shown = bubble(box, "How about first thing?")
    expect(shown).to_have_attribute("data-status", "scheduled")
    expect(shown.get_by_test_id("scheduled")).to_contain_text(
        re.compile(r"8:00\sAM their time")
    )
    assert errors == []

"""The console, live: a lead's text reaches the badge and the queue, reading in
one tab clears the count in another, and a reply reaches the lead's phone and
shows its delivery. Real Daphne, real Chromium, the simulated carrier."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    chatbox,
    live,
    log_in,
    phone_texts,
    queue_row,
    run_script,
    set_phone_mode,
    shot,
    start_console_server,
    text_in,
    watch,
)

pytestmark = pytest.mark.browser

DANA = "+14155550123"
MARCUS = "+12125550142"
TOM = "+16175550108"  # the one whose phone the network fails, in this module only


def test_an_inbound_text_shakes_the_badge_and_raises_its_count(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    badge = page.get_by_test_id("badge")
    count = page.get_by_test_id("badge-count")
    expect(count).to_have_text("0")
    expect(badge).to_have_attribute("data-shakes", "0")

    text_in(team, server, DANA, "Hi, is this the roofing company? We have a leak.")

    expect(count).to_have_text("1")
    expect(badge).to_have_attribute("data-shakes", "1")
    expect(badge).to_have_attribute("aria-label", "Notifications: 1 unread message")
    expect(page.get_by_test_id("badge-live")).to_have_text("1 unread message")
    row = queue_row(page, "We have a leak.")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("row-unread")).to_have_text("1")
    unassigned = page.locator("[data-testid=bucket][data-bucket=unassigned]")
    expect(unassigned.get_by_test_id("bucket-count")).to_have_text("1")
    shot(page, "inbound-badge")

    time.sleep(0.3)  # a second text, not part of the same burst
    text_in(team, server, MARCUS, "Can you send me the quote again?")
    expect(count).to_have_text("2")
    expect(badge).to_have_attribute("data-shakes", "2")

    # The dropdown: most recent first, each with its last message and count.
    badge.click()
    dropdown = page.get_by_test_id("badge-dropdown")
    expect(dropdown).to_be_visible()
    rows = dropdown.get_by_test_id("badge-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Can you send me the quote again?")
    expect(rows.nth(1)).to_contain_text("We have a leak.")
    expect(rows.nth(0).get_by_test_id("row-unread")).to_have_text("1")
    shot(page, "badge-dropdown")
    page.keyboard.press("Escape")
    expect(dropdown).to_be_hidden()

    # Counts come from the server's read state: a refresh shows the same.
    page.reload()
    live(page)
    expect(count).to_have_text("2")
    expect(badge).to_have_attribute("data-shakes", "0")  # nothing new arrived
    assert errors == []


def test_opening_the_chatbox_clears_the_count_in_a_second_tab(team, browser_context):
    server = start_console_server(team)
    context = browser_context()
    first = context.new_page()
    errors = watch(first)
    log_in(first, server, team.alice)
    second = context.new_page()
    errors += watch(second)
    second.goto(server.url + "/")
    live(second)

    text_in(team, server, DANA, "Thursday afternoon works for us.")
    for page in (first, second):
        expect(page.get_by_test_id("badge-count")).to_have_text("1")

    queue_row(first, "Thursday afternoon").click()
    box = chatbox(first)
    expect(box).to_have_count(1)
    expect(
        box.get_by_test_id("message").filter(has_text="Thursday afternoon")
    ).to_be_visible()

    # Read in the first tab: the second hears it from the server.
    expect(second.get_by_test_id("badge-count")).to_have_text("0")
    expect(
        queue_row(second, "Thursday afternoon").get_by_test_id("row-unread")
    ).to_have_count(0)
    expect(first.get_by_test_id("badge-count")).to_have_text("0")
    shot(second, "second-tab-cleared")

    # A text to the conversation open in the first tab is read there at once.
    text_in(team, server, DANA, "Or Friday morning.")
    expect(
        box.get_by_test_id("message").filter(has_text="Friday morning")
    ).to_be_visible()
    expect(second.get_by_test_id("badge-count")).to_have_text("0")
    assert errors == []


def test_a_reply_reaches_the_phone_and_its_status_turns_delivered(
    team, browser_context
):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, TOM, "How much is an inspection?")
    queue_row(page, "How much is an inspection?").click()
    box = chatbox(page)
    composer = box.get_by_test_id("composer")
    text = composer.locator("textarea")
    counter = box.get_by_test_id("counter")
    expect(text).to_be_focused()
    expect(counter).to_have_text("160 characters left · 0 segments · GSM-7")

    # The counter follows the typing; a character the plan refuses says so.
    text.press_sequentially("Price: €99")
    expect(counter).to_have_text(
        "149 characters left · 1 segment · GSM-7"
    )  # € counts 2
    text.press_sequentially(" 😀")
    expect(counter).to_contain_text("UCS-2")
    expect(composer).to_contain_text("not allowed on your plan: 😀")
    expect(box.get_by_test_id("send")).to_be_disabled()
    text.fill("")

    reply = "An inspection is 99 dollars. Does Thursday at 10 suit you?"
    text.fill(reply)
    text.press("Enter")
    expect(text).to_have_value("")
    bubble = box.get_by_test_id("message").filter(has_text=reply)
    expect(bubble).to_have_attribute("data-direction", "out")
    expect(bubble).to_have_attribute("data-status", "delivered", timeout=20_000)
    expect(bubble.get_by_test_id("status")).to_have_text("Delivered")
    # The agent's bubbles are blue, the lead's grey.
    blue = bubble.locator(".bubble").evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    grey = (
        box.get_by_test_id("message")
        .filter(has_text="How much is an inspection?")
        .locator(".bubble")
        .evaluate("e => getComputedStyle(e).backgroundColor")
    )
    assert blue == "rgb(37, 99, 235)" and grey == "rgb(236, 239, 243)"
    # Replying claimed the lead: it moved to Mine, and the panel says so.
    expect(box.locator(".team-panel")).to_contain_text("Alice")
    expect(page.locator("[data-bucket=mine] [data-testid=bucket-count]")).to_have_text(
        "1"
    )
    shot(page, "reply-delivered")

    received = [
        m for m in phone_texts(team, server, TOM) if m["direction"] == "to_phone"
    ]
    assert len(received) == 1 and reply in received[0]["body"]

    # A text the network cannot deliver fails, and says why.
    set_phone_mode(team, server, TOM, "fail")
    text.fill("Or would Friday be better?")
    box.get_by_test_id("send").click()
    failed = box.get_by_test_id("message").filter(has_text="Or would Friday be better?")
    expect(failed).to_have_attribute("data-status", "failed", timeout=20_000)
    expect(failed.get_by_test_id("status")).to_have_text("Failed")
    expect(failed).to_contain_text("landline")
    shot(page, "reply-failed")

    # The lead opts out: the consent dot turns grey and the composer says why.
    text_in(team, server, TOM, "STOP")
    expect(text).to_be_disabled()
    expect(box.get_by_test_id("composer-notice")).to_contain_text("opted out")
    expect(box.locator(".number-item.selected .consent-dot")).to_have_class(
        re.compile(r"\bgrey\b")
    )
    shot(page, "opted-out")
    assert errors == []


QUIET_NOW_SCRIPT = """
import datetime, zoneinfo
from chatserver.models import Organisation
now = datetime.datetime.now(zoneinfo.ZoneInfo("America/Los_Angeles"))
Organisation.objects.filter(name=ORG).update(
    quiet_hours_start=(now - datetime.timedelta(hours=2)).time().replace(microsecond=0),
    quiet_hours_end=(now + datetime.timedelta(hours=2)).time().replace(microsecond=0),
)
"""


def test_in_the_leads_quiet_hours_the_composer_says_so_and_schedules(
    team, browser_context
):
    run_script(team, QUIET_NOW_SCRIPT)  # quiet hours now, where a 415 number is
    server = start_console_server(team, ENFORCE_QUIET_HOURS="true")
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, DANA, "Can someone call me tomorrow?")
    queue_row(page, "call me tomorrow").click()
    box = chatbox(page)
    notice = box.get_by_test_id("composer-notice")
    expect(notice).to_contain_text("Quiet hours")
    send = box.get_by_test_id("send")
    expect(send).to_have_attribute("aria-label", re.compile(r"^Schedule for \d"))
    box.locator("textarea").fill("Sure, we will call you at 9.")
    send.click()
    bubble = box.get_by_test_id("message").filter(has_text="we will call you at 9")
    expect(bubble).to_have_attribute("data-status", "scheduled")
    expect(bubble.get_by_test_id("status")).to_contain_text("Scheduled for")
    shot(page, "quiet-hours-scheduled")
    page.wait_for_timeout(1500)  # the outbox had time to send it, had it been due
    assert not [
        m for m in phone_texts(team, server, DANA) if m["direction"] == "to_phone"
    ]
    assert errors == []


def test_assignment_changes_reach_both_agents_live(team, browser_context):
    server = start_console_server(team)
    alice = browser_context().new_page()
    bob = browser_context().new_page()  # another person, another browser
    errors = watch(alice) + watch(bob)
    log_in(alice, server, team.alice)
    log_in(bob, server, team.bob)
    text_in(team, server, DANA, "Who will handle my roof?")
    queue_row(alice, "Who will handle my roof?").click()
    box = chatbox(alice)
    expect(box.get_by_test_id("message")).to_have_count(1)
    expect(queue_row(bob, "Who will handle my roof?")).to_have_count(0)  # not his

    box.locator(".assign-select").select_option(label="Bob")
    # Bob's console: the lead arrives in Mine, unread, without a refresh.
    expect(bob.locator("[data-bucket=mine] [data-testid=bucket-count]")).to_have_text(
        "1"
    )
    bob.locator("[data-bucket=mine]").click()
    row = queue_row(bob, "Who will handle my roof?")
    expect(row.get_by_test_id("row-unread")).to_have_text("1")
    expect(bob.get_by_test_id("badge-count")).to_have_text("1")
    # Alice's: the panel names Bob, and the composer says she may not text.
    expect(box.locator(".team-panel")).to_contain_text("Bob")
    expect(box.get_by_test_id("composer-notice")).to_contain_text("assigned to Bob")
    expect(box.locator("textarea")).to_be_disabled()
    shot(alice, "assigned-to-bob")

    # She takes it back: it leaves Bob's console, and hers is open again.
    box.get_by_test_id("composer-notice").get_by_role(
        "button", name="Assign to me"
    ).click()
    expect(box.locator("textarea")).to_be_enabled()
    expect(row).to_have_count(0)
    expect(bob.get_by_test_id("badge-count")).to_have_text("0")
    assert errors == []

"""Follow-ups and workflows in the console (issue 20), in real Chromium on a
real Daphne: an agent sets a follow-up from the lead's chatbox; one falls due
while the console is open and the Outstanding badge counts it; marked done,
or done by texting the lead. An admin builds a three-step workflow in the
editor and starts it for a lead; the lead's reply stops it, live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    PHONE,
    chatbox,
    log_in,
    queue_row,
    run_script,
    shot,
    start_console_server,
    text_in,
    watch,
)

pytestmark = pytest.mark.browser

LEAD = "+14155550151"

LEAD_ID = """
from chatserver.models import Lead
print(Lead.objects.get(organisation__name=ORG, contacts__numbers__number={number!r}).id)
"""

# The console itself sets a follow-up due a few seconds from now (as a
# workflow's reminder would fall due while the console is open).
SET_DUE_SOON = """async ([lead, seconds, note]) => {
  const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const due = new Date(Date.now() + seconds * 1000).toISOString();
  const response = await fetch(`/api/leads/${lead}/followups`, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify({due_at: due, note}),
  });
  return response.status;
}"""


def lead_id(team, number: str = LEAD) -> int:
    return int(run_script(team, LEAD_ID.format(number=number)).split()[-1])


def due_soon(page, lead: int, note: str, seconds: int = 3) -> None:
    assert page.evaluate(SET_DUE_SOON, [lead, seconds, note]) == 201


def test_a_follow_up_set_falls_due_is_counted_and_is_done(team, browser_context):
    server = start_console_server(team)
    text_in(team, server, LEAD, "Hi, can you quote a new roof?")
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    count = page.get_by_test_id("outstanding-count")
    expect(count).to_have_attribute("data-count", "0")

    # Set from the chatbox: in 2 days, with a note; listed on the lead.
    queue_row(page, "new roof").click()
    box = chatbox(page)
    box.get_by_role("button", name="Maximize").click()
    form = box.get_by_test_id("followup-form")
    form.get_by_label("Follow up").select_option(label="In 2 days")
    form.get_by_label("Note").fill("Ask if the quote arrived")
    form.get_by_role("button", name="Set follow-up").click()
    expect(box.get_by_test_id("lead-followups")).to_contain_text(
        "Ask if the quote arrived"
    )
    expect(count).to_have_attribute("data-count", "0")  # not due for 2 days

    # One falls due while the console is open: the badge counts it.
    lead = lead_id(team)
    due_soon(page, lead, "Call about the gutters")
    expect(count).to_have_attribute("data-count", "1", timeout=10_000)
    expect(page.get_by_test_id("outstanding-button")).to_have_attribute(
        "aria-label", "Outstanding 1 follow-up due"
    )
    page.get_by_test_id("outstanding-button").click()
    panel = page.get_by_test_id("outstanding-panel")
    row = panel.get_by_test_id("outstanding-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Call about the gutters")
    shot(page, "outstanding")
    row.get_by_role("button", name=re.compile("^Mark done")).click()
    expect(row).to_have_count(0)
    expect(count).to_have_attribute("data-count", "0")

    # Another falls due; snoozed an hour, it leaves the list.
    due_soon(page, lead, "Send the brochure", seconds=1)
    expect(row).to_have_count(1, timeout=10_000)
    row.get_by_role("button", name=re.compile("^Snooze 1 hour")).click()
    expect(row).to_have_count(0)

    # A third: texting the lead does it.
    due_soon(page, lead, "Confirm Thursday", seconds=1)
    expect(count).to_have_attribute("data-count", "1", timeout=10_000)
    page.keyboard.press("Escape")
    box.locator("textarea").fill("Hi! Does Thursday at 10 still suit you?")
    box.locator("textarea").press("Enter")
    expect(count).to_have_attribute("data-count", "0")
    assert errors == []


def test_the_outstanding_list_at_phone_width(team, browser_context):
    server = start_console_server(team)
    text_in(team, server, LEAD, "Hello, roof question")
    page = browser_context(**PHONE).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    due_soon(page, lead_id(team), "Call back", seconds=0)
    expect(page.get_by_test_id("outstanding-count")).to_have_attribute(
        "data-count", "1"
    )
    shot(page, "outstanding-phone-topbar")
    page.get_by_test_id("outstanding-button").click()
    row = page.get_by_test_id("outstanding-row")
    expect(row).to_be_visible()
    shot(page, "outstanding-phone")
    # Its lead opens from the list.
    row.get_by_role("button", name=re.compile("open the lead")).click()
    expect(chatbox(page)).to_be_visible()
    expect(chatbox(page)).to_contain_text("roof question")
    assert errors == []


TEMPLATES = """
from chatserver.models import Organisation, Template
org = Organisation.objects.get(name=ORG)
Template.objects.create(organisation=org, name='Hello', body='Hi, this is {org.name}.')
Template.objects.create(organisation=org, name='Checking in', body='Still thinking it over?')
"""


def test_an_admin_builds_a_workflow_and_starts_it_for_a_lead(team, browser_context):
    server = start_console_server(team)
    run_script(team, TEMPLATES)
    text_in(team, server, LEAD, "Hi, is the roofer there?")
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)

    page.get_by_test_id("workflows-admin-button").click()
    editor = page.get_by_test_id("workflow-editor")
    editor.get_by_label("Name", exact=True).fill("New roof leads")
    steps = editor.get_by_test_id("step-row")
    expect(steps).to_have_count(1)
    steps.nth(0).get_by_label("What").select_option(label="Automatic text")
    steps.nth(0).get_by_label("Saved reply").select_option(label="Hello")
    editor.get_by_role("button", name="Add step").click()
    steps.nth(1).get_by_label(re.compile("days after")).fill("2")
    steps.nth(1).get_by_label("What").select_option(label="Reminder to call")
    steps.nth(1).get_by_label("Note").fill("Call about the quote")
    editor.get_by_role("button", name="Add step").click()
    steps.nth(2).get_by_label(re.compile("days after")).fill("5")
    steps.nth(2).get_by_label("What").select_option(label="Automatic text")
    steps.nth(2).get_by_label("Saved reply").select_option(label="Checking in")
    editor.get_by_role("button", name="Save workflow").click()
    row = page.get_by_test_id("workflow-row")
    expect(row).to_have_count(1, timeout=15_000)
    expect(row).to_contain_text("day 0: Automatic text (Hello)")
    expect(row).to_contain_text("day 2: Reminder to call")
    expect(row).to_contain_text("day 5: Automatic text (Checking in)")
    shot(page, "workflow-editor")
    page.keyboard.press("Escape")

    # Started for the lead from its chatbox: the day-0 text goes at once.
    queue_row(page, "roofer").click()
    box = chatbox(page)
    box.get_by_role("button", name="Maximize").click()
    workflow = box.get_by_test_id("workflow-form")
    workflow.get_by_label("Workflow").select_option(label="New roof leads")
    workflow.get_by_role("button", name="Start workflow").click()
    enrollment = box.get_by_test_id("enrollment")
    expect(enrollment).to_have_attribute("data-running", "yes")
    expect(box.get_by_test_id("lead-followups")).to_contain_text("Call about the quote")
    expect(box.locator(".thread")).to_contain_text("Hi, this is", timeout=10_000)
    expect(box.locator(".thread")).to_contain_text("Still thinking it over?")

    # The lead replies: the workflow stops, live, and its day-5 text with it.
    text_in(team, server, LEAD, "Yes, tell me more")
    expect(enrollment).to_have_attribute("data-running", "no")
    expect(enrollment).to_contain_text("Stopped: the lead replied")
    shot(page, "workflow-stopped")

    # Deleting a workflow asks first.
    page.get_by_test_id("workflows-admin-button").click()
    row = page.get_by_test_id("workflow-row")
    row.get_by_role("button", name="Delete New roof leads").click()
    expect(row).to_contain_text("stop it for its leads?")
    row.get_by_role("button", name="Delete", exact=True).click()
    expect(row).to_have_count(0, timeout=15_000)
    assert errors == []

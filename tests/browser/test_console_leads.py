"""Leads in the console (issue 18, part A): a new lead typed any way and texted
at once, contacts named, edited and added, any of their numbers texted,
closing and reopening a lead with the engagements it counts, the one search
box over leads and message text, message categories, and the words a
roofing company uses. Real Daphne, real Chromium, the simulated carrier."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    chatbox,
    live,
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

NIA = "+15035550112"  # typed as (503) 555-0112, 503.555.0112, +1 503 555 0112
JORDAN = "+15035550131"
JORDAN_CELL = "+15035550132"
SAM = "+15035550133"


def dialog(page):
    return page.get_by_test_id("new-lead-dialog")


def test_a_new_lead_typed_any_way_is_created_texted_and_never_twice(
    team, browser_context
):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)

    # From the keyboard: the button, then the fields in order.
    page.get_by_test_id("new-lead").focus()
    page.keyboard.press("Enter")
    form = dialog(page)
    expect(form).to_be_visible()
    expect(form.get_by_label("First name")).to_be_focused()
    page.keyboard.type("Nia")
    page.keyboard.press("Tab")
    page.keyboard.type("Long")
    page.keyboard.press("Tab")
    page.keyboard.type("555-0112")  # no area code
    form.get_by_label("Email").fill("nia@example.com")
    form.get_by_label("Source").fill("Referral")
    shot(page, "new-lead-form")
    page.keyboard.press("Enter")
    error = form.get_by_test_id("form-error")
    expect(error).to_contain_text("has no area code")
    expect(error).to_contain_text("(201) 555-0123")
    # Nothing typed is lost, and the cursor is on the number to fix it.
    expect(form.get_by_label("First name")).to_have_value("Nia")
    expect(form.get_by_label("Mobile number")).to_be_focused()
    shot(page, "new-lead-refused")

    form.get_by_label("Mobile number").fill("(503) 555-0112")
    form.get_by_role("button", name="Create and open chat").click()
    expect(form).to_be_hidden()
    box = chatbox(page)
    expect(box).to_have_count(1)
    expect(box.get_by_test_id("lead-link")).to_have_text("Nia Long")
    expect(box.locator(".chatbox-sub")).to_contain_text("+1 503-555-0112")
    # Text it at once: a number that has not agreed yet gets the request.
    notice = box.get_by_test_id("composer-notice")
    expect(notice).to_contain_text("not authorized texts")
    notice.get_by_role("button", name="Send authorization request").click()
    request = box.get_by_test_id("message").filter(has_text="Reply YES")
    expect(request).to_have_attribute("data-status", "delivered", timeout=20_000)
    assert any(m["direction"] == "to_phone" for m in phone_texts(team, server, NIA))
    # Texting it claimed it. Its row: the person's initials.
    page.locator("[data-testid=bucket][data-bucket=mine]").click()
    row = queue_row(page, "Nia Long")
    expect(row.locator(".avatar")).to_have_text("NL")
    box.get_by_role("button", name="Maximize").click()
    expect(box.locator(".contacts-panel")).to_contain_text("nia@example.com")
    expect(box.locator(".team-panel")).to_contain_text("Source: Referral")
    box.get_by_role("button", name="Restore").click()

    # The same number again, written another way: the lead is offered.
    page.get_by_test_id("new-lead").click()
    form = dialog(page)
    form.get_by_label("First name").fill("Nia")
    form.get_by_label("Mobile number").fill("+1 503 555 0112")
    form.get_by_role("button", name="Create and open chat").click()
    expect(form.get_by_test_id("form-error")).to_contain_text("already on Nia Long")
    offered = form.get_by_test_id("duplicate-leads")
    expect(offered).to_contain_text("+1 503-555-0112")
    shot(page, "new-lead-duplicate")
    offered.get_by_role("button", name="Open Nia Long").click()
    expect(form).to_be_hidden()
    expect(box).to_have_count(1)  # the same chatbox, not a second lead
    expect(page.get_by_test_id("queue-row").filter(has_text="Nia Long")).to_have_count(
        1
    )

    # A repeat customer may get a second lead for the same number, on purpose.
    page.get_by_test_id("new-lead").click()
    form = dialog(page)
    form.get_by_label("First name").fill("Nia")
    form.get_by_label("Last name").fill("Long (garage)")
    form.get_by_label("Mobile number").fill("503.555.0112")
    form.get_by_role("button", name="Create and open chat").click()
    form.get_by_role("button", name="Create a new lead anyway").click()
    expect(form).to_be_hidden()
    expect(chatbox(page)).to_have_count(2)
    expect(chatbox(page).get_by_test_id("lead-link")).to_have_text(
        ["Nia Long", "Nia Long (garage)"]
    )
    assert errors == []


def test_the_new_lead_form_at_phone_width(team, browser_context):
    server = start_console_server(team)
    page = browser_context(viewport={"width": 390, "height": 844}).new_page()
    errors = watch(page)
    log_in(page, server, team.bob)
    page.get_by_test_id("new-lead").click()
    form = dialog(page)
    expect(form).to_be_visible()
    box = form.bounding_box()
    assert box["width"] >= 380  # the whole screen's width, not a cramped box
    form.get_by_label("First name").fill("Ola")
    form.get_by_label("Mobile number").fill("503 555 0114")
    shot(page, "new-lead-phone")
    form.get_by_label("Mobile number").press("Enter")
    expect(form).to_be_hidden()
    # Bob sees only his own leads: the lead he made is his, and on screen.
    expect(chatbox(page).get_by_test_id("lead-link")).to_have_text("Ola")
    page.keyboard.press("Escape")  # back to the queue
    expect(page.locator("[data-bucket=mine] [data-testid=bucket-count]")).to_have_text(
        "1"
    )
    assert errors == []


def test_contacts_are_named_edited_added_and_any_number_texts(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, JORDAN, "Hi, I got a flyer about roof inspections")
    queue_row(page, "roof inspections").click()
    expect(chatbox(page)).to_have_count(1)
    first = chatbox(page).get_attribute("data-conversation")
    box = page.locator(f"[data-testid=chatbox][data-conversation='{first}']")
    box.get_by_role("button", name="Maximize").click()
    panel = box.locator(".contacts-panel")
    expect(panel.get_by_test_id("contact")).to_have_text(re.compile("Unnamed contact"))
    # The lead's avatar is a person, not the digits of its name.
    expect(box.locator(".chatbox-head .avatar .avatar-icon")).to_have_count(1)

    # Name the contact that texted in: the lead takes the name too.
    panel.get_by_role("button", name="Add name for this contact").click()
    form = panel.locator("form")
    expect(form.get_by_label("First name")).to_be_focused()
    form.get_by_label("First name").fill("Jordan")
    form.get_by_label("Last name").fill("Reyes")
    form.get_by_label("Email").fill("jordan@")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_test_id("form-error")).to_contain_text("not an email address")
    form.get_by_label("Email").fill("jordan@example.com")
    form.get_by_label("Email").press("Enter")
    expect(panel.get_by_test_id("contact")).to_contain_text("Jordan Reyes")
    expect(panel.get_by_test_id("contact")).to_contain_text("Homeowner")
    expect(box.get_by_test_id("lead-link")).to_have_text("Jordan Reyes")
    expect(box.locator(".chatbox-head .avatar")).to_have_text("JR")
    expect(queue_row(page, "Jordan Reyes")).to_be_visible()
    expect(panel.get_by_role("button", name="Edit Jordan Reyes")).to_be_focused()

    # Add new: another number for Jordan, typed any way.
    panel.get_by_role("button", name="Add number for Jordan Reyes").click()
    panel.get_by_label("Mobile number").fill("503-555-0132")
    panel.get_by_role("button", name="Add number").click()
    cell = panel.get_by_test_id("number").filter(has_text="+1 503-555-0132")
    expect(cell).to_contain_text("secondary")
    expect(cell).to_contain_text("Text")

    # The second number texts in: this open chatbox shows it at once, and
    # the queue says which number the newest text came from.
    text_in(team, server, JORDAN_CELL, "This is my work cell, text me here")
    expect(cell.locator(".count-pill")).to_have_text("1")
    row = queue_row(page, "Jordan Reyes")
    expect(row).to_contain_text("+1 503-555-0132 · secondary")
    expect(row).to_contain_text("This is my work cell")
    page.get_by_test_id("badge").click()
    expect(page.get_by_test_id("badge-row").first).to_contain_text(
        "+1 503-555-0132 · secondary"
    )
    page.keyboard.press("Escape")
    shot(page, "contacts-second-number")
    # Picking it opens its conversation, in the lead's full view.
    cell.click()
    second = chatbox(page).filter(has_text="This is my work cell")
    expect(second).to_be_visible()
    expect(second).to_have_class(re.compile(r"\bmaximized\b"))
    expect(box).not_to_have_class(re.compile(r"\bmaximized\b"))
    expect(second.locator(".chatbox-sub")).to_contain_text("secondary")
    second.get_by_role("button", name="Restore").click()

    # A co-contact with a number nobody has texted yet: picking it starts
    # that conversation.
    box.get_by_role("button", name="Maximize").click()
    panel.get_by_test_id("add-contact").click()
    form = panel.locator("form")
    expect(form.get_by_label("Role")).to_have_value("spouse")
    form.get_by_label("First name").fill("Sam")
    form.get_by_label("Last name").fill("Reyes")
    form.get_by_label("Mobile number").fill("+1 (503) 555-0133")
    form.get_by_role("button", name="Add contact").click()
    sam = panel.get_by_test_id("contact").filter(has_text="Sam Reyes")
    expect(sam).to_contain_text("Spouse")
    shot(page, "contacts-added")
    sam.get_by_role("button", name="Text +1 503-555-0133").click()
    third = chatbox(page).filter(has=page.locator(".chatbox-sub", has_text="Sam Reyes"))
    expect(third).to_have_count(1)
    expect(third.locator(".thread-empty")).to_be_visible()
    expect(chatbox(page)).to_have_count(3)
    third.get_by_role("button", name="Restore").click()

    # Edit a contact's role, from the keyboard.
    box.get_by_role("button", name="Maximize").click()
    sam.get_by_role("button", name="Edit Sam Reyes").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Role").select_option("adjuster")
    page.keyboard.press("Enter")
    expect(sam).to_contain_text("Insurance adjuster")
    assert errors == []


CLOSING_SCRIPT = """
from chatserver import actions
from chatserver.models import Agent, Lead
bob = Agent.objects.get(user__username={bob!r})
lead = Lead.objects.get(organisation__name=ORG)
actions.assign_lead(lead, bob, actor=bob)
"""


def test_closing_and_reopening_a_lead_counts_an_engagement_for_its_assignee(
    team, browser_context
):
    server = start_console_server(team)
    bobs = browser_context().new_page()
    errors = watch(bobs)
    text_in(team, server, "+15035550141", "Please send the final invoice")
    run_script(team, CLOSING_SCRIPT.format(bob=team.bob))
    log_in(bobs, server, team.bob)
    alices = browser_context().new_page()
    errors += watch(alices)
    log_in(alices, server, team.alice)  # an admin
    own = bobs.get_by_test_id("engagements-own")
    expect(own).to_have_text("You closed 0 engagements this month")
    team_figure = alices.get_by_test_id("engagements")
    expect(team_figure).to_contain_text("Team: 0 closed this month")

    queue_row(bobs, "final invoice").click()
    box = chatbox(bobs)
    button = box.get_by_test_id("lead-status-button")
    expect(button).to_be_visible()  # once the details say Bob may close it
    expect(button).to_have_text("Close lead")
    button.focus()
    bobs.keyboard.press("Enter")
    expect(box.get_by_test_id("closed-chip")).to_be_visible()
    expect(button).to_have_text("Reopen lead")
    expect(box.get_by_test_id("composer-notice")).to_contain_text("closed")
    expect(
        bobs.locator("[data-bucket=closed] [data-testid=bucket-count]")
    ).to_have_text("1")
    expect(own).to_have_text("You closed 1 engagement this month")
    shot(bobs, "lead-closed")
    # The admin's figure moves live, and opens the team's.
    expect(team_figure).to_contain_text("Team: 1 closed this month")
    team_figure.click()
    table = alices.get_by_test_id("engagements-team")
    expect(table.locator("tr:has-text('Bob')")).to_contain_text("1")
    shot(alices, "engagements-team")
    alices.keyboard.press("Escape")
    expect(table).to_be_hidden()

    button.click()
    expect(box.get_by_test_id("closed-chip")).to_be_hidden()
    expect(button).to_have_text("Close lead")
    expect(bobs.locator("[data-bucket=mine] [data-testid=bucket-count]")).to_have_text(
        "1"
    )
    # Closed again the same month, it counts once.
    button.click()
    expect(button).to_have_text("Reopen lead")
    bobs.wait_for_timeout(800)
    expect(own).to_have_text("You closed 1 engagement this month")
    assert errors == []


SEARCH_SCRIPT = """
from carriers.base import InboundMessage
from chatserver import actions
from chatserver.models import Agent, Lead, MessageCategory
bob = Agent.objects.get(user__username={bob!r})
def text(number, body, n):
    return actions.receive_inbound(InboundMessage(
        carrier="simulator", carrier_message_id=f"{{SENDER}}-{{number}}-{{n}}",
        from_number=number, to_number=SENDER, body=body,
    ))
# Dana: the word is in her oldest text, 70 texts back (two pages of history).
text("+15035550151", "The gutters on the north side are overflowing", 0)
for n in range(1, 71):
    text("+15035550151", f"Update number {{n}} about the roof", n)
def lead_of(number):
    return Lead.objects.get(organisation__name=ORG, contacts__numbers__number=number)
dana = lead_of("+15035550151")
dana.name = "Dana Whitfield · roof repair"
dana.save()
contact = dana.contacts.get()
contact.first_name, contact.last_name = "Dana", "Whitfield"
contact.save()
# Marcus: his lead is closed; Priya's is Bob's.
text("+15035550152", "Can you clean the gutters too?", 0)
marcus = lead_of("+15035550152")
actions.close_lead(marcus, None)
text("+15035550153", "Gutter guards, how much?", 0)
priya = lead_of("+15035550153")
actions.assign_lead(priya, bob, actor=bob)
MessageCategory.objects.create(organisation=dana.organisation, name="Quote")
"""


def test_one_search_box_finds_leads_and_messages_in_every_bucket(team, browser_context):
    run_script(team, SEARCH_SCRIPT.format(bob=team.bob))
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    # The avatar's initials are the person's, not the lead title's.
    dana_row = queue_row(page, "Dana Whitfield")
    expect(dana_row.locator(".avatar")).to_have_text("DW")

    search = page.get_by_test_id("search")
    search.fill("gutter")
    results = page.get_by_test_id("search-results")
    # Every bucket's count, not only the selected bucket's.
    counts = {
        tab: results.locator(f"[data-bucket={tab}] [data-testid=bucket-count]")
        for tab in ("all", "unassigned", "assigned", "closed")
    }
    expect(counts["all"]).to_have_text("3")
    expect(counts["unassigned"]).to_have_text("1")
    expect(counts["assigned"]).to_have_text("1")
    expect(counts["closed"]).to_have_text("1")
    found = results.get_by_test_id("search-message")
    expect(found).to_have_count(3)
    dana = found.filter(has_text="north side")
    expect(dana.locator("mark")).to_have_text("gutters")
    expect(dana).to_contain_text("Dana Whitfield")
    shot(page, "search-results")
    # A bucket's tab narrows the list to it, from the keyboard too.
    results.locator("[data-bucket=closed]").click()
    expect(found).to_have_count(1)
    expect(found).to_contain_text("clean the gutters")
    page.keyboard.press("ArrowLeft")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Gutter guards")
    page.keyboard.press("ArrowRight")
    results.locator("[data-bucket=all]").click()

    # A message found opens its chatbox scrolled back to it.
    dana.click()
    box = chatbox(page)
    message = box.locator(".msg.found")
    expect(message).to_contain_text("north side are overflowing")
    expect(message).to_be_in_viewport()
    expect(
        box.get_by_test_id("message").filter(has_text="Update number 70")
    ).not_to_be_in_viewport()
    shot(page, "search-opened-at-message")

    # A number, written any way, finds its lead; Escape clears the search.
    search.fill("(503) 555-0153")
    lead = results.get_by_test_id("search-lead")
    expect(lead).to_have_count(1)
    expect(lead).to_contain_text("+1 503-555-0153")
    search.press("Escape")
    expect(results).to_be_hidden()
    expect(
        page.get_by_test_id("queue").get_by_test_id("queue-row").first
    ).to_be_visible()

    # Bob sees only his own lead's text.
    bobs = browser_context().new_page()
    errors += watch(bobs)
    log_in(bobs, server, team.bob)
    bobs.get_by_test_id("search").fill("gutter")
    bob_found = bobs.get_by_test_id("search-results").get_by_test_id("search-message")
    expect(bob_found).to_have_count(1)
    expect(bob_found).to_contain_text("Gutter guards")
    assert errors == []


def test_a_messages_category_shows_on_it_and_filters_the_search(team, browser_context):
    run_script(team, SEARCH_SCRIPT.format(bob=team.bob))
    run_script(
        team,
        "from chatserver import actions\n"
        "from chatserver.models import Consent, Organisation\n"
        "org = Organisation.objects.get(name=ORG)\n"
        "Consent.objects.update_or_create(organisation=org, number='+15035550153',"
        " defaults={'state': 'authorized'})\n",
    )
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.bob)
    queue_row(page, "Gutter guards").click()
    box = chatbox(page)
    composer = box.get_by_test_id("composer")
    composer.get_by_label("Category of this message").select_option(label="Quote")
    composer.locator("textarea").fill("Gutter guards are 12 dollars a foot, installed.")
    composer.locator("textarea").press("Enter")
    sent = box.get_by_test_id("message").filter(has_text="12 dollars a foot")
    expect(sent).to_have_attribute("data-status", "delivered", timeout=20_000)
    expect(sent.get_by_test_id("category")).to_have_text("Quote")
    # After a refresh too: it is stored with the message.
    page.reload()
    live(page)
    queue_row(page, "12 dollars").click()
    expect(
        chatbox(page)
        .get_by_test_id("message")
        .filter(has_text="12 dollars")
        .get_by_test_id("category")
    ).to_have_text("Quote")

    # The filter: only messages of that category, with or without words.
    page.get_by_test_id("category-filter").select_option(label="Quote")
    found = page.get_by_test_id("search-results").get_by_test_id("search-message")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("12 dollars a foot")
    expect(found.locator(".category-chip")).to_have_text("Quote")
    page.get_by_test_id("search").fill("gutter")
    expect(found).to_have_count(1)
    page.get_by_test_id("category-filter").select_option(label="Any category")
    expect(found).to_have_count(2)  # the lead's question too
    shot(page, "search-category")
    assert errors == []


def test_search_contacts_and_closing_at_phone_width(team, browser_context):
    run_script(team, SEARCH_SCRIPT.format(bob=team.bob))
    server = start_console_server(team)
    page = browser_context(viewport={"width": 390, "height": 844}).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    page.get_by_test_id("search").fill("north side")
    found = page.get_by_test_id("search-message")
    expect(found).to_have_count(1)
    shot(page, "search-phone")
    found.click()
    box = chatbox(page)
    expect(box).to_be_visible()
    expect(box.locator(".msg.found")).to_be_in_viewport()
    shot(page, "search-opened-phone")
    # The lead's people, over the thread; a number added from here.
    box.get_by_role("button", name="Contacts and team").click()
    panel = box.locator(".contacts-panel")
    panel.get_by_role("button", name="Add number for Dana Whitfield").click()
    panel.get_by_label("Mobile number").fill("(503) 555-0154")
    shot(page, "contacts-form-phone")
    panel.get_by_label("Mobile number").press("Enter")
    expect(
        panel.get_by_test_id("number").filter(has_text="+1 503-555-0154")
    ).to_be_visible()
    box.get_by_role("button", name="Contacts and team").click()
    # Closing from the header: an icon at this width, with its name.
    close = box.get_by_role("button", name="Close lead: Dana Whitfield · roof repair")
    expect(close).to_be_visible()
    close.click()
    expect(box.get_by_test_id("closed-chip")).to_be_visible()
    shot(page, "lead-closed-phone")
    assert errors == []

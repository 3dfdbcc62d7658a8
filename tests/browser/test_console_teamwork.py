"""Working a lead with the team, in real Chromium on a real Daphne: resending a
failed text (and one left to check), seeing who else is on a conversation,
saved replies typed with "/" and managed by an admin, and the words a lead
gets back (HELP, a first YES)."""

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
    set_phone_mode,
    shot,
    start_console_server,
    text_in,
    watch,
)

pytestmark = pytest.mark.browser

TOM = "+16175550131"
DANA = "+14155550133"


def test_a_failed_text_and_one_left_to_check_are_resent(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, TOM, "Can you come by this week?")
    queue_row(page, "Can you come by this week?").click()
    box = chatbox(page)

    set_phone_mode(team, server, TOM, "fail")
    box.locator("textarea").fill("Would Thursday at 10 work?")
    box.get_by_test_id("send").click()
    failed = box.get_by_test_id("message").filter(has_text="Would Thursday at 10 work?")
    expect(failed.first).to_have_attribute("data-status", "failed", timeout=20_000)
    set_phone_mode(team, server, TOM, "deliver")  # the phone is back
    failed.first.get_by_test_id("resend").click()
    copies = box.get_by_test_id("message").filter(has_text="Would Thursday at 10 work?")
    expect(copies).to_have_count(2)
    expect(copies.nth(1)).to_have_attribute("data-status", "delivered", timeout=20_000)
    expect(copies.nth(1)).to_contain_text("Resent")
    expect(copies.nth(0)).to_contain_text("Resent below")
    expect(copies.nth(0).get_by_test_id("resend")).to_have_count(0)  # once
    shot(page, "resent")

    # A text an outage left unsure (it may have gone): resent after a yes.
    run_script(
        team,
        "from django.db import transaction\n"
        "from chatserver import actions\n"
        "from chatserver.actions.messages import move_status\n"
        "from chatserver.models import Agent, Conversation\n"
        "alice = Agent.objects.get(organisation__name=ORG, user__first_name='Alice')\n"
        "c = Conversation.objects.get(sender__number=SENDER)\n"
        "with transaction.atomic():\n"
        "    m = actions.send_message(alice, c, 'See you at 10 then')\n"
        "    move_status(m, 'sending')\n"
        "    move_status(m, 'check', '', 'The server stopped while sending: "
        "check with the lead.')\n",
    )
    page.reload()  # (a script's events reach a server only on a shared Redis)
    live(page)
    unsure = box.get_by_test_id("message").filter(has_text="See you at 10 then")
    expect(unsure).to_have_attribute("data-status", "check")
    unsure.get_by_test_id("resend").click()
    expect(unsure).to_contain_text("It may have reached the lead")
    shot(page, "resend-check-confirm")
    unsure.get_by_test_id("resend-confirm").click()
    again = box.get_by_test_id("message").filter(has_text="See you at 10 then")
    expect(again).to_have_count(2)
    expect(again.nth(1)).to_have_attribute("data-status", "delivered", timeout=20_000)
    received = [t for t in phone_texts(team, server, TOM) if t["direction"] == "to_phone"]
    assert sum("Would Thursday at 10 work?" in t["body"] for t in received) == 2
    assert sum("See you at 10 then" in t["body"] for t in received) == 1
    assert errors == []


def test_an_agent_sees_a_colleague_typing_and_viewing_live(team, browser_context):
    server = start_console_server(team)
    text_in(team, server, DANA, "Hi, is anyone there? The roof leaks.")
    run_script(
        team,
        "from chatserver import actions\n"
        "from chatserver.models import Agent, Lead\n"
        "lead = Lead.objects.get(organisation__name=ORG)\n"
        "bob = Agent.objects.get(organisation__name=ORG, user__first_name='Bob')\n"
        "actions.assign_lead(lead, bob, actor=None)\n",
    )
    alice = browser_context().new_page()
    bob = browser_context().new_page()
    errors = watch(alice) + watch(bob)
    log_in(alice, server, team.alice)
    log_in(bob, server, team.bob)
    queue_row(bob, "The roof leaks").click()
    alice.locator("[data-testid=bucket][data-bucket=assigned]").click()
    queue_row(alice, "The roof leaks").click()
    on_alice = chatbox(alice).get_by_test_id("presence")
    expect(on_alice).to_have_text("Bob is viewing")
    expect(chatbox(bob).get_by_test_id("presence")).to_have_text("Alice is viewing")

    chatbox(bob).locator("textarea").type("Hi Dana, I am on my way")
    expect(on_alice).to_have_text("Bob is typing…")
    shot(alice, "presence-typing")
    expect(on_alice).to_have_text("Bob is viewing", timeout=10_000)  # stopped typing

    bob.close()  # his socket goes, and he with it
    expect(on_alice).to_be_hidden()
    assert errors == []


def test_saved_replies_are_made_by_an_admin_and_typed_with_a_slash(
    team, browser_context
):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)  # an admin
    text_in(team, server, DANA, "Hello, I need a quote for my roof")
    queue_row(page, "I need a quote").click()
    box = chatbox(page)
    expect(box.locator(".composer-hint")).to_be_hidden()  # no saved replies yet

    # The admin writes one, by keyboard, in the console.
    page.get_by_test_id("replies-admin-button").click()
    dialog = page.get_by_test_id("replies-admin")
    expect(dialog).to_be_visible()
    dialog.get_by_label("New category").fill("Quotes")
    dialog.get_by_label("New category").press("Enter")
    expect(dialog.locator(".category-row")).to_have_text(re.compile("Quotes"))
    dialog.get_by_label(re.compile("^Name")).fill("Quote ready")
    dialog.get_by_label("Category", exact=True).select_option(label="Quotes")
    dialog.get_by_label("Text", exact=True).fill("Hi ")
    dialog.get_by_role("button", name=re.compile(r"Insert \{lead.first_name\}")).click()
    dialog.get_by_label("Text", exact=True).press("End")
    dialog.get_by_label("Text", exact=True).type(", your quote is ready.")
    dialog.get_by_label("Text", exact=True).press("Tab")
    # A typo in a merge field is refused with the reason, nothing lost.
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_test_id("reply-row")).to_have_count(1)
    expect(dialog.get_by_label(re.compile("^Name"))).to_have_value("")  # saved: a new form
    dialog.get_by_label(re.compile("^Name")).fill("Broken")
    dialog.get_by_label("Text", exact=True).fill("Hi {lead.nickname}")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Unknown field {lead.nickname}")
    expect(dialog.get_by_label(re.compile("^Name"))).to_have_value("Broken")
    shot(page, "saved-replies-admin")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # In the composer: "/" offers it by name, filled in for the lead.
    text = box.locator("textarea")
    expect(box.locator(".composer-hint")).to_be_visible()  # re-read live
    text.focus()
    text.type("/quo")
    menu = box.get_by_test_id("replies-menu")
    expect(menu).to_be_visible()
    expect(menu.get_by_test_id("reply-option")).to_have_count(1)
    expect(text).to_have_attribute(
        "aria-activedescendant", re.compile(r"composer-\d+-reply-\d+")
    )
    shot(page, "saved-replies-slash")
    page.keyboard.press("Escape")  # closes the list, not the chatbox
    expect(menu).to_be_hidden()
    expect(box).not_to_have_class(re.compile(r"\bminimized\b"))
    text.type("t")
    expect(menu).to_be_visible()
    page.keyboard.press("Enter")
    expect(text).to_have_value(re.compile(r"^Hi .*, your quote is ready\.$"))
    assert "{" not in text.input_value()
    expect(box.get_by_label("Category of this message")).to_have_value(re.compile(r"\d+"))
    assert errors == []


def test_help_says_how_to_reach_us_and_a_first_yes_is_welcomed(team, browser_context):
    team.stack.command(
        "set_org", "--org", team.organisation, "--help-contact", "roofing.example/help"
    )
    run_script(
        team,
        "from chatserver import actions\n"
        "from chatserver.models import Organisation\n"
        "org = Organisation.objects.get(name=ORG)\n"
        f"actions.create_lead(org.id, 'Nina Park', 'Nina', 'Park', {DANA!r})\n",
    )
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    queue_row(page, "Nina Park").click()
    box = chatbox(page)
    box.get_by_role("button", name="Send authorization request").click()
    expect(box.get_by_test_id("message")).to_have_count(1)
    text_in(team, server, DANA, "YES")
    text_in(team, server, DANA, "HELP")
    replies = box.locator("[data-testid=message][data-direction=out]")
    expect(replies).to_have_count(3)
    expect(replies.nth(1)).to_contain_text("Thanks, you will get texts from us")
    expect(replies.nth(1)).not_to_contain_text("again")
    expect(replies.nth(2)).to_contain_text(
        f"{team.organisation}: for help, contact us at roofing.example/help."
    )
    shot(page, "help-and-first-yes")
    live(page)
    assert errors == []

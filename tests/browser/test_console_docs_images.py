"""The screenshots docs/console.md shows, taken from the real console (real
Daphne, real Chromium) at desktop and phone width.

Run as any browser test, it checks that the scene renders and saves the
pictures under tests/artifacts/; with ``UPDATE_DOCS_IMAGES=1`` it writes them
to docs/images/ instead, to be committed:

    UPDATE_DOCS_IMAGES=1 .venv/bin/pytest -q tests/browser/test_console_docs_images.py
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browser_support import (
    PHONE,
    REACHES,
    ARTIFACTS,
    chatbox,
    log_in,
    queue_row,
    run_script,
    start_console_server,
    text_in,
    watch,
)
from tests.servers import ROOT

pytestmark = pytest.mark.browser

DOCS_IMAGES = ROOT / "docs" / "images"

LEADS = [
    ("Dana Whitfield", "+14155550123", "Hi! We have a leak over the garage."),
    ("Marcus Lee", "+12125550142", "Can you send me the quote again? I lost it."),
    ("Priya Natarajan", "+13125550177", "Do you also do gutters? Mine overflow 🌧"),
    ("Tom Alvarez", "+16175550108", "Saw your flyer. How much is an inspection?"),
]

SCENE = """
from carriers.phone_network import network
from chatserver import actions
from chatserver.models import Agent, Conversation, Lead, MessageCategory, Template
alice = Agent.objects.get(organisation__name=ORG, user__first_name='Alice')
bob = Agent.objects.get(organisation__name=ORG, user__first_name='Bob')
for name, number in {names!r}:
    lead = Lead.objects.get(organisation__name=ORG, conversations__contact_number__number=number)
    lead.name = name
    lead.save()
    contact = lead.contacts.get()
    contact.first_name, contact.last_name = name.split()
    contact.save()
quotes = MessageCategory.objects.create(organisation=alice.organisation, name='Quotes')
Template.objects.create(organisation=alice.organisation, name='Quote ready', category=quotes,
    body='Hi {{lead.first_name}}, your quote is ready: I can walk you through it today.')
Template.objects.create(organisation=alice.organisation, name='Inspection booked',
    body='Thanks {{lead.first_name}}! Your roof inspection is booked. Reply here with any question.')
dana = Conversation.objects.get(organisation=alice.organisation,
    contact_number__number='+14155550123')
reaches(actions.send_message(alice, dana,
    'So sorry to hear that, Dana. Could we come Thursday at 10?'), 'delivered')
network().set_mode('+14155550123', 'undelivered')
reaches(actions.send_message(alice, dana,
    'Or Friday morning, if that suits you better?'), 'undelivered')
marcus = Conversation.objects.get(organisation=alice.organisation,
    contact_number__number='+12125550142')
actions.assign_lead(marcus.lead, bob, actor=alice)
"""


def save(page: Page, name: str) -> None:
    folder = DOCS_IMAGES if os.environ.get("UPDATE_DOCS_IMAGES") else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def test_the_console_as_docs_console_md_shows_it(team, browser_context):
    server = start_console_server(team)
    for _, number, body in LEADS:
        text_in(team, server, number, body)
    run_script(team, REACHES + SCENE.format(names=[(n, p) for n, p, _ in LEADS]))

    # Desktop: the inbox, two chatboxes (a failed text to resend, a colleague
    # typing in the other) and the "/" list of saved replies.
    desk = browser_context().new_page()
    errors = watch(desk)
    bob = browser_context().new_page()
    log_in(desk, server, team.alice)
    log_in(bob, server, team.bob)
    desk.locator("[data-testid=bucket][data-bucket=mine]").click()
    queue_row(desk, "Friday morning").click()
    desk.locator("[data-testid=bucket][data-bucket=assigned]").click()
    queue_row(desk, "quote again").click()
    desk.locator("[data-testid=bucket][data-bucket=unassigned]").click()
    queue_row(bob, "quote again").click()
    chatbox(bob).locator("textarea").type("Hi Marcus, sending it")
    marcus = chatbox(desk).filter(has_text="quote again")
    expect(marcus.get_by_test_id("presence")).to_have_text("Bob is typing…")
    dana = chatbox(desk).filter(has_text="Friday morning")
    expect(dana.get_by_test_id("resend")).to_be_visible()
    dana.locator("textarea").type("/qu")
    expect(dana.get_by_test_id("replies-menu")).to_be_visible()
    save(desk, "console-desktop")

    # The admins' saved replies.
    desk.keyboard.press("Escape")
    desk.get_by_test_id("replies-admin-button").click()
    expect(desk.get_by_test_id("reply-row")).to_have_count(2)
    save(desk, "console-saved-replies")
    desk.keyboard.press("Escape")

    # Phone: the inbox, and one chatbox filling the screen.
    phone = browser_context(**PHONE).new_page()
    errors += watch(phone)
    log_in(phone, server, team.alice)
    expect(queue_row(phone, "gutters")).to_be_visible()
    save(phone, "console-phone-inbox")
    queue_row(phone, "gutters").click()
    box = chatbox(phone)
    expect(box.get_by_test_id("message")).to_have_count(1)
    box.locator("textarea").fill("Yes, we do! I can send someone Monday.")
    save(phone, "console-phone-chatbox")
    assert errors == []

"""Chatboxes an agent can live in, in real Chromium on a real Daphne: the
thread opens at the newest message (also after its images load), drafts and
open chatboxes survive closing and a refresh, long names, the "+N" menu and
Escape, no gap after closing, note mode, and the plan warning said once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    PHONE,
    chatbox,
    live,
    log_in,
    phone_sends_photo,
    queue_row,
    run_script,
    shot,
    start_console_server,
    text_in,
    watch,
)
from tests.mms.mms_support import png

pytestmark = pytest.mark.browser

DANA = "+14155550123"
MARCUS = "+12125550142"
PRIYA = "+13125550177"
LEADS = {
    DANA: "We have a leak over the garage.",
    MARCUS: "Can you send me the quote again?",
    PRIYA: "Do you also do gutters?",
}


def at_bottom(box) -> bool:
    return box.locator(".thread-scroll").evaluate(
        "e => e.scrollHeight - e.scrollTop - e.clientHeight < 2"
    )


def answer_slowly(page, url_pattern: str, ms: int) -> None:
    """Requests whose URL matches are answered ``ms`` late (a slow network or
    a busy server)."""
    page.route(
        re.compile(url_pattern),
        lambda route: (page.wait_for_timeout(ms), route.continue_()),
    )


def test_the_thread_opens_at_the_newest_message_also_after_its_images_load(
    team, browser_context
):
    run_script(
        team,
        "from chatserver.models import Organisation\n"
        "Organisation.objects.filter(name=ORG).update(mms_enabled=True)\n",
    )
    server = start_console_server(team)
    for i in range(6):
        text_in(team, server, DANA, f"Earlier message {i}: the leak is getting worse")
    # A tall photo last: its 260 px arrive after the thread was drawn.
    phone_sends_photo(team, server, DANA, "Here it is", png(200, 600, (30, 90, 200)))
    page = browser_context(**PHONE).new_page()
    errors = watch(page)
    # The images load slowly, as on a phone's network.
    answer_slowly(page, r".*/attachments/\d+$", 700)
    log_in(page, server, team.alice)
    queue_row(page, "Here it is").click()
    box = chatbox(page)
    image = box.get_by_test_id("attachment-image")
    expect(image).to_be_visible()
    page.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=image.element_handle()
    )
    page.wait_for_timeout(200)
    assert at_bottom(box)
    expect(box.get_by_test_id("message").last).to_be_in_viewport()
    expect(box.locator(".bubble", has_text="Here it is")).to_be_in_viewport()
    shot(page, "phone-thread-after-image")
    assert errors == []


def test_drafts_and_open_chatboxes_survive_closing_and_a_refresh(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    for phone, body in LEADS.items():
        text_in(team, server, phone, body)
    for body in LEADS.values():
        queue_row(page, body).click()
        expect(chatbox(page).filter(has_text=body)).to_be_visible()
    dana = chatbox(page).filter(has_text=LEADS[DANA])
    marcus = chatbox(page).filter(has_text=LEADS[MARCUS])
    priya = chatbox(page).filter(has_text=LEADS[PRIYA])

    # A draft stays with its conversation when the chatbox closes.
    dana.locator("textarea").fill("We can come on Tuesday at")
    dana.get_by_role("button", name="Close", exact=True).click()
    expect(chatbox(page)).to_have_count(2)
    queue_row(page, LEADS[DANA]).click()
    expect(dana.locator("textarea")).to_have_value("We can come on Tuesday at")
    # A note half written, in the note tab.
    marcus.get_by_test_id("mode-note").click()
    marcus.locator("textarea").fill("Asked for the quote twice")
    priya.get_by_role("button", name="Minimize").click()
    order = [b["x"] for b in (dana.bounding_box(), marcus.bounding_box())]

    page.reload()
    live(page)
    expect(chatbox(page)).to_have_count(3)
    expect(dana.locator("textarea")).to_have_value("We can come on Tuesday at")
    expect(marcus.get_by_test_id("mode-note")).to_have_attribute(
        "aria-selected", "true"
    )
    expect(marcus.locator("textarea")).to_have_value("Asked for the quote twice")
    expect(priya).to_have_class(re.compile(r"\bminimized\b"))
    # In their order along the dock.
    assert [b["x"] for b in (dana.bounding_box(), marcus.bounding_box())] == order
    shot(page, "restored-after-refresh")

    # Sent, the draft is gone for good.
    dana.locator("textarea").press("End")
    dana.locator("textarea").type(" 9?")
    dana.get_by_test_id("send").click()
    expect(
        dana.get_by_test_id("message").filter(has_text="Tuesday at 9?")
    ).to_be_visible()
    page.reload()
    live(page)
    expect(dana.locator("textarea")).to_have_value("")
    assert errors == []


LONG_NAME = "Bartholomew Featherstonehaugh-Montgomery · roof replacement and gutters"


def test_names_the_plus_n_menu_closing_and_note_mode(team, browser_context):
    server = start_console_server(team)
    page = browser_context(viewport={"width": 1280, "height": 800}).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    phones = [f"+1702555{150 + i:04d}" for i in range(5)]
    for i, phone in enumerate(phones):
        text_in(team, server, phone, f"Question number {i} about the roof")
    run_script(
        team,
        "from chatserver.models import Lead\n"
        f"Lead.objects.filter(organisation__name=ORG, name__contains='{phones[0][-4:]}')"
        f".update(name={LONG_NAME!r})\n",
    )
    page.reload()
    live(page)
    for i in range(5):
        queue_row(page, f"Question number {i} ").click()
        page.wait_for_timeout(150)

    # A long name is cut with an ellipsis, and shows whole on hover.
    long_box = chatbox(page).filter(has_text="Question number 0 ")
    if long_box.is_hidden():
        page.get_by_test_id("overflow-button").click()
        page.get_by_test_id("overflow-menu").get_by_role("button").first.click()
    link = long_box.get_by_test_id("lead-link")
    expect(link).to_have_attribute("title", re.compile(re.escape(LONG_NAME)))
    assert link.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    long_box.get_by_role("button", name="Minimize").click()
    assert link.evaluate(
        "e => e.scrollWidth > e.clientWidth"
    )  # cut: it needs the title

    # Five do not fit: "+N" holds the rest; its menu closes with Escape.
    more = page.get_by_test_id("overflow-button")
    expect(more).to_be_visible()
    more.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_test_id("overflow-menu")
    expect(menu).to_be_visible()
    expect(more).to_have_attribute("aria-expanded", "true")
    shot(page, "overflow-menu")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(more).to_be_focused()
    expect(more).to_have_attribute("aria-expanded", "false")
    visible = page.locator("[data-testid=chatbox]:visible")
    count = visible.count()

    # Closing one leaves no gap: the others close ranks from the right.
    visible.nth(0).get_by_role("button", name="Close", exact=True).click()
    page.wait_for_timeout(300)
    boxes = sorted(
        (b.bounding_box() for b in page.locator("[data-testid=chatbox]:visible").all()),
        key=lambda b: b["x"],
    )
    assert len(boxes) >= min(count, 4) - 1
    right = page.viewport_size["width"]
    assert abs(boxes[-1]["x"] + boxes[-1]["width"] - (right - 12)) <= 2
    for left, nxt in zip(boxes, boxes[1:], strict=False):
        assert abs(nxt["x"] - (left["x"] + left["width"]) - 12) <= 2, boxes
    shot(page, "closed-one-no-gap")

    # After a note, the composer is back to texting the lead.
    box = page.locator("[data-testid=chatbox]:visible").last
    box.get_by_test_id("mode-note").click()
    box.locator("textarea").fill("Called, no answer")
    box.locator("textarea").press("Enter")
    expect(
        box.get_by_test_id("note").filter(has_text="Called, no answer")
    ).to_be_visible()
    expect(box.get_by_test_id("mode-text")).to_have_attribute("aria-selected", "true")
    expect(box.locator("textarea")).to_have_attribute(
        "placeholder", re.compile(r"^Text ")
    )
    assert errors == []


def test_the_plan_warning_shows_once(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, DANA, LEADS[DANA])
    queue_row(page, LEADS[DANA]).click()
    box = chatbox(page)
    box.locator("textarea").fill("Thanks 🙂 see you then")
    composer = box.get_by_test_id("composer")
    expect(
        composer.get_by_text(re.compile("not allowed on your plan", re.I))
    ).to_have_count(1)
    expect(box.get_by_test_id("send")).to_be_disabled()
    shot(page, "plan-warning-once")
    assert errors == []


def test_a_slash_typed_before_the_saved_replies_arrive_opens_their_list(
    team, browser_context
):
    run_script(
        team,
        "from chatserver.models import Organisation, Template\n"
        "Template.objects.create(organisation=Organisation.objects.get(name=ORG),"
        " name='Quote ready', body='Your quote is ready.')\n",
    )
    server = start_console_server(team)
    text_in(team, server, DANA, "Any news on my quote?")
    page = browser_context().new_page()
    errors = watch(page)
    # The chatbox's details (which bring the saved replies) come slowly, as on
    # a busy server: the agent types "/" before they are in.
    answer_slowly(page, r".*/api/conversations/\d+$", 1500)
    log_in(page, server, team.alice)
    queue_row(page, "Any news on my quote?").click()
    box = chatbox(page)
    box.locator("textarea").type("/quo")
    menu = box.get_by_test_id("replies-menu")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("Quote ready")
    assert errors == []

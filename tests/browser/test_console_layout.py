"""The console's layout: chatboxes stacked along the bottom and fitting the
screen, minimize / maximize / close, phone width, and the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
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

LEADS = {
    "+14155550123": "We have a leak over the garage.",
    "+12125550142": "Can you send me the quote again?",
    "+13125550177": "Do you also do gutters?",
}


def boxes_of(page):
    return [chatbox(page).nth(i).bounding_box() for i in range(chatbox(page).count())]


def test_three_chatboxes_stack_along_the_bottom_and_fit_the_screen(
    team, browser_context
):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    for phone, body in LEADS.items():
        text_in(team, server, phone, body)
    for body in LEADS.values():
        queue_row(page, body).click()
        expect(chatbox(page).filter(has_text=body)).to_be_visible()
    expect(chatbox(page)).to_have_count(3)
    shot(page, "three-chatboxes")

    viewport = page.viewport_size
    queue = page.get_by_test_id("queue").bounding_box()
    boxes = sorted(boxes_of(page), key=lambda b: b["x"])
    for box in boxes:
        assert box["x"] >= queue["x"] + queue["width"] - 1  # beside the queue
        assert box["x"] + box["width"] <= viewport["width"] + 1  # on screen
        assert abs(box["y"] + box["height"] - viewport["height"]) <= 2  # at the bottom
        assert box["width"] >= 300  # still a usable chatbox
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert left["x"] + left["width"] <= right["x"] + 1  # side by side, no overlap
    # The first opened sits at the right; the newest opened to its left.
    first = chatbox(page).filter(has_text=LEADS["+14155550123"]).bounding_box()
    assert first["x"] == max(b["x"] for b in boxes)

    # Minimize: the header stays, and flashes green when a text comes in.
    dana = chatbox(page).filter(has_text=LEADS["+14155550123"])
    dana.get_by_role("button", name="Minimize").click()
    expect(dana).to_have_class(re.compile(r"\bminimized\b"))
    assert dana.bounding_box()["height"] < 80
    expect(dana.locator(".lead-link")).to_be_visible()
    shakes = int(page.get_by_test_id("badge").get_attribute("data-shakes"))
    text_in(team, server, "+14155550123", "Are you still there?")
    expect(dana).to_have_class(re.compile(r"\bflash\b"))
    expect(dana).to_have_class(re.compile(r"\bhas-new\b"))
    # A minimized chatbox is not open: the badge shakes too.
    expect(page.get_by_test_id("badge")).to_have_attribute(
        "data-shakes", str(shakes + 1)
    )
    shot(page, "minimized-flash")

    # Maximize another: it takes the whole workspace.
    marcus = chatbox(page).filter(has_text=LEADS["+12125550142"])
    marcus.get_by_role("button", name="Maximize").click()
    big = marcus.bounding_box()
    assert big["width"] > viewport["width"] - queue["width"] - 60
    assert big["height"] > viewport["height"] - 140
    expect(marcus.locator(".contacts-panel")).to_be_visible()
    expect(marcus.locator(".team-panel")).to_be_visible()
    shot(page, "maximized")
    page.keyboard.press("Escape")  # back to its place in the stack
    expect(marcus).not_to_have_class(re.compile(r"\bmaximized\b"))

    # Close one: two remain, and they widen to use the room.
    width_before = marcus.bounding_box()["width"]
    chatbox(page).filter(has_text=LEADS["+13125550177"]).get_by_role(
        "button", name="Close", exact=True  # not "Close lead"
    ).click()
    expect(chatbox(page)).to_have_count(2)
    assert marcus.bounding_box()["width"] >= width_before

    # Opening the minimized one again expands it and reads its new message.
    dana.locator(".chatbox-head").click()
    expect(dana).not_to_have_class(re.compile(r"\bminimized\b"))
    expect(
        dana.get_by_test_id("message").filter(has_text="Are you still there?")
    ).to_be_visible()
    expect(page.get_by_test_id("badge-count")).to_have_text("0")
    assert errors == []


def test_at_phone_width_the_queue_is_a_view_and_one_chatbox_fills_the_screen(
    team, browser_context
):
    server = start_console_server(team)
    context = browser_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    for phone, body in list(LEADS.items())[:2]:
        text_in(team, server, phone, body)
    queue = page.get_by_test_id("queue")
    expect(queue).to_be_visible()
    assert queue.bounding_box()["width"] == 390
    expect(page.get_by_test_id("badge-count")).to_have_text("2")
    shot(page, "phone-queue")

    queue_row(page, LEADS["+14155550123"]).click()
    box = chatbox(page).filter(has_text=LEADS["+14155550123"])
    expect(box).to_be_visible()
    expect(queue).to_be_hidden()
    frame = box.bounding_box()
    assert frame["width"] == 390 and frame["x"] == 0
    assert frame["y"] + frame["height"] >= 843
    # The composer is on screen, with its counter.
    expect(box.get_by_test_id("counter")).to_be_in_viewport()
    expect(box.get_by_test_id("send")).to_be_in_viewport()
    shot(page, "phone-chatbox")

    # Back to the queue, open the other: still one chatbox on screen.
    box.get_by_role("button", name="Back to the inbox").click()
    expect(queue).to_be_visible()
    queue_row(page, LEADS["+12125550142"]).click()
    other = chatbox(page).filter(has_text=LEADS["+12125550142"])
    expect(other).to_be_visible()
    expect(box).to_be_hidden()
    expect(page.locator("[data-testid=chatbox]:visible")).to_have_count(1)
    assert errors == []


def test_the_console_works_by_keyboard(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, "+14155550123", "Hello from the keyboard test")
    row = queue_row(page, "Hello from the keyboard test")
    expect(row).to_be_visible()

    # Tab reaches the queue's rows; Enter opens one, in the composer.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "queue-row":
            break
    else:
        pytest.fail("Tab never reached a queue row")
    page.keyboard.press("Enter")
    box = chatbox(page)
    expect(box).to_be_visible()
    expect(box.locator("textarea")).to_be_focused()
    page.keyboard.type("Typed without a mouse")
    expect(box.get_by_test_id("counter")).to_contain_text("139 characters left")
    expect(page.locator(":focus-visible")).to_have_count(1)  # focus is shown

    # Escape minimizes; the header (a button-like region) expands it again.
    page.keyboard.press("Escape")
    expect(box).to_have_class(re.compile(r"\bminimized\b"))
    # The badge opens with the keyboard and lists the conversation.
    page.get_by_test_id("badge").focus()
    page.keyboard.press("Enter")
    dropdown = page.get_by_test_id("badge-dropdown")
    expect(dropdown).to_be_visible()
    expect(dropdown.get_by_test_id("badge-row").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).not_to_have_class(re.compile(r"\bminimized\b"))
    expect(box.locator("textarea")).to_have_value("Typed without a mouse")  # kept
    assert errors == []


HISTORY_SCRIPT = """
from carriers.base import InboundMessage
from chatserver import actions
for i in range(1, 121):
    actions.receive_inbound(InboundMessage(
        carrier="simulator", carrier_message_id=f"{SENDER}-history-{i}",
        from_number="+14155550123", to_number=SENDER, body=f"History message {i}",
    ))
"""


def test_scrolling_back_loads_the_whole_history_once(team, browser_context):
    run_script(team, HISTORY_SCRIPT)  # 120 texts: more than two pages
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    queue_row(page, "History message 120").click()
    box = chatbox(page)
    messages = box.get_by_test_id("message")
    expect(messages.filter(has_text="History message 120")).to_be_in_viewport()
    expect(messages).to_have_count(50)  # the newest page
    scroller = box.locator(".thread-scroll")
    for pages in (2, 3):
        scroller.evaluate("e => { e.scrollTop = 0; }")
        expect(messages).to_have_count(min(50 * pages, 120))
    expect(box.locator(".history-start")).to_be_visible()
    bodies = messages.locator(".bubble").all_inner_texts()
    assert bodies == [f"History message {i}" for i in range(1, 121)]  # in order, once
    shot(page, "history-start")
    assert errors == []

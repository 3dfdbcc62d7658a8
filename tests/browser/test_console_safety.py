"""Whatever a lead writes is shown as text: markup and script show as their
characters and nothing runs, in the queue, the dropdown, the chatbox and
search results."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    chatbox,
    log_in,
    queue_row,
    shot,
    start_console_server,
    text_in,
    watch,
)

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
LEAD = "+14155550123"


def test_an_html_laden_message_is_shown_as_text_and_runs_nothing(team, browser_context):
    server = start_console_server(team)
    page = browser_context().new_page()
    seen = watch(page)  # any alert() or script error lands here
    log_in(page, server, team.alice)
    text_in(team, server, LEAD, HOSTILE)

    row = queue_row(page, "<script>alert(2)</script>")
    expect(row).to_be_visible()
    expect(row.locator(".row-preview")).to_have_text(HOSTILE)

    page.get_by_test_id("badge").click()
    expect(page.get_by_test_id("badge-dropdown")).to_contain_text(HOSTILE)
    page.keyboard.press("Escape")

    row.click()
    bubble = chatbox(page).get_by_test_id("message").locator(".bubble")
    expect(bubble).to_have_text(HOSTILE)
    # Nothing was parsed as markup: no image, no script in the page's content.
    assert page.locator("#app img").count() == 0
    assert page.locator("#app script").count() == 0
    assert page.locator("[data-testid=badge-dropdown] img").count() == 0
    # An agent's reply with markup is text too, in their own bubble.
    composer = chatbox(page).locator("textarea")
    composer.fill("<b>bold</b> & <i>not</i>")
    composer.press("Enter")
    mine = chatbox(page).get_by_test_id("message").filter(has_text="<b>bold</b>")
    # (the first text to a number also carries the organisation's intro line)
    expect(mine.locator(".bubble")).to_contain_text("<b>bold</b> & <i>not</i>")
    assert page.locator("#app b, #app i").count() == 0
    page.wait_for_timeout(500)  # time for an onerror handler, had one been made
    shot(page, "html-as-text")

    # Found by a search, the words marked: still text, marks built around it.
    # (PostgreSQL's parser reads the tags as tags: "alert" is a word in both.)
    page.get_by_test_id("search").fill("alert")
    found = page.get_by_test_id("search-message").filter(has_text="alert(2)")
    expect(found.locator(".row-snippet")).to_have_text(HOSTILE)
    expect(found.locator(".row-snippet mark")).to_have_text(["alert", "alert"])
    assert page.locator("#app img, #app script").count() == 0
    page.wait_for_timeout(500)
    assert seen == []

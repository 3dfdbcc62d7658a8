"""Not missing a lead, in real Chromium on a real Daphne: desktop
notifications (asked for on a click, never on load) and a sound for texts in
the agent's own and unassigned conversations while the tab is hidden; the
unread count in the favicon and the title; each agent's choice kept; and the
assignment email's link, /?lead=<id>, opening the lead after signing in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    PASSWORD,
    chatbox,
    live,
    log_in,
    run_script,
    shot,
    start_console_server,
    text_in,
    watch,
)

pytestmark = pytest.mark.browser

# Records what the page asks of the browser: notifications shown, permission
# requests; and lets the test hide the tab (as switching to another does).
SPY = """
window.__notifications = [];
window.__permissionAsked = 0;
window.__hidden = false;
class SpyNotification {
  // The browser remembers a site's permission: so does the spy.
  static get permission() {
    return sessionStorage.getItem("spy-permission") || "default";
  }
  static requestPermission() {
    window.__permissionAsked += 1;
    sessionStorage.setItem("spy-permission", "granted");
    return Promise.resolve("granted");
  }
  constructor(title, options) {
    window.__notifications.push({ title, body: options.body, tag: options.tag });
  }
  close() {}
}
window.Notification = SpyNotification;
Object.defineProperty(document, "visibilityState", {
  get: () => (window.__hidden ? "hidden" : "visible"),
});
"""


def hide_tab(page, hidden: bool = True) -> None:
    page.evaluate(
        "h => { window.__hidden = h;"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def test_desktop_notifications_and_sound_for_my_texts_while_the_tab_is_hidden(
    team, browser_context
):
    # Bob's lead (Alice sees it too, but it is not hers to answer).
    run_script(
        team,
        "from chatserver import actions\n"
        "from chatserver.models import Agent, Organisation\n"
        "org = Organisation.objects.get(name=ORG)\n"
        "bob = Agent.objects.get(organisation=org, user__first_name='Bob')\n"
        "lead = actions.create_lead(org.id, 'Bo Lead', 'Bo', 'Lead', '+14155550171')\n"
        "actions.assign_lead(lead, bob, actor=None)\n",
    )
    server = start_console_server(team)
    context = browser_context()
    context.add_init_script(SPY)
    page = context.new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    assert page.evaluate("window.__permissionAsked") == 0  # never asked on load

    page.get_by_test_id("alerts-button").click()
    page.get_by_test_id("alert-desktop").check()
    expect(page.get_by_test_id("alert-desktop")).to_be_checked()
    assert page.evaluate("window.__permissionAsked") == 1  # asked on the click
    page.get_by_test_id("alert-sound").check()
    shot(page, "alerts-menu")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("alerts-menu")).to_be_hidden()

    # The tab is visible: the badge does the job, nothing pops up.
    text_in(team, server, "+14155550173", "Visible tab: no notification")
    expect(page.get_by_test_id("badge-count")).to_have_text("1")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__notifications") == []

    # Hidden: an unassigned lead's text notifies, with a sound.
    hide_tab(page)
    text_in(team, server, "+14155550172", "Hi, we need a new roof before winter")
    page.wait_for_function("window.__notifications.length === 1")
    [shown] = page.evaluate("window.__notifications")
    assert shown["title"].startswith("New text from")
    assert shown["body"] == "Hi, we need a new roof before winter"
    expect(page.get_by_test_id("alerts-button")).to_have_attribute("data-sounds", "1")

    # Bob's lead texts: not Alice's to answer, no alert.
    page.wait_for_timeout(1600)  # (past the burst that alerts once)
    text_in(team, server, "+14155550171", "A text for Bob")
    expect(page.get_by_test_id("badge-count")).to_have_text("3")
    page.wait_for_timeout(500)
    assert len(page.evaluate("window.__notifications")) == 1
    expect(page.get_by_test_id("alerts-button")).to_have_attribute("data-sounds", "1")

    # The count is in the tab's icon and its title.
    favicon = page.locator("link[rel=icon]")
    expect(favicon).to_have_attribute("data-count", "3")
    assert favicon.get_attribute("href").startswith("data:image/png")
    expect(page).to_have_title("(3) SMS console")

    # The choices are kept, for this agent, across a refresh.
    page.reload()
    live(page)
    page.get_by_test_id("alerts-button").click()
    expect(page.get_by_test_id("alert-desktop")).to_be_checked()
    expect(page.get_by_test_id("alert-sound")).to_be_checked()
    assert page.evaluate("window.__permissionAsked") == 0
    assert errors == []


def test_the_assignment_emails_link_opens_the_lead_after_signing_in(
    team, browser_context
):
    server = start_console_server(team)
    text_in(team, server, "+13125550190", "Please call me about the skylight")
    lead_id = run_script(
        team,
        "from chatserver import actions\n"
        "from chatserver.links import lead_path\n"
        "from chatserver.models import Agent, Lead\n"
        "bob = Agent.objects.get(organisation__name=ORG, user__first_name='Bob')\n"
        "lead = Lead.objects.get(organisation__name=ORG)\n"
        "actions.assign_lead(lead, bob, actor=None)\n"
        "actions.close_lead(lead, bob)\n"  # closed: not in the hello's list
        "print(lead_path(lead.id))\n",
    ).strip().splitlines()[-1]
    assert re.fullmatch(r"/\?lead=\d+", lead_id)
    page = browser_context().new_page()
    errors = watch(page)
    page.goto(server.url + lead_id)  # signed out: the sign-in page first
    page.fill("#id_username", team.bob)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    live(page)
    box = chatbox(page)
    expect(box).to_be_visible()
    expect(box).to_have_class(re.compile(r"\bmaximized\b"))
    expect(box).to_contain_text("Please call me about the skylight")
    assert page.url.endswith(lead_id)
    shot(page, "lead-link")

    # A lead that is not Alice's to see... is said so, not opened.
    other = browser_context().new_page()
    log_in(other, server, team.alice)
    other.goto(server.url + "/?lead=987654")
    live(other)
    expect(other.locator(".workspace-empty")).to_contain_text("not one you can see")
    expect(chatbox(other)).to_have_count(0)
    assert errors == []

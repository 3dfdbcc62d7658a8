"""An agent's rights change while their console is open (issue 16): the
composer greys or ungreys within a second, with no reload of the page, and a
deactivated agent is sent to the login page. Real Daphne, real Chromium, and
the change made by the CLI in a process of its own, which reaches the server
through Redis as in production."""

from __future__ import annotations

import re
import uuid

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

LEAD = "+13035550144"


@pytest.fixture
def shared(redis_url):
    """What the server and the CLI share: one Redis, one prefix of this test's."""
    return {"REDIS_URL": redis_url, "REDIS_PREFIX": f"rights{uuid.uuid4().hex[:8]}"}


def set_agent(team, shared, *options: str) -> None:
    team.stack.command("set_agent", *options, "--org", team.organisation, **shared)


def test_an_sms_deny_greys_the_open_composer_and_an_allow_ungreys_it(
    team, browser_context, shared
):
    server = start_console_server(team, **shared)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, LEAD, "Are you open on Saturdays?")
    queue_row(page, "open on Saturdays").click()
    box = chatbox(page)
    composer = box.get_by_test_id("composer")
    field = composer.locator("textarea")
    expect(field).to_be_enabled()
    page_loads = page.evaluate("performance.getEntriesByType('navigation').length")

    set_agent(team, shared, team.alice, "--sms", "deny")

    notice = box.get_by_test_id("composer-notice")
    expect(notice).to_have_text("You do not have permission to send SMS.", timeout=3000)
    expect(field).to_be_disabled()
    shot(page, "rights-sms-denied")

    set_agent(team, shared, team.alice, "--sms", "allow")
    expect(field).to_be_enabled(timeout=3000)
    expect(notice).to_be_hidden()
    # The same page all along: no reload, no reconnect of the page.
    assert page.evaluate("performance.getEntriesByType('navigation').length") == page_loads
    assert errors == []


def test_a_deactivated_agent_is_sent_to_the_login_page(team, browser_context, shared):
    server = start_console_server(team, **shared)
    page = browser_context().new_page()
    log_in(page, server, team.bob)

    set_agent(team, shared, team.bob, "--active", "no")

    expect(page).to_have_url(re.compile(r".*/accounts/login/.*"), timeout=5000)

"""The console with axe-core (Deque's accessibility engine) injected into real
Chromium: no serious or critical violation at desktop or phone width, in the
states an agent spends the day in (the inbox, chatboxes open with a failed
text and a colleague's presence, the "/" list, the Alerts menu, the admins'
saved replies and workflows dialogs, the Outstanding list).

axe-core comes from npm into var/axe (``bench/install-axe.sh``, also run by
.ci/run); without npm it is skipped, except in CI, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browser_support import (
    PHONE,
    REACHES,
    chatbox,
    log_in,
    queue_row,
    run_script,
    shot,
    start_console_server,
    text_in,
    watch,
)
from tests.conftest import require_or_skip
from tests.servers import ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "var" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe.min.js, installed from npm when it is not there yet."""
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(
            ["bash", str(ROOT / "bench" / "install-axe.sh")],
            cwd=ROOT,
            timeout=600,
            check=False,
            capture_output=True,
        )
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail("axe-core is missing: bench/install-axe.sh did not install it")
        require_or_skip("axe-core is missing: run bench/install-axe.sh (needs npm)")
    return AXE.read_text()


def violations(page: Page, axe_source: str) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now
    (injected through the DevTools protocol: the page's CSP forbids inline
    scripts, as it should)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    # axe's own default rule set (WCAG 2 A and AA, and its best practices;
    # not its experimental rules).
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page: Page, axe_source: str, state: str) -> None:
    found = violations(page, axe_source)
    assert found == [], f"{state}: {json.dumps(found, indent=1)}"


def scene(team, server) -> None:
    """Three leads texting; one assigned to Bob (his presence shows); a text
    that failed."""
    for phone, body in [
        ("+14155550141", "We have a leak over the garage."),
        ("+12125550142", "Can you send me the quote again?"),
        ("+13125550143", "Do you also do gutters? 🌧"),
    ]:
        text_in(team, server, phone, body)
    run_script(
        team,
        REACHES + "from carriers.phone_network import network\n"
        "from chatserver import actions\n"
        "from chatserver.models import Agent, Conversation, Template\n"
        "alice = Agent.objects.get(organisation__name=ORG, user__first_name='Alice')\n"
        "c = Conversation.objects.get(organisation=alice.organisation,"
        " contact_number__number='+14155550141')\n"
        "network().set_mode('+14155550141', 'fail')\n"  # a landline
        "reaches(actions.send_message(alice, c, 'Thursday at 10?'), 'failed')\n"
        "Template.objects.create(organisation=alice.organisation, name='Quote ready',"
        " body='Hi {lead.first_name}, your quote is ready.')\n"
        "from django.utils import timezone\n"
        "from chatserver.actions import followups\n"
        "followups.set_followup(alice, c.lead, timezone.now(), 'Call about the leak')\n",
    )


def test_the_console_has_no_serious_accessibility_violation_at_desktop_width(
    team, browser_context, axe_source
):
    server = start_console_server(team)
    scene(team, server)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    assert_accessible(page, axe_source, "the inbox")

    page.locator("[data-testid=bucket][data-bucket=mine]").click()
    queue_row(page, "Thursday at 10?").click()
    page.locator("[data-testid=bucket][data-bucket=unassigned]").click()
    queue_row(page, "quote again").click()
    box = chatbox(page).filter(has_text="Thursday at 10?")
    expect(box.get_by_test_id("resend")).to_be_visible()
    other = chatbox(page).filter(has_text="quote again")
    other.locator("textarea").type("/quo")
    expect(other.get_by_test_id("replies-menu")).to_be_visible()
    assert_accessible(page, axe_source, "two chatboxes, a failed text, the / list")

    page.keyboard.press("Escape")
    box.get_by_role("button", name="Maximize").click()
    expect(box.locator(".contacts-panel")).to_be_visible()
    assert_accessible(page, axe_source, "a maximized chatbox with its panels")
    page.keyboard.press("Escape")

    page.get_by_test_id("alerts-button").click()
    assert_accessible(page, axe_source, "the Alerts menu")
    page.keyboard.press("Escape")
    page.get_by_test_id("badge").click()
    assert_accessible(page, axe_source, "the badge's dropdown")
    page.keyboard.press("Escape")

    page.get_by_test_id("replies-admin-button").click()
    expect(page.get_by_test_id("reply-row")).to_have_count(1)
    assert_accessible(page, axe_source, "the saved replies dialog")
    page.keyboard.press("Escape")

    page.get_by_test_id("workflows-admin-button").click()
    expect(page.get_by_test_id("step-row")).to_have_count(1)
    assert_accessible(page, axe_source, "the workflows dialog")
    page.keyboard.press("Escape")
    page.get_by_test_id("outstanding-button").click()
    expect(page.get_by_test_id("outstanding-row")).to_have_count(1)
    assert_accessible(page, axe_source, "the Outstanding list")
    shot(page, "a11y-desktop")
    assert errors == []


def test_the_console_has_no_serious_accessibility_violation_at_phone_width(
    team, browser_context, axe_source
):
    server = start_console_server(team)
    scene(team, server)
    page = browser_context(**PHONE).new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    assert_accessible(page, axe_source, "the inbox (phone)")
    queue_row(page, "quote again").click()
    box = chatbox(page)
    expect(box).to_be_visible()
    assert_accessible(page, axe_source, "a chatbox (phone)")
    box.get_by_role("button", name="Contacts and team").click()
    assert_accessible(page, axe_source, "a chatbox's panels (phone)")
    box.get_by_role("button", name="Back to the inbox").click()
    page.get_by_test_id("alerts-button").click()
    assert_accessible(page, axe_source, "the Alerts menu (phone)")
    page.keyboard.press("Escape")
    page.get_by_test_id("outstanding-button").click()
    expect(page.get_by_test_id("outstanding-row")).to_have_count(1)
    assert_accessible(page, axe_source, "the Outstanding list (phone)")
    shot(page, "a11y-phone")
    assert errors == []

"""The send governor in the console: a follow-up the law holds says which law
and when it may go, and one click schedules it for then. Real Daphne, real
Chromium, the simulated carrier."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    chatbox,
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

OKLAHOMA = "+14055550123"  # a lead in Oklahoma City: at most 3 such texts a day

# The lead wrote two days ago, and three follow-ups went to them in the last
# hour: Oklahoma's cap holds a fourth at any hour of the day.
CAP_FILLED_SCRIPT = f"""
import datetime
from django.utils import timezone
from chatserver.actions.messages import queue_message
from chatserver.models import Message
number = {OKLAHOMA!r}
inbound = Message.objects.filter(conversation__contact_number__number=number)
conversation = inbound.first().conversation
inbound.update(created_at=timezone.now() - datetime.timedelta(days=2))
for minutes in (50, 40, 30):
    sent = queue_message(conversation, f"Follow-up {{minutes}}")
    Message.objects.filter(pk=sent.pk).update(
        status="sent", governed=True,
        created_at=timezone.now() - datetime.timedelta(minutes=minutes),
    )
"""


def test_a_follow_up_the_law_holds_says_why_and_is_scheduled_in_one_click(
    team, browser_context
):
    server = start_console_server(team, ENFORCE_SEND_GOVERNOR="true")
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, OKLAHOMA, "Send me the quote for the gutters")
    run_script(team, CAP_FILLED_SCRIPT)
    page.reload()
    queue_row(page, "Follow-up 30").click()  # the latest text, as the row shows it
    box = chatbox(page)
    box.locator("textarea").fill("Did the quote reach you?")
    box.get_by_test_id("send").click()

    notice = box.get_by_test_id("composer-notice")
    expect(notice).to_contain_text("Held by")
    expect(notice).to_contain_text("Oklahoma")
    # What the agent typed is still there, and the button says when it goes.
    expect(box.locator("textarea")).to_have_value("Did the quote reach you?")
    schedule = box.get_by_role("button", name=re.compile(r"^Schedule it for \d"))
    shot(page, "governor-held")
    # From the keyboard, as an agent whose hands are on it: the notice above
    # the composer may still be growing, and a click aims at a place.
    schedule.focus()
    page.keyboard.press("Enter")
    bubble = box.get_by_test_id("message").filter(has_text="Did the quote reach you?")
    expect(bubble).to_have_attribute("data-status", "scheduled")
    expect(bubble.get_by_test_id("status")).to_contain_text("Scheduled for")
    page.wait_for_timeout(1500)  # the outbox had time to send it, had it been due
    assert not [
        m
        for m in phone_texts(team, server, OKLAHOMA)
        if m["direction"] == "to_phone" and "quote reach you" in m["body"]
    ]
    assert errors == []

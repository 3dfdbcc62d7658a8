"""A dropped socket: the page says so, reconnects on its own, and resumes from
the last event it saw, with every message shown once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    chatbox,
    live,
    log_in,
    queue_row,
    shot,
    start_console_server,
    text_in,
    watch,
)
from tests.servers import free_port

pytestmark = pytest.mark.browser

DANA = "+14155550123"
MARCUS = "+12125550142"


def test_a_dropped_socket_resumes_with_nothing_lost_or_doubled(team, browser_context):
    port = free_port()
    server = start_console_server(team, port=port)
    # A second server process on the same database keeps taking texts while
    # the page's server is down, as a second instance behind a balancer would.
    other = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)
    text_in(team, server, DANA, "Text 1 before the drop")
    queue_row(page, "Text 1").click()
    box = chatbox(page)
    messages = box.get_by_test_id("message")
    expect(messages.filter(has_text="Text 1")).to_have_count(1)

    server.stop()
    connection = page.get_by_test_id("connection")
    expect(connection).not_to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("connection-banner")).to_contain_text("Connection lost")
    shot(page, "disconnected")

    text_in(team, other, DANA, "Text 2 while away")
    text_in(team, other, DANA, "Text 3 while away")
    text_in(team, other, MARCUS, "A new lead wrote while you were away")

    restarted = start_console_server(team, port=port)
    live(page, timeout=45_000)  # reconnected on its own, after its backoff
    expect(page.get_by_test_id("connection-banner")).to_be_hidden()
    for body in ("Text 1", "Text 2", "Text 3"):
        expect(messages.filter(has_text=body)).to_have_count(1)
    # The open conversation was read; the other one waits in the badge.
    row = queue_row(page, "A new lead wrote while you were away")
    expect(row.get_by_test_id("row-unread")).to_have_text("1")
    expect(page.get_by_test_id("badge-count")).to_have_text("1")

    # And it is live again: a new text arrives once, without a refresh.
    text_in(team, restarted, DANA, "Text 4 after the return")
    expect(messages.filter(has_text="Text 4")).to_have_count(1)
    page.wait_for_timeout(500)  # a late duplicate would show by now
    expect(messages).to_have_count(4)
    shot(page, "resumed")
    assert errors == []

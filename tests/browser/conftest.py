"""Fixtures of the browser tests: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os

import pytest

from tests.browser.browser_support import CHROMIUM, CHROMIUM_ARGS, new_team
from tests.conftest import require_or_skip
from tests.servers import make_stack


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module (contexts keep tests apart)."""
    if not os.path.exists(CHROMIUM):
        require_or_skip(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("the playwright package is not installed")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def browser_context(chromium):
    """A fresh browser profile (cookies, storage) per test, desktop sized;
    call it again for more (another person, another device)."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1440, "height": 900})
        context = chromium.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def console_stack():
    """A database (SQLite, or PostgreSQL with DATABASE_URL) for the servers
    of the browser tests; each test works in an organisation of its own."""
    stack = make_stack()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def team(console_stack):
    """A fresh organisation in it: alice (all leads, admin), bob (his own),
    and a simulator number. Servers the test starts are stopped after it."""
    before = len(console_stack.servers)
    yield new_team(console_stack)
    for server in console_stack.servers[before:]:
        server.stop()
    del console_stack.servers[before:]

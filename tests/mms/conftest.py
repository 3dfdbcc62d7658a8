"""The browser tests' fixtures (real Chromium on a real Daphne), for the MMS
browser test here."""

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    browser_context,
    chromium,
    console_stack,
    team,
)

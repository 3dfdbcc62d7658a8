"""Helpers for the console's browser tests: a real Daphne, real Chromium.

Each test gets a team of its own (an organisation, alice who sees every lead,
bob who sees his own, and a simulator number) in a database shared by the
tests of one module, so tests stay apart without a database each.

Texts from leads arrive as the simulated carrier delivers them: a signed POST
to ``/carriers/simulator/inbound`` (``carriers.simulator.signed_headers``, with
the server's secret). Agents log in through the real login form.
"""

from __future__ import annotations

import itertools
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.mms.mms_support import multipart
from tests.servers import (
    ROOT,
    Browserless,
    Server,
    Stack,
    free_port,
    text_through_simulator,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
# A browser context shaped like a phone (an iPhone 14's viewport, touch).
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PASSWORD = "console-pass-1"
_teams = itertools.count(1)

# One shell command makes a team (five commands would take seconds each).
TEAM_SCRIPT = """
from chatserver import actions
org = actions.add_organisation({org!r})
actions.add_agent({alice!r}, {password!r}, org, access="all", sms="allow",
                  admin=True, first_name="Alice")
actions.add_agent({bob!r}, {password!r}, org, access="mine", sms="allow",
                  first_name="Bob")
actions.add_number({sender!r}, "simulator", org)
"""


@dataclass
class Team:
    """An organisation of the shared database, its agents and its number."""

    stack: Stack
    organisation: str
    alice: str
    bob: str
    sender: str


def new_team(stack: Stack) -> Team:
    n = next(_teams)
    team = Team(
        stack=stack,
        organisation=f"Acme Roofing {n}",
        alice=f"alice{n}",
        bob=f"bob{n}",
        sender=f"+1702555{100 + n:04d}",  # +1 702-555-01xx: fictional
    )
    stack.command(
        "shell",
        "-c",
        TEAM_SCRIPT.format(
            org=team.organisation,
            alice=team.alice,
            bob=team.bob,
            password=PASSWORD,
            sender=team.sender,
        ),
    )
    return team


def start_console_server(team: Team, port: int | None = None, **env: str) -> Server:
    """A Daphne serving the console, sending through the simulator from its own
    process (as `make run` does), on the real Redis when the suite has one."""
    return team.stack.start_server(
        port=port or free_port(),
        **{
            "OUTBOX_IN_PROCESS": "true",
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            **env,
        },
    )


# For scripts (run_script): wait until the server's own outbox has sent
# ``message`` and the simulated carrier has reported ``status``. A script that
# marked the text itself would race that sender, which may already have it.
REACHES = """
import time
def reaches(message, status):
    for _ in range(300):
        message.refresh_from_db()
        if message.status == status:
            return message
        time.sleep(0.05)
    raise SystemExit(f'{message.body!r} is {message.status}, not {status}')
"""


def run_script(team: Team, code: str) -> str:
    """Run Python in the team's database (``chatserver shell -c``); ``ORG`` and
    ``SENDER`` name the team's organisation and number."""
    prelude = f"ORG = {team.organisation!r}\nSENDER = {team.sender!r}\n"
    return team.stack.command("shell", "-c", prelude + code)


def text_in(team: Team, server: Server, phone: str, body: str) -> None:
    """A lead's phone texts the team's number: the simulated carrier's signed
    webhook, as the network delivers it. Returns once the text is stored."""
    secret = team.stack.env["SECRET_KEY"]
    status = text_through_simulator(server, secret, phone, team.sender, body)
    assert status in (200, 204), status


def phone_sends_photo(
    team: Team, server: Server, phone: str, body: str, photo: bytes
) -> None:
    """The lead's phone texts a photo (PNG bytes), from the simulator page's
    form."""
    from tests.mms.mms_support import multipart

    client = staff_client(team, server)
    client.get("/simulator/")
    data, content_type = multipart(
        {"phone": phone, "company": team.sender, "body": body},
        [("image", "photo.png", photo, "image/png")],
    )
    request = urllib.request.Request(
        server.url + "/simulator/text",
        data=data,
        headers={
            "Content-Type": content_type,
            "X-CSRFToken": client.cookie("csrftoken"),
            "Referer": server.url + "/simulator/",
        },
    )
    try:
        with client.opener.open(request, timeout=15) as response:
            assert response.status == 200
    except urllib.error.HTTPError as exc:
        raise AssertionError(exc.read().decode(errors="replace")) from None


def staff_client(team: Team, server: Server) -> Browserless:
    client = Browserless(server.url)
    client.login(team.alice, PASSWORD)
    return client


def phone_texts(team: Team, server: Server, phone: str) -> list[dict]:
    """The texts between the phone and the team's number, as the simulator
    page (staff only) shows them."""
    client = staff_client(team, server)
    status, text = client.get("/simulator/state?phone=" + urllib.parse.quote(phone))
    assert status == 200, text
    return json.loads(text)["messages"]


def set_phone_mode(team: Team, server: Server, phone: str, mode: str) -> None:
    """Make the simulated network treat texts to ``phone`` as ``mode`` says
    (the simulator page's own form)."""
    client = staff_client(team, server)
    client.get("/simulator/")  # its CSRF cookie
    data = urllib.parse.urlencode({"phone": phone, "mode": mode}).encode()
    request = urllib.request.Request(
        server.url + "/simulator/mode",
        data=data,
        headers={
            "X-CSRFToken": client.cookie("csrftoken"),
            "Referer": server.url + "/simulator/",
        },
    )
    with client.opener.open(request, timeout=10) as response:
        assert response.status == 200


def log_in(page: Page, server: Server, username: str) -> Page:
    """Sign in through the login form and wait for the console to be live."""
    page.goto(server.url + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    live(page)
    return page


def watch(page: Page) -> list[str]:
    """Collect what must never happen on a page: an alert (an injected script
    would open one) or an uncaught script error."""
    seen: list[str] = []

    def on_dialog(dialog):
        seen.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


def live(page: Page, timeout: float = 15_000) -> None:
    expect(page.get_by_test_id("connection")).to_have_attribute(
        "data-state", "live", timeout=timeout
    )


def shot(page: Page, name: str) -> Path:
    """Save a screenshot of the page's current state under tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"console-{name}.png"
    page.screenshot(path=str(path))
    return path


def chatbox(page: Page):
    return page.locator("[data-testid=chatbox]")


def queue_row(page: Page, text: str):
    """The queue row whose text contains ``text``."""
    return (
        page.get_by_test_id("queue").get_by_test_id("queue-row").filter(has_text=text)
    )

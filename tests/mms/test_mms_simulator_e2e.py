"""The whole MMS flow as `make run` shows it, on a real Daphne: a phone on the
simulator page texts a photo; the server fetches it off the webhook's path and
shows it to the agent; the agent answers with an image, which the simulated
carrier fetches from its signed URL and the phone shows."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import SENDER_NUMBER
from tests.mms.mms_support import JPEG, multipart, png
from tests.servers import Browserless

pytestmark = pytest.mark.e2e

LEAD = "+16175550108"


def post_form(client: Browserless, path: str, fields, files) -> tuple[int, str]:
    body, content_type = multipart(fields, files)
    request = urllib.request.Request(
        client.base_url + path,
        data=body,
        headers={
            "Content-Type": content_type,
            "X-CSRFToken": client.cookie("csrftoken") or "",
            "Referer": client.base_url + "/",
        },
    )
    try:
        with client.opener.open(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def get_bytes(client: Browserless, path: str) -> tuple[int, str, bytes]:
    try:
        with client.opener.open(client.base_url + path, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", b""


def wait_for(check, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s")


def test_a_photo_from_the_simulated_phone_reaches_the_agent_and_one_goes_back(stack):
    stack.command(
        "shell",
        "-c",
        "from chatserver.models import Organisation; "
        "Organisation.objects.update(mms_enabled=True)",
    )
    server = stack.start_server(OUTBOX_IN_PROCESS="true")
    alice = Browserless(server.url)
    alice.login("alice", "alice-pass-1")
    assert alice.get("/simulator/")[0] == 200

    # The lead's phone sends a photo with a text, from the simulator page.
    # Over 1 MB, as phone photos are: more than other requests may carry.
    photo = png(32, 24, (10, 120, 60)) + bytes(1_500_000)
    status, _ = post_form(
        alice,
        "/simulator/text",
        {"phone": LEAD, "company": SENDER_NUMBER, "body": "Here is the leak"},
        [("image", "leak.png", photo, "image/png")],
    )
    assert status == 200  # the page again, after its redirect

    def accepted():
        state = json.loads(alice.get("/api/state")[1])
        for conversation in state["conversations"]:
            last = conversation["last_message"] or {}
            items = last.get("attachments") or []
            if items and items[0]["status"] == "accepted":
                return conversation["id"], last, items[0]
        return None

    conversation, message, item = wait_for(accepted, "the photo, fetched")
    assert message["body"] == "Here is the leak" and message["encoding"] == "MMS"
    status, kind, content = get_bytes(alice, item["url"])
    assert (status, kind, content) == (200, "image/png", photo)
    # Bob, who sees only his own leads, does not get it.
    bob = Browserless(server.url)
    bob.login("bob", "bob-pass-1")
    assert get_bytes(bob, item["url"])[0] == 404

    # Alice answers with an image.
    alice.get("/")  # the console's CSRF cookie
    status, text = post_form(
        alice,
        f"/api/conversations/{conversation}/mms",
        {"body": "This is the fix we propose", "client_id": ""},
        [("image", "fix.jpg", JPEG + bytes(1_500_000), "image/jpeg")],
    )
    assert status == 201, text
    sent = json.loads(text)["message"]

    def phone_has_picture():
        query = urllib.parse.urlencode({"phone": LEAD})
        state = json.loads(alice.get(f"/simulator/state?{query}")[1])
        for text_ in state["messages"]:
            if text_["direction"] == "to_phone" and text_["media"]:
                return text_
        return None

    received = wait_for(phone_has_picture, "the picture on the phone")
    assert received["body"].endswith("This is the fix we propose")
    assert received["media_problem"] == ""
    [picture] = received["media"]
    status, kind, content = get_bytes(alice, picture["url"])
    assert (status, content) == (200, JPEG + bytes(1_500_000))

    # Delivered, as the simulated carrier reports it.
    def delivered():
        page = json.loads(alice.get(f"/api/conversations/{conversation}/messages")[1])
        mine = [m for m in page["messages"] if m["id"] == sent["id"]]
        return mine and mine[0]["status"] == "delivered"

    wait_for(delivered, "the MMS delivered")

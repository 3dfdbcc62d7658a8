"""A lead's images: recorded by the webhook, fetched off its path with the
account's credentials from the carrier's own media host (a real HTTP server
here, demanding basic auth), checked, stored, and shown to the agents."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from chatserver import actions
from chatserver.actions import attachments
from chatserver.models import Attachment, Event, Message
from chatserver.worker import loop as outbox
from chatserver.worker import media as inbound_media
from tests.mms.mms_support import (
    GIF,
    HTML,
    JPEG,
    PDF,
    MediaHost,
    media_path,
    png,
    twilio_mms,
)
from tests.twilio_mock import TEST_SID

TWILIO_NUMBER = "+14155550102"
LEAD = "+12125550142"
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def media_host(settings):
    """Twilio's API as far as media goes: TWILIO_API_URL points at it, and it
    wants the account's SID and token."""
    host = MediaHost(credentials=(TEST_SID, settings.TWILIO_AUTH_TOKEN))
    settings.TWILIO_API_URL = host.url
    yield host
    host.close()


@pytest.fixture
def evil_host():
    """Another server on this machine, that no webhook may make us call."""
    host = MediaHost()
    yield host
    host.close()


@pytest.fixture
def twilio_org(org):
    org.mms_enabled = True
    org.save()
    actions.add_number(TWILIO_NUMBER, "twilio", org)
    return org


def webhook(client, settings, media, body="Photo of the roof"):
    response = twilio_mms(client, TWILIO_NUMBER, LEAD, media, body=body)
    assert response.status_code == 200, response.content
    return Message.objects.get(body=body)


def fetch_all() -> int:
    """Run the fetcher until nothing is due; returns how many it handled."""
    handled = 0
    while True:
        done = inbound_media.run_once()
        if not done:
            return handled
        handled += done


def test_several_images_are_fetched_with_the_accounts_credentials_off_the_webhook(
    client, settings, twilio_org, media_host, alice
):
    photo = png(30, 20)
    roof = media_host.serve(media_path("ME1"), photo, "image/png")
    # Twilio answers its API URL with a redirect to where the bytes are.
    document_path = media_path("ME2")
    stored_at = f"/2010-04-01/Accounts/{TEST_SID}/Media/stored-ME2"
    media_host.serve(stored_at, JPEG, "image/jpeg")
    document = media_host.serve(
        document_path, b"", status=307, headers={"Location": stored_at}
    )
    wave = media_host.serve(media_path("ME3"), GIF, "image/gif")

    message = webhook(
        client,
        settings,
        [(roof, "image/png"), (document, "image/jpeg"), (wave, "image/gif")],
    )

    # The webhook answered without fetching anything: the images wait.
    assert media_host.requests == []
    assert message.encoding == "MMS" and message.segments == 1
    assert list(message.attachments.values_list("status", flat=True)) == ["pending"] * 3

    assert fetch_all() == 3

    found = list(message.attachments.order_by("id"))
    assert [a.status for a in found] == ["accepted"] * 3
    assert [a.content_type for a in found] == ["image/png", "image/jpeg", "image/gif"]
    assert [a.size for a in found] == [len(photo), len(JPEG), len(GIF)]
    for attachment, content in zip(found, [photo, JPEG, GIF], strict=True):
        with default_storage.open(attachment.file.name) as stored:
            assert stored.read() == content
    # Every request carried the account's credentials (none was refused).
    assert len(media_host.requests) == 4
    assert all(r["authorization"].startswith("Basic ") for r in media_host.requests)
    assert stored_at in media_host.paths()
    # Each image's arrival was published: the consoles show it at once.
    updates = Event.objects.filter(type="message.updated").order_by("id")
    assert updates.count() == 3
    last = updates.last().payload["message"]
    assert [a["status"] for a in last["attachments"]] == ["accepted"] * 3

    # The agent's console gets the image itself from us, not from Twilio.
    browser = Client()
    browser.force_login(alice.user)
    response = browser.get(last["attachments"][0]["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == photo
    download = browser.get(last["attachments"][0]["download_url"])
    assert download["Content-Disposition"].startswith("attachment;")


def test_the_outbox_loop_fetches_them_and_a_redelivered_webhook_adds_nothing(
    client, settings, twilio_org, media_host
):
    url = media_host.serve(media_path("ME1"), JPEG, "image/jpeg")
    media = [(url, "image/jpeg")]
    message = webhook(client, settings, media)
    # Twilio retries a webhook it thinks failed: the same MessageSid.
    sid = message.carrier_message_id
    again = twilio_mms(
        client, TWILIO_NUMBER, LEAD, media, body="Photo of the roof", sid=sid
    )
    assert again.status_code == 200
    assert Message.objects.filter(carrier_message_id=sid).count() == 1

    outbox.run_once()

    [attachment] = Attachment.objects.all()
    assert attachment.status == "accepted"
    assert media_host.paths().count(url[len(media_host.url) :]) == 1


def test_a_type_and_a_size_the_carrier_does_not_take_are_refused_with_the_reason(
    client, settings, twilio_org, media_host
):
    pdf = media_host.serve(media_path("ME1"), PDF, "application/pdf")
    # A file that says it is a PNG but is a web page: refused by its bytes.
    page = media_host.serve(media_path("ME2"), HTML, "image/png")
    big = media_host.serve(media_path("ME3"), JPEG + b"\0" * FIVE_MB, "image/jpeg")
    # No Content-Length: the size is only known while reading, and an endless
    # body is abandoned as soon as it passes the limit.
    endless_path = media_path("ME4")

    def chunks():
        yield JPEG
        for _ in range(64 * 16):  # 64 MB, if anyone read it all
            yield b"\0" * 65536

    endless = media_host.serve(endless_path, chunks, "image/jpeg")
    fine = media_host.serve(media_path("ME5"), png(), "image/png")

    message = webhook(
        client,
        settings,
        [
            (pdf, "application/pdf"),
            (page, "image/png"),
            (big, "image/jpeg"),
            (endless, "image/jpeg"),
            (fine, "image/png"),
        ],
        body="Here are the documents",
    )
    fetch_all()

    found = {a.source_url: a for a in message.attachments.all()}
    assert found[fine].status == "accepted"
    refused = [found[url] for url in (pdf, page, big, endless)]
    assert [a.status for a in refused] == ["rejected"] * 4
    assert found[pdf].reason == (
        "Only JPEG, PNG, GIF or WebP images are accepted, not application/pdf."
    )
    assert "not one" in found[page].reason
    # Refused from its Content-Length, before reading it.
    assert found[big].reason == "Too large: over the 5 MB limit."
    assert found[endless].reason == "Too large: over the 5 MB limit."
    assert not any(a.file for a in refused)
    # Reading stopped soon after the limit: far from all 64 MB was sent.
    assert media_host.streamed[endless_path] < 40 * 1024 * 1024
    # The text itself is kept: the agent sees it and what was refused.
    assert message.body == "Here are the documents"
    last = Event.objects.filter(type="message.updated").last().payload["message"]
    reasons = [a["reason"] for a in last["attachments"] if a["status"] == "rejected"]
    assert len(reasons) == 4 and all(reasons)


def test_a_url_outside_the_carriers_media_hosts_is_never_fetched(
    client, settings, twilio_org, media_host, evil_host
):
    secret = evil_host.serve(media_path("ME1"), png(), "image/png")
    # On Twilio's host, but another account's media.
    foreign = media_host.url + "/2010-04-01/Accounts/AC" + "1" * 32 + "/Media/ME9"
    # Twilio's host redirecting elsewhere (as a compromised or crafted answer
    # might): the redirect is not followed either.
    evil_target = evil_host.serve("/internal/admin.png", png(), "image/png")
    hop = media_host.serve(
        media_path("ME2"), b"", status=302, headers={"Location": evil_target}
    )

    message = webhook(
        client,
        settings,
        [(secret, "image/png"), (foreign, "image/png"), (hop, "image/png")],
    )
    fetch_all()

    found = {a.source_url: a for a in message.attachments.all()}
    assert [found[u].status for u in (secret, foreign, hop)] == ["rejected"] * 3
    assert found[secret].reason.startswith("Not fetched")
    assert found[foreign].reason.startswith("Not fetched")
    assert found[hop].reason.startswith("Not fetched: 127.0.0.1")
    # The other host never heard from us, credentials or not.
    assert evil_host.requests == []
    assert foreign[len(media_host.url) :] not in media_host.paths()


def test_with_mms_off_images_are_recorded_as_not_accepted_and_never_fetched(
    client, settings, org, media_host
):
    actions.add_number(TWILIO_NUMBER, "twilio", org)
    url = media_host.serve(media_path("ME1"), JPEG, "image/jpeg")

    message = webhook(client, settings, [(url, "image/jpeg")])
    fetch_all()

    [attachment] = message.attachments.all()
    assert attachment.status == "rejected"
    assert "MMS is not enabled" in attachment.reason
    assert media_host.requests == []


def test_a_host_that_fails_for_now_is_tried_again_and_then_given_up_on(
    client, settings, twilio_org, media_host
):
    path = media_path("ME1")
    url = media_host.serve(path, b"busy", "text/plain", status=503)
    message = webhook(client, settings, [(url, "image/jpeg")])

    fetch_all()
    [attachment] = message.attachments.all()
    assert attachment.status == "pending"  # waits its backoff
    assert attachment.fetch_after is not None and "503" in attachment.reason

    # Later, Twilio serves it.
    media_host.serve(path, JPEG, "image/jpeg")
    Attachment.objects.update(fetch_after=None)
    fetch_all()
    attachment.refresh_from_db()
    assert attachment.status == "accepted"

    # One that keeps failing is given up on, with the reason.
    other = media_host.serve(media_path("ME2"), b"", "text/plain", status=500)
    message = webhook(client, settings, [(other, "image/jpeg")], body="Again")
    for _ in range(attachments.MAX_ATTEMPTS):
        Attachment.objects.filter(status="pending").update(fetch_after=None)
        fetch_all()
    [attachment] = message.attachments.all()
    assert attachment.status == "rejected"
    assert attachment.reason.startswith("Could not be fetched from the carrier")


def test_each_image_is_claimed_by_exactly_one_fetcher(
    client, settings, twilio_org, media_host
):
    url = media_host.serve(media_path("ME1"), JPEG, "image/jpeg")
    message = webhook(client, settings, [(url, "image/jpeg")])
    [attachment] = message.attachments.all()

    first = attachments.claim(attachment.id)
    second = attachments.claim(attachment.id)

    assert first is not None and second is None


@pytest.mark.parametrize(
    "url",
    [
        "https://api.twilio.com.example.com/2010-04-01/Accounts/{sid}/Media/ME1",
        "https://user:pw@api.twilio.com/2010-04-01/Accounts/{sid}/Media/ME1",
        "http://api.twilio.com/2010-04-01/Accounts/{sid}/Media/ME1",
        "https://api.twilio.com/2010-04-01/Accounts/{sid}/../AC1/Media/ME1",
        "https://api.twilio.com/2010-04-01/Accounts/{sid}/%2e%2e/AC1/Media/ME1",
        "https://s3-external-1.amazonaws.com/other-bucket/ME1",
        "file:///etc/passwd",
    ],
)
def test_look_alike_media_urls_are_not_twilios(url):
    from carriers import get_adapter

    adapter = get_adapter("twilio")
    assert not adapter.may_fetch_media(url.format(sid=TEST_SID))
    assert adapter.may_fetch_media(
        f"https://api.twilio.com/2010-04-01/Accounts/{TEST_SID}/Messages/MM1/Media/ME1"
    )

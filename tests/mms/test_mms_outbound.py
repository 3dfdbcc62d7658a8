"""An agent's images: uploaded with the text (CSRF-protected), checked,
stored, and handed to Twilio (the real SDK, against Prism's mock of Twilio's
API) as a signed URL that the carrier can fetch for a limited time."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from carriers.base import InboundMessage
from chatserver import actions, links
from chatserver.models import Attachment, Message
from chatserver.worker import loop as outbox
from tests.mms.mms_support import GIF, HTML, JPEG, RecordingProxy, png

TWILIO_NUMBER = "+14155550102"
LEAD = "+12125550142"


@pytest.fixture
def mms_org(org):
    org.mms_enabled = True
    org.save()
    return org


@pytest.fixture
def conversation(mms_org):
    """A lead who texted our Twilio number first (so replies may go)."""
    sender = actions.add_number(TWILIO_NUMBER, "twilio", mms_org)
    message = actions.receive_inbound(
        InboundMessage(
            carrier="twilio",
            carrier_message_id="SM" + uuid.uuid4().hex,
            from_number=LEAD,
            to_number=sender.number,
            body="Can you send me a picture of the shingles?",
        )
    )
    return message.conversation


@pytest.fixture
def twilio(settings, twilio_api):
    """Prism's mock of Twilio's API, behind a proxy that records requests."""
    proxy = RecordingProxy(twilio_api)
    settings.TWILIO_API_URL = proxy.url
    settings.TWILIO_TIMEOUT = 10
    yield proxy
    proxy.close()


def console_client(agent) -> tuple[Client, str]:
    """A browser of the agent's, checking CSRF as the real one does."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    client.get("/")  # the console page sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def upload(client, conversation, files, token=None, **fields):
    data = {"body": "", "client_id": str(uuid.uuid4()), **fields}
    data["image"] = [SimpleUploadedFile(n, c, content_type=t) for n, c, t in files]
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
    return client.post(f"/api/conversations/{conversation.id}/mms", data, **headers)


def test_an_agents_images_reach_twilio_as_a_signed_url_it_can_fetch_until_it_expires(
    conversation, alice, twilio
):
    client, token = console_client(alice)
    photo = png(40, 30)
    response = upload(
        client,
        conversation,
        [("shingles.png", photo, "image/png"), ("sample.gif", GIF, "image/gif")],
        token,
        body="Here are the shingles we use.",
    )
    assert response.status_code == 201, response.content
    data = response.json()["message"]
    assert data["encoding"] == "MMS" and data["segments"] == 1
    assert [a["content_type"] for a in data["attachments"]] == [
        "image/png",
        "image/gif",
    ]
    message = Message.objects.get(pk=data["id"])
    assert message.status == "queued"

    sent_at = datetime.datetime.now(datetime.UTC)
    with time_machine.travel(sent_at, tick=False):
        outbox.run_once()
    message.refresh_from_db()
    assert message.status == "sent", message.error_reason
    assert message.carrier_message_id.startswith(("SM", "MM"))

    [request] = twilio.requests
    fields = parse_qs(request["body"])
    assert fields["Body"] == [message.body]
    assert message.body.endswith("Here are the shingles we use.")
    urls = fields["MediaUrl"]
    assert len(urls) == 2
    assert all(u.startswith("https://chat.example.com/mms/") for u in urls)
    assert [u.rsplit(".", 1)[1] for u in urls] == ["png", "gif"]

    # The carrier fetches them: no login, the signature is the permission.
    carrier = Client()
    for url, content, kind in zip(
        urls, [photo, GIF], ["image/png", "image/gif"], strict=True
    ):
        path = urlsplit(url).path
        with time_machine.travel(sent_at + datetime.timedelta(hours=1, minutes=59)):
            fetched = carrier.get(path)
            assert fetched.status_code == 200
            assert fetched["Content-Type"] == kind
            assert b"".join(fetched.streaming_content) == content
        # Two hours on, the link is dead.
        with time_machine.travel(sent_at + datetime.timedelta(hours=2, minutes=1)):
            assert carrier.get(path).status_code == 410
        # A link with a changed signature, or another image's id, is nothing.
        token_part = path.split("/")[-1].rsplit(".", 1)[0]
        attachment_id, stamp, signature = token_part.split(":")
        forged = f"/mms/{int(attachment_id) + 1}:{stamp}:{signature}.png"
        assert carrier.get(forged).status_code == 404


def test_only_outbound_images_have_carrier_links(conversation, mms_org, alice):
    # An inbound attachment (a lead's): a validly signed link still serves
    # nothing, since carriers only ever fetch what we send.
    inbound = Attachment.objects.create(
        organisation=mms_org,
        message=Message.objects.get(conversation=conversation),
        status="accepted",
        content_type="image/jpeg",
        size=len(JPEG),
    )
    path = f"/mms/{links.signed_token(inbound.id)}.jpg"
    assert Client().get(path).status_code == 404


def test_the_upload_needs_the_csrf_token(conversation, alice):
    client, _ = console_client(alice)
    response = upload(client, conversation, [("a.png", png(), "image/png")])
    assert response.status_code == 403
    assert Message.objects.filter(direction="out").count() == 0


@pytest.mark.parametrize(
    ("files", "status", "reason"),
    [
        (
            [("page.png", HTML, "image/png")],
            409,
            "page.png: Only JPEG, PNG or GIF images are accepted, not a file "
            "declared image/png that is not one.",
        ),
        (
            [("photo.webp", b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp")],
            409,
            "photo.webp: Only JPEG, PNG or GIF images are accepted, not WebP.",
        ),
        (
            [("huge.jpg", JPEG + b"\0" * (5 * 1024 * 1024), "image/jpeg")],
            413,
            "The images are 5 MB together; carriers take 5 MB in one text.",
        ),
        ([("x.png", png(), "image/png")] * 11, 400, "Attach at most 10 images"),
    ],
)
def test_an_image_that_may_not_go_is_refused_with_the_reason_and_nothing_is_sent(
    conversation, alice, files, status, reason
):
    client, token = console_client(alice)
    response = upload(client, conversation, files, token, body="Look")
    assert response.status_code == status, response.content
    assert response.json()["error"]["reason"].startswith(reason)
    assert Message.objects.filter(direction="out").count() == 0
    assert Attachment.objects.count() == 0


def test_images_need_mms_on_and_the_right_to_text(conversation, mms_org, alice, bob):
    mms_org.mms_enabled = False
    mms_org.save()
    client, token = console_client(alice)
    response = upload(client, conversation, [("a.png", png(), "image/png")], token)
    assert response.status_code == 403  # forbidden (one map of refusals, issue 17)
    assert "not enabled" in response.json()["error"]["reason"]

    mms_org.mms_enabled = True
    mms_org.save()
    # Bob sees only his own leads: this conversation is nothing to him.
    client, token = console_client(bob)
    response = upload(client, conversation, [("a.png", png(), "image/png")], token)
    assert response.status_code == 404
    assert Message.objects.filter(direction="out").count() == 0


def test_sending_again_with_the_same_client_id_sends_once(conversation, alice):
    client, token = console_client(alice)
    client_id = str(uuid.uuid4())
    for _ in range(2):
        response = upload(
            client,
            conversation,
            [("a.jpg", JPEG, "image/jpeg")],
            token,
            client_id=client_id,
        )
        assert response.status_code == 201
    assert Message.objects.filter(direction="out").count() == 1
    assert Attachment.objects.count() == 1

"""Who sees a lead's images: agents who may see the conversation, in an
organisation with MMS on, who display images. Everyone else is told that the
lead sent an image, gets no image URL, and is refused by the image view."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client

from carriers import phone_network
from carriers.base import InboundMessage, MediaItem
from chatserver import actions
from chatserver.models import Agent, Attachment, Organisation
from chatserver.worker import media as inbound_media
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    connect,
    db,
)
from tests.mms.mms_support import png

LEAD = "+13125550177"
PHOTO = png(12, 12, (200, 30, 30))


@pytest.fixture
def mms_org(org):
    org.mms_enabled = True
    org.save()
    return org


@pytest.fixture
def carol(make_agent):
    """Sees every lead, but has "display images" off."""
    agent = make_agent("carol", access=Agent.Access.ALL, first_name="Carol")
    agent.display_images = False
    agent.save()
    return agent


def lead_sends_photo(sender, body="The leak is here") -> Attachment:
    """A phone on the simulated network texts a photo, as the simulator page
    does (stored on the network, named by the webhook's MediaUrl0)."""
    stored = phone_network.network().store_media(PHOTO, "image/png")
    actions.receive_inbound(
        InboundMessage(
            carrier="simulator",
            carrier_message_id=f"SIM{uuid.uuid4().hex}",
            from_number=LEAD,
            to_number=sender.number,
            body=body,
            media=(MediaItem(f"{phone_network.MEDIA_ORIGIN}/{stored['id']}", "image/png"),),
        )
    )
    return Attachment.objects.get(message__body=body)


def fetched(sender) -> Attachment:
    attachment = lead_sends_photo(sender)
    assert inbound_media.run_once() == 1
    attachment.refresh_from_db()
    assert attachment.status == "accepted"
    return attachment


def logged_in(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def history_attachment(client: Client, attachment: Attachment) -> dict:
    conversation = attachment.message.conversation_id
    page = client.get(f"/api/conversations/{conversation}/messages").json()
    [message] = [m for m in page["messages"] if m["id"] == attachment.message_id]
    [item] = message["attachments"]
    return item


@pytest.mark.django_db
def test_an_agent_who_displays_images_gets_them_and_one_who_does_not_is_told(
    mms_org, sender, alice, carol
):
    attachment = fetched(sender)
    url = f"/attachments/{attachment.id}"

    as_alice = logged_in(alice)
    item = history_attachment(as_alice, attachment)
    assert item["url"] == url and item["download_url"] == url + "?download=1"
    response = as_alice.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PHOTO
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert as_alice.get("/api/state").json()["agent"]["images"] is True

    as_carol = logged_in(carol)
    item = history_attachment(as_carol, attachment)
    assert item["status"] == "accepted" and item["content_type"] == "image/png"
    assert "url" not in item and "download_url" not in item
    state = as_carol.get("/api/state").json()
    assert state["agent"]["images"] is False
    assert str(url) not in str(state)
    assert as_carol.get(url).status_code == 403


@pytest.mark.django_db
def test_with_mms_off_for_the_organisation_no_agent_gets_images(mms_org, sender, alice):
    attachment = fetched(sender)
    Organisation.objects.filter(pk=mms_org.pk).update(mms_enabled=False)

    as_alice = logged_in(alice)
    item = history_attachment(as_alice, attachment)
    assert "url" not in item
    assert as_alice.get(f"/attachments/{attachment.id}").status_code == 403
    state = as_alice.get("/api/state").json()
    assert state["agent"]["images"] is False
    assert state["agent"]["may_send_images"] is False


@pytest.mark.django_db
def test_images_are_served_only_to_agents_who_may_see_the_conversation(
    mms_org, sender, alice, bob, make_agent
):
    attachment = fetched(sender)
    url = f"/attachments/{attachment.id}"
    rival = actions.add_organisation("Rival Roofing")
    rival.mms_enabled = True
    rival.save()
    mallory = make_agent("mallory", access=Agent.Access.ALL, organisation=rival)

    # Bob sees only his own leads; Mallory is another organisation's.
    assert logged_in(bob).get(url).status_code == 404
    assert logged_in(mallory).get(url).status_code == 404
    assert (
        logged_in(mallory).get(f"/attachments/{attachment.id + 1000}").status_code
        == 404
    )
    # Nobody logged in: no image, and no login page either.
    assert Client().get(url).status_code == 403
    # The stored file is not public under MEDIA_URL.
    path = django_settings.MEDIA_URL + attachment.file.name
    assert logged_in(alice).get(path).status_code == 404
    assert Client().get(path).status_code == 404
    # Once assigned to Bob, he sees it.
    actions.assign_lead(attachment.message.conversation.lead, bob, actor=alice)
    assert logged_in(bob).get(url).status_code == 200


@pytest.mark.django_db
def test_an_image_not_yet_fetched_or_refused_is_not_served(mms_org, sender, alice):
    attachment = lead_sends_photo(sender)
    assert attachment.status == "pending"
    as_alice = logged_in(alice)
    assert "url" not in history_attachment(as_alice, attachment)
    assert as_alice.get(f"/attachments/{attachment.id}").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_live_and_replayed_events_carry_image_urls_only_for_agents_shown_images(
    layer, mms_org, sender, alice, carol
):
    shown, hidden = await connect(alice), await connect(carol)
    assert shown.hello["agent"]["images"] is True
    assert hidden.hello["agent"]["images"] is False

    attachment = await db(lead_sends_photo)(sender)
    created = await shown.until("message.created")
    [item] = created["message"]["attachments"]
    assert item == {
        "id": attachment.id,
        "status": "pending",
        "content_type": "image/png",
        "size": 0,
        "reason": "",
    }
    await hidden.until("message.created")

    assert await db(inbound_media.run_once)() == 1

    live = await shown.until("message.updated")
    [item] = live["message"]["attachments"]
    assert item["status"] == "accepted"
    assert item["url"] == f"/attachments/{attachment.id}"
    told = await hidden.until("message.updated")
    [item] = told["message"]["attachments"]
    assert item["status"] == "accepted" and "url" not in item
    assert "/attachments/" not in str(hidden.frames)

    # A console that reconnects and replays the gap: the same rule.
    before = hidden.hello["cursor"]
    await hidden.send(type="resume", cursor=before)
    await hidden.until("resumed")
    replayed = [f for f in hidden.frames if f["type"] == "message.updated"]
    assert len(replayed) == 2 and all(
        "url" not in a for f in replayed for a in f["message"]["attachments"]
    )
    await shown.close()
    await hidden.close()

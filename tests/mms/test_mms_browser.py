"""MMS in the console, in a real headless Chromium on a real Daphne: a lead's
photo appears in the chatbox with a download button; an agent attaches an
image from the composer and the lead's phone gets it; an agent who does not
display images is told that the lead sent one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    chatbox,
    log_in,
    phone_sends_photo,
    phone_texts,
    queue_row,
    run_script,
    shot,
    start_console_server,
    text_in,
    watch,
)
from tests.mms.mms_support import png

pytestmark = pytest.mark.browser

LEAD = "+13035550164"
PHOTO = png(48, 32, (220, 90, 20))


def loaded(image) -> None:
    """Wait until the browser has really decoded the image."""
    image.page.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=image.element_handle()
    )


def test_a_lead_s_photo_shows_in_the_chatbox_and_an_agent_sends_one_back(
    team, browser_context
):
    run_script(
        team,
        "from chatserver.models import Organisation\n"
        "Organisation.objects.filter(name=ORG).update(mms_enabled=True)\n",
    )
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.alice)

    # The chatbox is open when the photo comes: it appears live (the text at
    # once, the image when the server has fetched it: message.updated).
    text_in(team, server, LEAD, "Hi, we have a leak")
    queue_row(page, "we have a leak").click()
    box = chatbox(page)
    expect(box).to_contain_text("Hi, we have a leak")
    phone_sends_photo(team, server, LEAD, "Here is the leak over the garage", PHOTO)
    image = box.locator("[data-testid=message][data-direction=in]").get_by_test_id(
        "attachment-image"
    )
    expect(image).to_be_visible()
    loaded(image)
    size = image.evaluate("el => [el.naturalWidth, el.naturalHeight]")
    assert size == [48, 32]
    download = box.get_by_test_id("attachment-download")
    expect(download).to_be_visible()
    expect(download).to_have_attribute(
        "href", image.get_attribute("src") + "?download=1"
    )
    shot(page, "mms-inbound-image")

    # The agent attaches an image (as a phone's camera would hand it over).
    composer = box.get_by_test_id("composer")
    composer.get_by_test_id("image-input").set_input_files(
        files=[{"name": "fix.png", "mimeType": "image/png", "buffer": png(20, 20)}]
    )
    expect(composer.get_by_test_id("attached").locator("img")).to_have_count(1)
    expect(composer.get_by_test_id("counter")).to_contain_text("MMS")
    shot(page, "mms-composer-attached")
    composer.locator("textarea").fill("This is the flashing we would use")
    composer.get_by_test_id("send").click()

    sent = box.locator("[data-testid=message][data-direction=out]").filter(
        has_text="This is the flashing we would use"
    )
    expect(sent.get_by_test_id("attachment-image")).to_be_visible()
    expect(sent).to_have_attribute("data-status", "delivered", timeout=20_000)
    expect(sent.locator(".mms-chip")).to_have_text("MMS")
    loaded(sent.get_by_test_id("attachment-image"))
    expect(composer.get_by_test_id("attached")).to_be_hidden()
    shot(page, "mms-outbound-image")

    texts = phone_texts(team, server, LEAD)
    [received] = [t for t in texts if t["direction"] == "to_phone"]
    assert len(received["media"]) == 1 and received["media_problem"] == ""
    assert errors == []


def test_an_agent_who_does_not_display_images_is_told_the_lead_sent_one(
    team, browser_context
):
    run_script(
        team,
        "from chatserver.models import Agent, Organisation\n"
        "Organisation.objects.filter(name=ORG).update(mms_enabled=True)\n"
        f"Agent.objects.filter(user__username={team.bob!r}).update(\n"
        "    access='all', display_images=False)\n",
    )
    server = start_console_server(team)
    page = browser_context().new_page()
    errors = watch(page)
    log_in(page, server, team.bob)

    phone_sends_photo(team, server, LEAD, "Photo of the damage", PHOTO)
    queue_row(page, "Photo of the damage").click()
    message = chatbox(page).locator("[data-testid=message][data-direction=in]")
    expect(message.get_by_test_id("attachment-hidden")).to_have_text(
        "The lead sent an image", timeout=20_000
    )
    expect(message.get_by_test_id("attachment-image")).to_have_count(0)
    expect(message).to_contain_text("Photo of the damage")
    # Nor could the page load one if it tried.
    status = page.evaluate("async () => (await fetch('/attachments/1')).status")
    assert status in (403, 404)
    assert errors == []

"""Fetching the images leads send, off the webhook's path.

The webhook records each image ``pending``; this pass (run by the outbox's
loop, in the web process or the worker) claims one, fetches it from the
carrier's media host with the account's credentials
(``CarrierAdapter.fetch_media``), checks it (``chatserver.rules.images``) and accepts
or rejects it (``chatserver.actions.attachments``), which tells the consoles.
"""

from __future__ import annotations

import logging
import threading

from carriers import get_adapter
from carriers.base import MediaError
from chatserver.actions import attachments
from chatserver.models import Attachment
from chatserver.rules import images as media

log = logging.getLogger(__name__)


def run_once(limit: int = 10, stop: threading.Event | None = None) -> int:
    """Fetch the images that are due; returns how many were handled."""
    handled = 0
    for attachment_id in attachments.due_ids(limit):
        if stop is not None and stop.is_set():
            break
        attachment = attachments.claim(attachment_id)
        if attachment is not None:
            fetch_one(attachment)
            handled += 1
    return handled


def fetch_one(attachment: Attachment) -> None:
    """Fetch, check and settle one claimed attachment."""
    carrier = attachment.message.carrier
    try:
        adapter = get_adapter(carrier)
    except LookupError:
        attachments.reject(attachment, f"No carrier named {carrier!r}.")
        return
    url = attachment.source_url
    # Checked again here, not only when the webhook was stored: the hosts
    # may have changed since (TWILIO_API_URL), and this is where it matters.
    if not adapter.may_fetch_media(url):
        attachments.reject(
            attachment, "Not fetched: its address is not on the carrier's media hosts."
        )
        return
    try:
        fetched = adapter.fetch_media(url, media.max_bytes())
    except MediaError as exc:
        log.info("image %s not fetched: %s", attachment.id, exc.reason)
        if exc.retryable:
            attachments.retry_later(attachment, exc.reason)
        else:
            attachments.reject(attachment, exc.reason)
        return
    except Exception:  # a bug or an unexpected answer: try again later
        log.exception("fetching image %s failed", attachment.id)
        attachments.retry_later(attachment, "Unexpected error while fetching it.")
        return
    try:
        content_type = media.check_image(
            fetched.content,
            fetched.content_type or attachment.content_type,
            media.INBOUND_TYPES,
        )
    except media.Refused as exc:
        attachments.reject(attachment, exc.reason)
        return
    attachments.accept(attachment, fetched.content, content_type)

"""Attachments (MMS images): recorded with their message, fetched off the
webhook's path, accepted or refused with a reason, and published.

A lead's images are recorded ``pending`` in the webhook's own transaction
(the webhook stays fast); the fetcher (``chatserver.worker.media``, run by
the outbox's loop) claims each one by a conditional update, so among any
number of processes exactly one fetches it, then accepts or rejects it here.
Each change reaches consoles as ``message.updated``.
"""

from __future__ import annotations

import datetime
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from carriers import get_adapter
from carriers.base import InboundMessage
from carriers.media import megabytes
from chatserver import doorbell
from chatserver.actions.message_events import publish_message_updated
from chatserver.models import Attachment, Message
from chatserver.rules import images as media
from chatserver.rules.errors import ActionError

log = logging.getLogger(__name__)

Status = Attachment.Status

# A fetch that fails for a reason that may pass (a timeout, a 5xx) is tried
# this many times in all, backing off, before the image is given up on.
MAX_ATTEMPTS = 5
# A claimed attachment not settled within this long belongs to a fetcher that
# died: it becomes due again (fetching twice is harmless).
LEASE = datetime.timedelta(minutes=2)

OFF_REASON = "MMS is not enabled for this organisation: the image was not fetched."


@dataclass(frozen=True)
class Image:
    """An image an agent attached, as uploaded."""

    content: bytes
    content_type: str = ""  # as the browser declared it (checked, not trusted)
    name: str = ""


def record_inbound(message: Message, inbound: InboundMessage) -> int:
    """Record the images a lead sent with ``message``; returns how many wait to
    be fetched. Runs in the webhook's transaction: nothing is fetched here.

    An image is refused at once (and never fetched) when the organisation has
    MMS off, or when its URL is not on the carrier's own media hosts.
    """
    adapter = get_adapter(inbound.carrier)
    mms_on = message.organisation.mms_enabled
    pending = 0
    for item in inbound.media:
        status, reason = Status.PENDING, ""
        if not mms_on:
            status, reason = Status.REJECTED, OFF_REASON
        elif not adapter.may_fetch_media(item.url):
            log.warning(
                "%s media URL outside its hosts refused: %.200s",
                inbound.carrier,
                item.url,
            )
            status = Status.REJECTED
            reason = "Not fetched: its address is not on the carrier's media hosts."
        Attachment.objects.create(
            organisation_id=message.organisation_id,
            message=message,
            status=status,
            content_type=item.content_type[:100],
            source_url=item.url[:500],
            reason=reason,
        )
        pending += status == Status.PENDING
    if pending:
        # The outbox's loop fetches them: wake it in every process.
        doorbell.announce()
    return pending


def check_outbound(images: Sequence[Image]) -> list[tuple[Image, str]]:
    """The images an agent attached, each with its checked type, or
    ActionError saying which one is refused and why."""
    if len(images) > media.MAX_IMAGES:
        raise ActionError(
            f"Attach at most {media.MAX_IMAGES} images to one text.", "too_many"
        )
    total = sum(len(image.content) for image in images)
    if total > media.max_bytes():
        raise ActionError(
            f"The images are {megabytes(total)} together; carriers take "
            f"{megabytes(media.max_bytes())} in one text.",
            "too_large",
        )
    checked = []
    for image in images:
        try:
            kind = media.check_image(
                image.content, image.content_type, media.OUTBOUND_TYPES
            )
        except media.Refused as exc:
            name = f"{image.name[:60]}: " if image.name else ""
            raise ActionError(f"{name}{exc.reason}", "invalid_image") from None
        checked.append((image, kind))
    return checked


def images_of(message: Message) -> list[Image]:
    """The images an agent sent with a message, as uploaded (to send them
    again)."""
    found = []
    for attachment in message.attachments.filter(status=Status.ACCEPTED).order_by(
        "id"
    ):
        with attachment.file.open("rb") as file:
            found.append(Image(file.read(), attachment.content_type))
    return found


def store_outbound(message: Message, images: list[tuple[Image, str]]) -> None:
    """Keep an agent's checked images with their (outbound) message."""
    for image, kind in images:
        attachment = Attachment(
            organisation_id=message.organisation_id,
            message=message,
            status=Status.ACCEPTED,
            content_type=kind,
            size=len(image.content),
        )
        attachment.file.save(
            f"{uuid.uuid4().hex}.{media.EXTENSIONS[kind]}",
            ContentFile(image.content),
            save=False,
        )
        attachment.save()


# -- fetching (chatserver.worker.media) ----------------------------------------


def due() -> Q:
    """Pending attachments whose time has come (a retry waits its backoff,
    a claimed one its lease)."""
    return Q(status=Status.PENDING) & (
        Q(fetch_after__isnull=True) | Q(fetch_after__lte=timezone.now())
    )


def due_ids(limit: int = 10) -> list[int]:
    return list(
        Attachment.objects.filter(due())
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def claim(attachment_id: int) -> Attachment | None:
    """Take a pending attachment for fetching; None when another fetcher has
    it. One conditional UPDATE, as the outbox claims a text."""
    claimed = Attachment.objects.filter(due(), pk=attachment_id).update(
        fetch_after=timezone.now() + LEASE, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Attachment.objects.select_related("message__organisation").get(
        pk=attachment_id
    )


def accept(attachment: Attachment, content: bytes, content_type: str) -> bool:
    """Store a fetched image and tell the consoles; whether it was still
    pending (a fetcher whose lease ran out may find it settled)."""
    name = f"{uuid.uuid4().hex}.{media.EXTENSIONS[content_type]}"
    attachment.file.save(name, ContentFile(content), save=False)
    with transaction.atomic():
        settled = Attachment.objects.filter(
            pk=attachment.pk, status=Status.PENDING
        ).update(
            status=Status.ACCEPTED,
            file=attachment.file.name,
            content_type=content_type,
            size=len(content),
            reason="",
            fetch_after=None,
        )
        if settled:
            publish_message_updated(attachment.message)
    if not settled:
        attachment.file.delete(save=False)
    return bool(settled)


@transaction.atomic
def reject(attachment: Attachment, reason: str) -> bool:
    """Record that an image is not accepted, and why; tell the consoles."""
    settled = Attachment.objects.filter(pk=attachment.pk, status=Status.PENDING).update(
        status=Status.REJECTED, reason=reason[:200], fetch_after=None
    )
    if settled:
        publish_message_updated(attachment.message)
    return bool(settled)


def retry_later(attachment: Attachment, reason: str) -> None:
    """A fetch failed for a reason that may pass: try again after a backoff,
    or give up once it has been tried MAX_ATTEMPTS times."""
    if attachment.attempts >= MAX_ATTEMPTS:
        reject(attachment, f"Could not be fetched from the carrier: {reason}")
        return
    delay = datetime.timedelta(
        seconds=(2**attachment.attempts) * random.uniform(0.75, 1.25)
    )
    Attachment.objects.filter(pk=attachment.pk, status=Status.PENDING).update(
        fetch_after=timezone.now() + delay, reason=reason[:200]
    )

"""Our URLs: the absolute ones carriers call (status callbacks, an outbound
image's signed address), the ones consoles fetch images from, and the console
opened on a lead (the assignment email's link)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core import signing
from django.urls import reverse

from chatserver.models import Attachment, Message
from chatserver.rules import images

# The address this process's own server answers on, learnt from the first
# request it serves (see ``learn_local_base``).
_local_base: str | None = None

# The salt keeps the name of the module that first signed: URLs signed by a
# process still running the old code (a deploy) stay valid.
SIGNING_SALT = "chatserver.media.outbound"


def public_url(path: str) -> str:
    """An absolute URL of ours that a carrier can call.

    PUBLIC_BASE_URL when it is set (production must set it); otherwise this
    server's own address, which is what the simulator needs for `make run`.
    """
    base = (
        settings.PUBLIC_BASE_URL
        or _local_base
        or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"
    )
    return f"{base}{path}"


def learn_local_base(scope: dict) -> None:
    """Remember the address an ASGI request reached this server on."""
    global _local_base
    server = scope.get("server")
    if _local_base is None and server and server[1]:
        host, port = server
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        _local_base = f"{scheme}://{host}:{port}"


def lead_path(lead_id: int) -> str:
    """The console, opened on a lead (its newest conversation, maximized)."""
    return f"{reverse('console')}?lead={lead_id}"


def status_callback_url(message: Message) -> str:
    """Where the carrier reports this message's delivery status."""
    return public_url(f"/carriers/{message.carrier}/status?ref={message.id}")


def attachment_path(attachment_id: int, download: bool = False) -> str:
    """Where an agent's console gets an image (access checked there)."""
    path = reverse("attachment", args=[attachment_id])
    return path + "?download=1" if download else path


def signed_token(attachment_id: int) -> str:
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(str(attachment_id))


def unsign(token: str) -> int:
    """The attachment a carrier's URL names; SignatureExpired once it is older
    than MMS_URL_MAX_AGE, BadSignature when it was not made here."""
    value = signing.TimestampSigner(salt=SIGNING_SALT).unsign(
        token, max_age=settings.MMS_URL_MAX_AGE
    )
    if not (value.isascii() and value.isdigit()):
        raise signing.BadSignature("not an attachment id")
    return int(value)


def signed_url(attachment: Attachment) -> str:
    """The absolute URL the carrier fetches an outbound image from: signed,
    valid for MMS_URL_MAX_AGE seconds, no login needed."""
    ext = images.EXTENSIONS.get(attachment.content_type, "img")
    token = signed_token(attachment.id)
    # The extension helps carriers that guess the type from the name.
    return public_url(reverse("attachment-signed", args=[token, ext]))


def outbound_urls(message: Message) -> tuple[str, ...]:
    """The URLs of an outbound MMS's images, for its carrier, signed now."""
    if message.encoding != images.MMS_ENCODING:
        return ()
    accepted = message.attachments.filter(status=Attachment.Status.ACCEPTED)
    return tuple(signed_url(a) for a in accepted.order_by("id"))

"""MMS images over HTTP: to agents, from agents, and to carriers.

- ``GET /attachments/<id>``: an image, to a logged-in agent who may see its
  conversation, whose organisation has MMS on and who displays images.
- ``POST /api/conversations/<id>/mms``: an agent's text with images
  (multipart: ``image`` files, ``body``, ``client_id``, ``schedule``,
  ``category``), CSRF-protected like every form of the console.
- ``GET /mms/<signed token>.<ext>``: an outbound image, for the carrier that
  sends it, without login, while the signature is valid
  (``settings.MMS_URL_MAX_AGE``); 410 once it expired.

Nothing else serves stored files: MEDIA_URL is not routed.
"""

from __future__ import annotations

import logging

from django.core import signing
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from django.views.decorators.http import require_http_methods, require_POST

from carriers.media import megabytes
from chatserver import actions, links, shapes
from chatserver.actions.attachments import Image
from chatserver.commands import fields
from chatserver.models import Agent, Attachment, Message
from chatserver.queries import access
from chatserver.rules import images as media
from chatserver.rules.text import check_text
from chatserver.web.responses import api_error, api_login_required, plain

log = logging.getLogger(__name__)

# What an image response may do in a browser: be shown, nothing else (were
# a file ever not the image we checked, it still could not run as a page).
IMAGE_POLICY = "default-src 'none'; img-src 'self'; sandbox"


def serve(attachment: Attachment, download: bool, cache: str) -> HttpResponse:
    """The stored image, as an image (or a download), locked down."""
    try:
        handle = attachment.file.open("rb")
    except (OSError, ValueError):
        log.warning("attachment %s has no stored file", attachment.id)
        return plain(404, "No such image.")
    ext = media.EXTENSIONS.get(attachment.content_type, "img")
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=download,
        filename=f"image-{attachment.id}.{ext}",
    )
    response["Cache-Control"] = cache
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = IMAGE_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "HEAD"])
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """An image, to an agent who may see it (404 for those who may not see
    its conversation; 403 for those not shown images)."""
    agent: Agent | None = (
        getattr(request.user, "agent", None) if request.user.is_authenticated else None
    )
    if agent is None:
        return plain(403, "Log in as an agent to see images.")
    found = access.find_attachment(agent, attachment_id)
    if found is None or found.status != Attachment.Status.ACCEPTED:
        return plain(404, "No such image.")
    if not access.may_see_images(agent):
        return plain(403, "Images are not shown to you.")
    download = request.GET.get("download") == "1"
    return serve(found, download, "private, max-age=86400")


@require_http_methods(["GET", "HEAD"])
def signed(request: HttpRequest, token: str, ext: str) -> HttpResponse:
    """An outbound image, for its carrier: the signature is the permission."""
    try:
        attachment_id = links.unsign(token)
    except signing.SignatureExpired:
        return plain(410, "This link has expired.")
    except signing.BadSignature:
        return plain(404, "No such image.")
    found = (
        Attachment.objects.filter(
            pk=attachment_id,
            status=Attachment.Status.ACCEPTED,
            message__direction=Message.Direction.OUTBOUND,
        )
        .select_related("message")
        .first()
    )
    if found is None:
        return plain(404, "No such image.")
    return serve(found, False, "private, max-age=600")


def form_flag(value: str | None) -> bool | None:
    """A multipart true/false field (absent: false); None when unreadable."""
    if value in (None, "", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    return None


@require_POST
@api_login_required
def send_mms(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
    """Send a text with images: the same checks as any text, plus the images'."""
    conversation = fields.conversation_for(
        agent, {"conversation": conversation_id}, change=False
    )
    uploads = request.FILES.getlist("image")
    if not uploads:
        return api_error("Attach an image (field 'image').", 400, "no_image")
    if len(uploads) > media.MAX_IMAGES:
        return api_error(
            f"Attach at most {media.MAX_IMAGES} images to one text.", 400, "too_many"
        )
    body = request.POST.get("body", "")
    schedule = form_flag(request.POST.get("schedule"))
    if schedule is None:
        return api_error("'schedule' must be true or false.")
    category = request.POST.get("category") or None
    if category is not None:
        if not (category.isascii() and category.isdigit() and len(category) < 20):
            return api_error("'category' must be an id.")
        category = int(category)
    check_text({"body": body, "client_id": request.POST.get("client_id")})
    if sum(upload.size for upload in uploads) > media.max_bytes():
        # Refused before anything is read into memory.
        return api_error(
            f"The images are {megabytes(sum(u.size for u in uploads))} together; "
            f"carriers take {megabytes(media.max_bytes())} in one text.",
            413,
            "too_large",
        )
    images = [Image(u.read(), u.content_type or "", u.name or "") for u in uploads]
    message = actions.send_message(
        agent,
        conversation,
        body,
        request.POST.get("client_id") or None,
        category,
        schedule=schedule,
        images=images,
    )
    data = access.images_for(agent, shapes.message_data(message))
    return JsonResponse({"message": data}, status=201)


urlpatterns = [
    path("attachments/<int:attachment_id>", attachment, name="attachment"),
    # The token is TimestampSigner's (``id:timestamp:signature``).
    re_path(
        r"^mms/(?P<token>[0-9]+:[0-9A-Za-z]+:[-_0-9A-Za-z]+)\.(?P<ext>[a-z]+)$",
        signed,
        name="attachment-signed",
    ),
    path("api/conversations/<int:conversation_id>/mms", send_mms, name="api-send-mms"),
]

"""MMS images: which are accepted, and how large.

One place for the rules about images themselves; who may see them is
``chatserver.queries.access`` (``may_see_images``), the URLs they are served
at are ``chatserver.links``, and storing them is
``chatserver.actions.attachments``.

- A message with images is an MMS: stored with ``encoding`` "MMS" and one
  segment, since carriers bill an MMS as one message whatever its length.
- An image is accepted when its bytes are one of the types below (the type
  the sender declared is not trusted: what we serve must be what we checked)
  and it is no larger than ``settings.MMS_MAX_BYTES`` (5 MB, as carriers take).
- Agents get an image at ``/attachments/<id>``, after an access check. The
  carrier gets an outbound image at a signed URL that expires
  (``settings.MMS_URL_MAX_AGE``); nothing else about images is public, and
  MEDIA_URL is never served.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from carriers.media import too_large

MMS_ENCODING = "MMS"
# Carriers take at most ten attachments on one MMS.
MAX_IMAGES = 10

# What we accept from leads: the image types phones send and browsers show.
# (HEIC is not among them: browsers other than Safari cannot show it, and
# phones convert it to JPEG for MMS.)
INBOUND_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
# What agents may send: the types carriers convert for every phone.
OUTBOUND_TYPES = ("image/jpeg", "image/png", "image/gif")
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
}
TYPE_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
}


class Refused(ValueError):
    """An image that is not accepted; ``reason`` says why, for agents."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def max_bytes() -> int:
    return settings.MMS_MAX_BYTES


def sniff(content: bytes) -> str:
    """The image type the bytes themselves say, or '' for anything else."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return ""


def type_list(types: tuple[str, ...]) -> str:
    names = [TYPE_NAMES[t] for t in types]
    return ", ".join(names[:-1]) + " or " + names[-1]


def check_image(content: bytes, declared: str, allowed: tuple[str, ...]) -> str:
    """The type of an image we accept, or Refused saying why not.

    The bytes decide the type: a file declared ``image/png`` that is HTML is
    refused, so nothing we serve from our own origin can be a page.
    """
    declared = (declared or "").split(";")[0].strip().lower()
    if not content:
        raise Refused("The file is empty.")
    if len(content) > max_bytes():
        raise Refused(too_large(len(content), max_bytes()))
    actual = sniff(content)
    if actual not in allowed:
        what = TYPE_NAMES.get(actual) or declared or "this kind of file"
        if not actual and declared in allowed:
            what = f"a file declared {declared} that is not one"
        raise Refused(f"Only {type_list(allowed)} images are accepted, not {what}.")
    return actual


URL_FIELDS = ("url", "download_url")


def hide_images(data: Any) -> Any:
    """``data`` (an event, a state, a page of messages) without the URLs of
    images: what an agent who may not see images gets. Copies only what it
    changes; returns ``data`` itself when nothing had a URL."""
    if isinstance(data, list):
        items = [hide_images(item) for item in data]
        changed = any(new is not old for new, old in zip(items, data, strict=True))
        return items if changed else data
    if not isinstance(data, dict):
        return data
    copy = None
    for key, value in data.items():
        if key == "attachments" and isinstance(value, list):
            new = [
                {k: v for k, v in a.items() if k not in URL_FIELDS}
                if isinstance(a, dict) and any(f in a for f in URL_FIELDS)
                else a
                for a in value
            ]
            if any(n is not o for n, o in zip(new, value, strict=True)):
                copy = copy if copy is not None else dict(data)
                copy[key] = new
        elif isinstance(value, dict | list):
            new = hide_images(value)
            if new is not value:
                copy = copy if copy is not None else dict(data)
                copy[key] = new
    return data if copy is None else copy



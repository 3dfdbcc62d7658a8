"""Fetching a carrier's media over HTTP: from its own hosts only, and bounded.

A webhook names the URLs of a lead's attachments. Fetching whatever it names
would let a crafted (or replayed and edited) request make the server reach
any host, with the account's credentials attached, so every URL, and every
redirect on the way, must be on an origin the adapter allows; credentials go
only to the origins the adapter names for them (never to the CDN a carrier
redirects to); bodies are read in chunks and abandoned as soon as they pass
the size limit, and the whole fetch has a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import requests

from carriers.base import FetchedMedia, MediaError

MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024


def megabytes(size: int) -> str:
    """A size as agents read it: '5 MB', '7.3 MB'."""
    value = size / (1024 * 1024)
    if value >= 10 or round(value, 1) == int(value):
        return f"{value:.0f} MB"
    return f"{value:.1f} MB"


def too_large(size: int | None, limit: int) -> str:
    """Why a file over ``limit`` bytes is refused (``size`` None: unknown)."""
    if size is None or megabytes(size) == megabytes(limit):
        return f"Too large: over the {megabytes(limit)} limit."
    return f"Too large: {megabytes(size)}; the limit is {megabytes(limit)}."


def fetch(
    url: str,
    *,
    allowed: Callable[[str], bool],
    credentials: Callable[[str], tuple[str, str] | None],
    max_bytes: int,
    timeout: float,
) -> FetchedMedia:
    """GET ``url``, following redirects only to URLs ``allowed`` accepts.

    ``credentials(url)`` gives the basic-auth pair for a URL, or None: asked
    again at every hop, so a redirect to another origin carries none.
    Raises MediaError (``retryable`` for timeouts, 429 and 5xx).
    """
    deadline = time.monotonic() + timeout
    session = requests.Session()
    # No .netrc: its credentials would go to whatever host it names. Proxies
    # from the environment are still honoured (explicitly, below).
    session.trust_env = False
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            if not allowed(url):
                host = urlsplit(url).hostname or url[:60]
                raise MediaError(
                    f"Not fetched: {host} is not one of the carrier's media hosts."
                )
            response = _get(session, url, credentials(url), deadline)
            with response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    if not location:
                        raise MediaError("The carrier redirected to nowhere.")
                    url = urljoin(url, location)
                    continue
                _check_status(response.status_code)
                return FetchedMedia(
                    content=_read(response, max_bytes, deadline),
                    content_type=response.headers.get("Content-Type", "")
                    .split(";")[0]
                    .strip()
                    .lower(),
                )
        raise MediaError("The carrier redirected too many times.")
    finally:
        session.close()


def _get(session, url, auth, deadline) -> requests.Response:
    left = deadline - time.monotonic()
    if left <= 0:
        raise MediaError("Fetching the image took too long.", retryable=True)
    try:
        return session.get(
            url,
            auth=auth,
            stream=True,
            allow_redirects=False,
            timeout=(min(left, 10.0), left),
            headers={"Accept": "image/*"},
            proxies=requests.utils.get_environ_proxies(url),
        )
    except requests.Timeout:
        raise MediaError("The carrier's media host did not answer.", True) from None
    except requests.RequestException as exc:
        raise MediaError(
            f"The carrier's media host could not be reached ({type(exc).__name__}).",
            retryable=True,
        ) from None


def _check_status(status: int) -> None:
    if status == 200:
        return
    if status in (401, 403):
        raise MediaError(
            f"The carrier refused our credentials for the image (HTTP {status})."
        )
    if status in (404, 410):
        raise MediaError("The carrier no longer has the image.")
    if status == 429 or status >= 500:
        raise MediaError(f"The carrier's media host answered {status}.", retryable=True)
    raise MediaError(f"The carrier's media host answered {status}.")


def _read(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    """The body, or MediaError as soon as it is known to pass ``max_bytes``."""
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise MediaError(too_large(int(declared), max_bytes))
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise MediaError(too_large(None, max_bytes))
            if time.monotonic() > deadline:
                raise MediaError("Fetching the image took too long.", retryable=True)
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise MediaError(
            f"The image was cut off while fetching it ({type(exc).__name__}).",
            retryable=True,
        ) from None
    return b"".join(chunks)

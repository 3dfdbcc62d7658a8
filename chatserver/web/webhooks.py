"""The one view for every carrier's webhooks: ``POST /carriers/<name>/<kind>``.

verify (signature) -> parse (carrier-neutral events) -> store (actions) ->
acknowledge. Nothing is parsed into rows before the signature is checked, and
a request is stored whole or not at all: as messages and statuses at once, or,
with ``WEBHOOKS_QUEUED``, as a receipt the worker applies
(``chatserver.actions.webhooks``).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError, DataError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from carriers import get_adapter
from carriers.base import BadRequest, Forbidden, WebhookRequest
from chatserver import actions, metrics
from chatserver.actions import webhooks as receipts
from chatserver.web.responses import plain

log = logging.getLogger(__name__)


def public_url(request: HttpRequest) -> str:
    """The URL the carrier called, as it saw it (signatures cover it)."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def webhook_request(request: HttpRequest) -> WebhookRequest:
    """The framework-free view of a request that adapters read."""
    content_type = request.content_type or ""
    # The raw body first: once Django has parsed a multipart body from the
    # stream, the raw body can no longer be read.
    body = request.body
    form = {key: request.POST.getlist(key) for key in request.POST}
    return WebhookRequest(
        url=public_url(request),
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        form=form,
        body=body,
        content_type=content_type,
    )


@csrf_exempt
@require_POST
def carrier_webhook(request: HttpRequest, carrier: str, kind: str) -> HttpResponse:
    arrived = time.time()
    try:
        adapter = get_adapter(carrier)
    except LookupError:
        return plain(404, "Unknown carrier.")
    if kind not in adapter.kinds:
        return plain(404, "Unknown webhook.")
    try:
        incoming = webhook_request(request)
        adapter.verify(incoming)
    except Forbidden as exc:
        log.warning("%s %s webhook refused: %s", carrier, kind, exc)
        return plain(403, "Invalid signature.")
    try:
        parsed = adapter.parse(kind, incoming)
    except BadRequest as exc:
        log.warning("%s %s webhook malformed: %s", carrier, kind, exc)
        return plain(400, f"Malformed request: {exc}")
    try:
        if settings.WEBHOOKS_QUEUED:
            receipts.accept(carrier, kind, parsed)
        else:
            with transaction.atomic():
                receipts.apply(parsed, arrived)
            metrics.WEBHOOKS_APPLIED.labels(carrier, kind).inc()
    except actions.UnknownRecipient as exc:
        log.warning("%s %s webhook refused: %s", carrier, kind, exc)
        return plain(404, exc.reason)
    except DataError as exc:
        # A value the database cannot hold: trying again would fail again.
        log.warning("%s %s webhook unstorable: %s", carrier, kind, exc)
        return plain(400, "Malformed request: a field cannot be stored.")
    except DatabaseError:
        # Stored nothing (the transaction rolled back): a 503 makes the
        # carrier try again later.
        log.exception("%s %s webhook could not be stored", carrier, kind)
        response = plain(503, "Try again later.")
        response["Retry-After"] = "5"
        return response
    metrics.WEBHOOKS_STORED.labels(carrier, kind).inc()
    ack = adapter.acknowledgement(kind)
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)

"""Carriers' webhooks turned into messages and statuses, at once or later.

Inline (the default): the webhook's own request stores what it carries
(``apply``) before it answers. Queued (``WEBHOOKS_QUEUED``, the Procfile's
web process): the request checks and stores the verified webhook as a
``WebhookReceipt`` and answers; the worker then applies receipts in batches
(``process_pending``). Either way the same ``apply`` stores each text once.

Queued, the process that serves the consoles' sockets spends a few
milliseconds on a webhook instead of tens (docs/performance.md), and a
webhook is safe in the database before the carrier hears "OK": the worker
dying between the two loses nothing, as the receipt stays until it is applied.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DatabaseError, DataError, transaction
from django.utils import timezone

from carriers import get_adapter
from carriers.base import BadRequest, InboundMessage, StatusUpdate, WebhookRequest
from carriers.receipts import event_from_json, event_to_json
from chatserver import doorbell, metrics
from chatserver.actions.delivery import record_status
from chatserver.actions.inbound import receive_inbound, sender_for
from chatserver.models import WebhookReceipt
from chatserver.models.prepared import statement_cursor
from chatserver.rules.errors import UnknownRecipient

log = logging.getLogger(__name__)

# Receipts applied in one transaction: one commit and one publish for them all
# when webhooks pour in (each in a savepoint of its own only when one failed:
# ``process_pending``).
BATCH = 50


def apply(
    parsed: Iterable[InboundMessage | StatusUpdate], arrived: float | None = None
) -> None:
    """Store what a webhook carries: texts once each, statuses forward only.
    ``arrived`` (a Unix time) is when the webhook reached us: sockets measure
    their latency from it (``chatserver.metrics``)."""
    for event in parsed:
        if isinstance(event, InboundMessage):
            receive_inbound(event, arrived=arrived)
        else:
            record_status(event, arrived=arrived)


def accept(
    carrier: str, kind: str, parsed: list[InboundMessage | StatusUpdate]
) -> WebhookReceipt:
    """Store a verified, parsed webhook to be applied by the worker.

    What can be refused is refused now, while the carrier waits for the
    answer: a text to a number that is none of ours raises UnknownRecipient.
    No transaction of its own: the receipt is one INSERT, whole or absent,
    and the NOTIFY after it only hurries the worker, which also polls. Three
    statements where BEGIN and COMMIT made five: each round trip of a
    request's thread waits for the GIL the sockets' event loop holds.
    """
    for event in parsed:
        if isinstance(event, InboundMessage):
            sender_for(event)
    receipt = WebhookReceipt.objects.create(
        carrier=carrier, kind=kind, events=[event_to_json(e) for e in parsed]
    )
    doorbell.announce(doorbell.WEBHOOKS)
    return receipt


def parse_receipt(receipt: WebhookReceipt) -> list[InboundMessage | StatusUpdate]:
    """The events of a stored webhook: as parsed when it arrived, or, for a
    receipt an older process stored, parsed now from its form fields."""
    if receipt.events:
        return [event_from_json(data) for data in receipt.events]
    request = WebhookRequest(
        url=receipt.url, method="POST", headers={}, form=receipt.form
    )
    return get_adapter(receipt.carrier).parse(receipt.kind, request)


# Failures of one receipt that trying again cannot mend: it is kept, marked.
PERMANENT = (UnknownRecipient, BadRequest, LookupError, DataError)


class _ReceiptFailed(Exception):
    """A receipt of a batch applied without savepoints failed: the batch is
    taken back and applied again, each receipt in a savepoint of its own."""


def process_pending(limit: int = BATCH) -> int:
    """Apply the oldest waiting receipts; returns how many were handled.

    Receipts are locked as they are taken (other workers skip them) and
    deleted in the transaction that applies them, so each is applied once. A
    database that fails takes the whole batch back, to be tried again; a
    receipt that cannot be applied is marked with why and left.

    A batch is first applied without a savepoint per receipt (two round trips
    and their bookkeeping each, for a rare failure): should one receipt fail,
    the whole batch is taken back and applied again with them, which marks it.
    """
    try:
        return _process_batch(limit, savepoints=False)
    except _ReceiptFailed:
        return _process_batch(limit, savepoints=True)


# The first attempt at a batch takes its receipts by deleting them (one
# statement where a SELECT ... FOR UPDATE and a DELETE made two): deleted in
# the transaction that applies them, they are back should it roll back. Its
# columns are the model's fields, in their order (``_from_rows``).
_FIELDS = WebhookReceipt._meta.concrete_fields
TAKE_SQL = """
DELETE FROM {receipt} WHERE id IN (
    SELECT id FROM {receipt} WHERE failed_at IS NULL
    ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
) RETURNING {columns}
""".format(
    receipt=WebhookReceipt._meta.db_table,
    columns=", ".join(field.column for field in _FIELDS),
)


def _take(limit: int, savepoints: bool) -> tuple[list[WebhookReceipt], bool]:
    """The oldest waiting receipts, locked (other workers skip them), and
    whether they are deleted already (see TAKE_SQL)."""
    connection = transaction.get_connection()
    if not savepoints and connection.vendor == "postgresql":
        with statement_cursor(connection.alias) as cursor:
            cursor.execute(TAKE_SQL, [limit])
            rows = cursor.fetchall()
        return sorted(_from_rows(rows, connection), key=lambda r: r.pk), True
    locked = (
        WebhookReceipt.objects.filter(failed_at__isnull=True)
        .select_for_update(skip_locked=True)
        .order_by("id")[:limit]
    )
    return list(locked), False


def _from_rows(rows, connection) -> list[WebhookReceipt]:
    """Receipts from TAKE_SQL's rows, read as the ORM reads them (its JSON
    columns decoded): a raw queryset spent a tenth of the worker's time per
    text working out, for every batch, what these columns are."""
    names = [field.attname for field in _FIELDS]
    decoders = [
        (index, field.from_db_value)
        for index, field in enumerate(_FIELDS)
        if hasattr(field, "from_db_value")
    ]
    receipts = []
    for row in rows:
        values = list(row)
        for index, decode in decoders:
            values[index] = decode(values[index], None, connection)
        receipts.append(WebhookReceipt.from_db(connection.alias, names, values))
    return receipts


def _process_batch(limit: int, savepoints: bool) -> int:
    with transaction.atomic():
        receipts, deleted = _take(limit, savepoints)
        done, failed = [], []
        for receipt in receipts:
            try:
                with transaction.atomic(savepoint=savepoints):
                    apply(parse_receipt(receipt), receipt.received_at.timestamp())
                done.append(receipt)
            except PERMANENT as exc:
                if not savepoints:
                    raise _ReceiptFailed from exc
                log.warning("webhook receipt %s cannot be applied: %s", receipt.pk, exc)
                failed.append((receipt.pk, str(exc)))
            except DatabaseError:
                raise  # the database failed: the whole batch again, later
            except Exception as exc:  # a bug: keep the webhook, and say why
                if not savepoints:
                    raise _ReceiptFailed from exc
                log.exception("webhook receipt %s failed", receipt.pk)
                failed.append((receipt.pk, f"{type(exc).__name__}: {exc}"))
        if done and not deleted:
            WebhookReceipt.objects.filter(pk__in=[r.pk for r in done]).delete()
        now = timezone.now()
        for pk, error in failed:
            WebhookReceipt.objects.filter(pk=pk).update(
                failed_at=now, error=error[:2000]
            )
    # Counted once the batch is committed: a batch taken back is applied again.
    for receipt in done:
        metrics.WEBHOOKS_APPLIED.labels(receipt.carrier, receipt.kind).inc()
    return len(receipts)


def retry(receipts) -> int:
    """Put failed receipts back in line (the admin's action, once mended)."""
    updated = receipts.filter(failed_at__isnull=False).update(failed_at=None, error="")
    if updated:
        doorbell.announce(doorbell.WEBHOOKS)
    return updated

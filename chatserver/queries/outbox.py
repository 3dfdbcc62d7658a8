"""How much waits to go out, and for how long: read when /metrics is scraped."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils import timezone

from chatserver.models import Message, WebhookReceipt

# A text waiting to be handed to its carrier, or being handed now.
WAITING = (Message.Status.QUEUED, Message.Status.SENDING)


@dataclass(frozen=True)
class OutboxFigures:
    depth: int  # texts queued or being sent (retries waiting for their time too)
    oldest_seconds: float  # how long the oldest of them has waited (0: none)
    webhooks_waiting: int  # stored webhooks the worker has yet to apply


def figures() -> OutboxFigures:
    """Three statements, each on an index (``outbox_idx``) or a small table."""
    waiting = Message.objects.filter(status__in=WAITING).aggregate(
        depth=Count("id"), oldest=Min("created_at")
    )
    oldest = waiting["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    receipts = WebhookReceipt.objects.filter(failed_at__isnull=True).count()
    return OutboxFigures(waiting["depth"], max(age, 0.0), receipts)
